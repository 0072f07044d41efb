"""Hostile test demo: Sleeps for a while."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import DemoContext, DemoResult

TITLE = "sleepy"
DESCRIPTION = "Sleeps for a while."
CLAIMS: dict[str, str] = {}


class Params(BaseModel):
    seconds: float = Field(0.2, ge=0, le=30, description="Seconds to sleep")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import time

    time.sleep(params.seconds)
    return DemoResult(summary="slept")
