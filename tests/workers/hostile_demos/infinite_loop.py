"""Hostile test demo: An infinite loop."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import DemoContext, DemoResult

TITLE = "infinite_loop"
DESCRIPTION = "An infinite loop."
CLAIMS: dict[str, str] = {}


class Params(BaseModel):
    n: int = Field(1, ge=0, le=10, description="Unused")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    while True:
        pass
