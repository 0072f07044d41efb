"""Hostile test demo: Writes outside its temp dir, then swallows the error."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import DemoContext, DemoResult

TITLE = "escape_write"
DESCRIPTION = "Writes outside its temp dir, then swallows the error."
CLAIMS: dict[str, str] = {}


class Params(BaseModel):
    n: int = Field(1, ge=0, le=10, description="Unused")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    from pathlib import Path

    import app

    target = Path(app.__file__).resolve().parents[1] / "escaped-by-demo.txt"
    try:  # noqa: SIM105
        target.write_text("escaped")
    except OSError:
        pass  # a demo that hides the refusal is still reported
    return DemoResult(summary="wrote " + str(target))
