"""Hostile test demo: Allocates memory without end."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import DemoContext, DemoResult

TITLE = "memory_bomb"
DESCRIPTION = "Allocates memory without end."
CLAIMS: dict[str, str] = {}


class Params(BaseModel):
    n: int = Field(1, ge=0, le=10, description="Unused")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    hoard = []
    while True:
        hoard.append(torch.ones(64 * 1024 * 1024, dtype=torch.uint8))
