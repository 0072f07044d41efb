"""The demo panel a page embeds (``demo/_panel.html``): the demo's parameters as form
fields, and the panel's variables for a card. Pages and the demo routes both use it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from fastapi import Request

from app.services.demo_runs import DemoNotFound, DemoRunService
from app.web.templating import templates


def _service(request: Request) -> DemoRunService:
    return request.app.state.demo_service


def _number_field(name: str, prop: dict[str, Any], value: Any, label: str) -> dict[str, Any]:
    integer = prop.get("type") == "integer"
    low = prop.get("minimum", prop.get("exclusiveMinimum"))
    high = prop.get("maximum", prop.get("exclusiveMaximum"))
    field: dict[str, Any] = {"name": name, "label": label, "value": value, "integer": integer}
    if low is None or high is None:
        field.update(kind="number", step="1" if integer else "any", min=low, max=high)
        return field
    # Wide positive ranges (learning rates: 1e-4 .. 1) get a logarithmic slider.
    log_scale = not integer and low > 0 and high / low >= 100
    if log_scale:
        # The slider moves a position 0..1000; demo.js maps it to low * (high/low)^(pos/1000).
        position = round(1000 * math.log(max(value, low) / low) / math.log(high / low))
        field.update(kind="range", min=low, max=high, log=True, position=position)
    else:
        step = 1 if integer else _step(low, high)
        field.update(kind="range", min=low, max=high, step=step, log=False, position=value)
    return field


def _step(low: float, high: float) -> float:
    """A round step giving about 100-1000 slider positions."""
    span = high - low
    return 10 ** math.floor(math.log10(span / 100)) if span > 0 else 1


def param_fields(schema: dict[str, Any], values: dict[str, Any]) -> list[dict[str, Any]]:
    """Form controls from a Params JSON schema: sliders for bounded numbers, selects for
    Literal choices, checkboxes for booleans."""
    fields = []
    for name, prop in schema.get("properties", {}).items():
        label = prop.get("description") or prop.get("title") or name
        value = values.get(name, prop.get("default"))
        if "enum" in prop or "const" in prop:
            options = prop.get("enum") or [prop["const"]]
            fields.append(
                {"name": name, "label": label, "kind": "select", "options": options,
                 "value": value}
            )  # fmt: skip
        elif prop.get("type") == "boolean":
            fields.append({"name": name, "label": label, "kind": "checkbox", "value": value})
        elif prop.get("type") in ("integer", "number"):
            fields.append(_number_field(name, prop, value, label))
        else:
            fields.append({"name": name, "label": label, "kind": "text", "value": value})
    return fields


def demo_panel(
    request: Request,
    name_or_path: str,
    params: dict[str, Any] | None = None,
    proves: list[str] | None = None,
) -> dict[str, Any] | None:
    """The ``demo`` variable of ``demo/_panel.html``: for a card, pass its ``demo_path``,
    ``demo_params`` and ``demo_proves``. None when the demo does not exist."""
    name = name_or_path.rsplit("/", 1)[-1].removesuffix(".py")
    try:
        info = _service(request).catalog.get(name)
    except DemoNotFound:
        return None
    described = info.describe()
    values = {**described["defaults"], **(params or {})}
    return {
        "name": info.name,
        "title": info.spec.title,
        "description": info.spec.description,
        "params_schema": described["params_schema"],
        "params": values,
        "proves": list(proves or []),
        "claims": info.claims,
        "fields": param_fields(described["params_schema"], values),
        # The demo's code, shown read-only under the panel (a learner may run a copy).
        "source": _source(info.spec.path),
    }


def _source(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


templates.env.globals["demo_param_fields"] = param_fields
