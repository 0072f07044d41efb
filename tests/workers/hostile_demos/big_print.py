"""Hostile test demo: Prints 100 MB."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import DemoContext, DemoResult

TITLE = "big_print"
DESCRIPTION = "Prints 100 MB."
CLAIMS: dict[str, str] = {}


class Params(BaseModel):
    n: int = Field(1, ge=0, le=10, description="Unused")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    chunk = "x" * (1024 * 1024)
    for _ in range(100):
        print(chunk)
    return DemoResult(summary="printed")
