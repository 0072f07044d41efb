"""What a demo module declares and returns.

A demo is a module in ``content/demos/<name>.py`` that defines:

- ``TITLE: str`` and ``DESCRIPTION: str`` (one sentence each),
- ``CLAIMS: dict[str, str]``, a *literal* dict of claim id -> the sentence it checks
  (read statically by the card loader, so ``proves:`` can be checked without running),
- ``class Params(pydantic.BaseModel)``: every field has a default and bounds
  (``ge``/``le`` for numbers, ``Literal`` for choices) and a ``description``,
- ``def run(params: Params, ctx: DemoContext) -> DemoResult``.

Optional literal constants (read statically too; the web process never executes a demo):

- ``TITLE_ZH``, ``DESCRIPTION_ZH``: the Chinese title and description;
- ``CLAIMS_ZH: dict[str, str]``: the same claim ids, in Chinese;
- ``CLAIM_SHOWN_WHEN`` / ``CLAIM_SHOWN_WHEN_ZH: dict[str, str]``: per claim id, the
  parameter range where the effect shows ("depth >= 10 with sigmoid"), told to the learner
  when the claim fails at the chosen parameters;
- ``TEXT_ZH: dict[str, str]``: Chinese for every fixed English string the result shows
  (chart titles, axis labels, series names, table titles and columns, metric names) and
  for each ``Params`` field's description;
- ``BENEFITS_FROM_GPU: bool`` (default False): the demo's point needs a GPU at full size
  (it runs a larger configuration when ``ctx.device`` is CUDA, with the same claims);
  other demos run on CPU workers even on a GPU host.

Random inputs are drawn on the CPU from the seed and then moved to ``ctx.device``
(``torch.manual_seed(ctx.seed); x = torch.randn(n).to(device)``), so a demo gives the
same numbers whatever the device.

``run`` reports one ``Claim`` for every id in ``CLAIMS``. The top level of a demo
module never imports torch (import it inside functions), so the web process can
load ``Params`` cheaply. Demos seed from ``ctx.seed`` and compute on ``ctx.device``.
Demos are reviewed code; learners only pick parameter values inside the bounds.
This module imports no torch, so the web process can validate parameters and
render results without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

Scalar = float | int | str | bool


class Claim(BaseModel):
    """One sentence of a card, checked by the demo's own computation."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    text: str
    passed: bool
    values: dict[str, Scalar] = Field(default_factory=dict)


class Series(BaseModel):
    name: str
    x: list[float]
    y: list[float]


class Chart(BaseModel):
    id: str
    title: str
    kind: Literal["line", "bar"] = "line"
    x_label: str = ""
    y_label: str = ""
    log_y: bool = False
    series: list[Series]
    # Bar charts name their x positions; line charts use the numeric x values.
    categories: list[str] = Field(default_factory=list)


class Table(BaseModel):
    title: str
    columns: list[str]
    rows: list[list[Scalar]]


class DemoResult(BaseModel):
    summary: str
    summary_zh: str = ""  # the same summary in Chinese, for Chinese pages
    metrics: dict[str, Scalar] = Field(default_factory=dict)
    tables: list[Table] = Field(default_factory=list)
    charts: list[Chart] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)

    def claim(self, claim_id: str) -> Claim | None:
        return next((c for c in self.claims if c.id == claim_id), None)


def _no_progress(fraction: float, message: str = "") -> None:
    return None


@dataclass
class DemoContext:
    """What the runner hands a demo: where to compute, how to seed, how to report progress."""

    device: str = "cpu"
    seed: int = 0
    progress: Callable[[float, str], None] = field(default=_no_progress)
