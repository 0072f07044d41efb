"""Find and load the demo modules under ``content/demos/``.

Demo modules keep their top level free of torch (``import torch`` lives inside
functions), so loading one to read its ``Params`` is cheap and safe in the web
process; only ``run`` touches torch, and only workers call it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from pydantic import BaseModel

from app.demos.contract import DemoContext, DemoResult


class DemoError(Exception):
    """A demo module that breaks the contract; the message names the file."""


@dataclass(frozen=True)
class DemoSpec:
    name: str
    path: Path
    title: str
    description: str
    params_model: type[BaseModel]
    code_hash: str
    run: Callable[[BaseModel, DemoContext], DemoResult]

    def params_schema(self) -> dict:
        return self.params_model.model_json_schema()


def demo_dir(content_dir: Path) -> Path:
    return content_dir / "demos"


def _import_file(name: str, path: Path) -> ModuleType:
    module_name = f"backprop_demo_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise DemoError(f"{path}: not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    # Registered so pydantic can resolve the module's own annotations.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise DemoError(f"{path}: import failed: {type(exc).__name__}: {exc}") from exc
    return module


def load_demo(path: Path) -> DemoSpec:
    """Imports one demo file and checks it has TITLE, Params and run."""
    path = Path(path)
    name = path.stem
    code = path.read_bytes()
    module = _import_file(name, path)
    params_model = getattr(module, "Params", None)
    if not (isinstance(params_model, type) and issubclass(params_model, BaseModel)):
        raise DemoError(f"{path}: defines no `class Params(BaseModel)`")
    run = getattr(module, "run", None)
    if not callable(run):
        raise DemoError(f"{path}: defines no `run(params, ctx)` function")
    try:
        params_model()
    except Exception as exc:
        raise DemoError(f"{path}: Params() has a field without a valid default: {exc}") from exc
    return DemoSpec(
        name=name,
        path=path,
        title=str(getattr(module, "TITLE", name)),
        description=str(getattr(module, "DESCRIPTION", "")),
        params_model=params_model,
        code_hash=hashlib.sha256(code).hexdigest(),
        run=run,
    )
