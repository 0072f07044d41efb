"""Hostile test demo: Calls os.abort()."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import DemoContext, DemoResult

TITLE = "aborts"
DESCRIPTION = "Calls os.abort()."
CLAIMS: dict[str, str] = {}


class Params(BaseModel):
    n: int = Field(1, ge=0, le=10, description="Unused")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import os

    os.abort()
