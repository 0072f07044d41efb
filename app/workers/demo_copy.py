"""A learner's edited copy of a demo, run inside the judge's sandbox (the child side).

The copy is hostile code like any submission: it runs in a fresh, throw-away sandboxed
process with the judge's limits, never in a demo worker and never against the shared
demo file or its result cache. The child only executes it and sends back the result as
JSON text; the trusted parent (``demo_outcome``) parses and validates it.
"""

from __future__ import annotations

import json
import sys
import types
from typing import Any

MODULE = "learner_demo_copy"


def run_demo_source(source: str, params: dict[str, Any], max_chars: int) -> dict[str, Any]:
    """Executes the copy, validates ``params`` with its ``Params`` and calls ``run``.
    Returns ``{"demo_json": text}`` or ``{"error": ..., "reason": "error"}``."""
    from app.demos.contract import DemoContext

    module = types.ModuleType(MODULE)
    module.__file__ = "demo.py"
    sys.modules[MODULE] = module  # pydantic resolves the module's annotations through it
    try:
        exec(compile(source, "demo.py", "exec"), module.__dict__)  # noqa: S102 - sandboxed
    except SyntaxError as exc:
        return {"error": f"SyntaxError: line {exc.lineno}: {exc.msg}", "reason": "error"}
    params_model = getattr(module, "Params", None)
    run = getattr(module, "run", None)
    if params_model is None or not callable(run):
        return {"error": "the demo must define `class Params` and `def run(params, ctx)`",
                "reason": "error"}  # fmt: skip
    result = run(params_model.model_validate(params), DemoContext(device="cpu", seed=0))
    dumped = result.model_dump(mode="json") if hasattr(result, "model_dump") else result
    text = json.dumps(dumped, allow_nan=False, default=str)
    if len(text) > max_chars:
        return {"error": f"the result is larger than {max_chars:,} characters", "reason": "output"}
    return {"demo_json": text}


def demo_outcome(result: Any, seconds: float) -> dict[str, Any]:
    """The trusted parent's reading of the child's result: ``ok`` with the validated
    DemoResult as JSON values, or ``ok: False`` with a reason and a sentence."""
    from pydantic import ValidationError

    from app.demos.contract import DemoResult

    def failed(reason: str, message: str) -> dict[str, Any]:
        return {"ok": False, "reason": reason, "message": message[:2000], "seconds": seconds}

    if not isinstance(result, dict):
        return failed("crashed", "The demo's process sent a malformed result.")
    if "error" in result:
        reason = (
            result.get("reason")
            if result.get("reason") in ("error", "memory", "output")
            else "error"
        )
        return failed(str(reason), str(result["error"]))
    text = result.get("demo_json")
    if not isinstance(text, str):
        return failed("crashed", "The demo's process sent a malformed result.")
    try:
        parsed = DemoResult.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return failed("error", f"run() must return a DemoResult: {where}: {first['msg']}")
    return {"ok": True, "reason": "succeeded", "message": parsed.summary,
            "result": parsed.model_dump(mode="json"), "seconds": seconds}  # fmt: skip
