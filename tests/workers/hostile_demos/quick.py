"""A well-behaved, fast demo: the control case for the hostile ones."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Claim, DemoContext, DemoResult

TITLE = "Quick"
DESCRIPTION = "Adds two numbers with torch."
CLAIMS = {"sum-correct": "a + b is computed exactly."}


class Params(BaseModel):
    a: float = Field(1.0, ge=-100, le=100, description="First number")
    b: float = Field(2.0, ge=-100, le=100, description="Second number")
    steps: int = Field(3, ge=1, le=10, description="Progress steps")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    for i in range(params.steps):
        ctx.progress((i + 1) / params.steps, f"step {i + 1}")
    total = float(torch.tensor(params.a) + torch.tensor(params.b))
    print("sum", total)
    return DemoResult(
        summary=f"{params.a} + {params.b} = {total}",
        metrics={"sum": total, "seeded": float(torch.rand(1))},
        claims=[
            Claim(id="sum-correct", text=CLAIMS["sum-correct"], passed=total == params.a + params.b)
        ],
    )
