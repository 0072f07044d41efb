"""Hostile test demo: Writes inside its temp dir (allowed)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import DemoContext, DemoResult

TITLE = "temp_write"
DESCRIPTION = "Writes inside its temp dir (allowed)."
CLAIMS: dict[str, str] = {}


class Params(BaseModel):
    n: int = Field(1, ge=0, le=10, description="Unused")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import os
    import tempfile

    with open("scratch.txt", "w") as f:
        f.write("ok")
    with tempfile.NamedTemporaryFile() as f:
        f.write(b"ok")
    return DemoResult(summary=os.getcwd())
