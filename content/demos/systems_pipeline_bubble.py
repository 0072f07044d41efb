"""GPipe-style pipeline schedule simulated step by step: the bubble fraction."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Pipeline parallelism: the bubble"
TITLE_ZH = "流水线并行：气泡"
DESCRIPTION = (
    "Simulates a GPipe schedule of p stages and m micro-batches (all forwards, then all "
    "backwards; a backward takes twice a forward) time slot by time slot, and measures the "
    "share of stage-time left idle."
)
DESCRIPTION_ZH = (
    "按时间片模拟 p 个 stage、m 个 micro-batch 的 GPipe 调度（先全部前向，再全部反向；反向耗时是"
    "前向的两倍），测量 stage 空闲时间的占比。"
)
CLAIMS = {
    "bubble-matches-formula": ("The simulated idle share equals (p-1)/(m+p-1) (to 1e-9)."),
    "more-microbatches-shrink-bubble": ("With m >= 4p micro-batches the idle share is below 20%."),
}
CLAIMS_ZH = {
    "bubble-matches-formula": "模拟出的空闲占比等于 (p-1)/(m+p-1)（误差 1e-9 以内）。",
    "more-microbatches-shrink-bubble": "micro-batch 数 m >= 4p 时空闲占比低于 20%。",
}
CLAIM_SHOWN_WHEN = {
    "bubble-matches-formula": "any setting",
    "more-microbatches-shrink-bubble": "micro-batches >= 4 x stages",
}
CLAIM_SHOWN_WHEN_ZH = {
    "bubble-matches-formula": "任意设置",
    "more-microbatches-shrink-bubble": "micro-batch 数 >= 4 x stage 数",
}
TEXT_ZH = {
    "Idle share vs micro-batches": "空闲占比随 micro-batch 数的变化",
    "micro-batches m": "micro-batch 数 m",
    "idle share": "空闲占比",
    "simulated": "模拟值",
    "(p-1)/(m+p-1)": "(p-1)/(m+p-1)",
    "Schedule": "调度",
    "stage": "stage",
    "busy slots": "忙碌时间片",
    "idle slots": "空闲时间片",
    "Pipeline stages p": "流水线 stage 数 p",
    "Micro-batches m": "micro-batch 数 m",
}


class Params(BaseModel):
    stages: int = Field(4, ge=2, le=16, description="Pipeline stages p")
    microbatches: int = Field(16, ge=1, le=128, description="Micro-batches m")


def _simulate(p: int, m: int) -> tuple[float, list[int], int]:
    """Idle share, busy slots per stage, total slots. Unit time = one forward; backward = 2.

    A stage runs a micro-batch's forward once the previous stage has finished it, and
    backwards (after every forward, GPipe's flush) once the next stage has finished its own.
    """
    fwd_done = [[0] * m for _ in range(p)]
    for s in range(p):
        free = 0
        for j in range(m):
            start = max(free, fwd_done[s - 1][j] if s else 0)
            fwd_done[s][j] = free = start + 1
    last_fwd = max(fwd_done[s][m - 1] for s in range(p))
    bwd_done = [[0] * m for _ in range(p)]
    stage_free = [last_fwd] * p
    for s in reversed(range(p)):
        for j in range(m):
            ready = bwd_done[s + 1][j] if s < p - 1 else last_fwd
            start = max(stage_free[s], ready)
            bwd_done[s][j] = stage_free[s] = start + 2
    total = max(bwd_done[0])
    busy = [3 * m] * p
    idle = sum(total - b for b in busy)
    return idle / (total * p), busy, total


def run(params: Params, ctx: DemoContext) -> DemoResult:
    p, m = params.stages, params.microbatches
    share, busy, total = _simulate(p, m)
    formula = (p - 1) / (m + p - 1)
    sweep = [1, 2, 4, 8, 16, 32, 64]
    sim = [_simulate(p, k)[0] for k in sweep]
    theory = [(p - 1) / (k + p - 1) for k in sweep]
    four_p = _simulate(p, 4 * p)[0]

    claims = [
        Claim(
            id="bubble-matches-formula",
            text=CLAIMS["bubble-matches-formula"],
            passed=abs(share - formula) < 1e-9,
            values={"simulated": share, "formula": formula},
        ),
        Claim(
            id="more-microbatches-shrink-bubble",
            text=CLAIMS["more-microbatches-shrink-bubble"],
            passed=(share < 0.2) if m >= 4 * p else False,
            values={"idle_share": share, "idle_share_at_4p": four_p, "m_over_p": m / p},
        ),
    ]
    chart = Chart(
        id="bubble",
        title="Idle share vs micro-batches",
        x_label="micro-batches m",
        y_label="idle share",
        series=[
            Series(name="simulated", x=sweep, y=sim),
            Series(name="(p-1)/(m+p-1)", x=sweep, y=theory),
        ],
    )
    table = Table(
        title="Schedule",
        columns=["stage", "busy slots", "idle slots"],
        rows=[[s, busy[s], total - busy[s]] for s in range(p)],
    )
    return DemoResult(
        summary=(
            f"p = {p} stages, m = {m} micro-batches: {total} time slots, idle share "
            f"{share:.3f} (formula {formula:.3f})."
        ),
        summary_zh=(
            f"p = {p} 个 stage，m = {m} 个 micro-batch：共 {total} 个时间片，空闲占比 "
            f"{share:.3f}（公式 {formula:.3f}）。"
        ),
        metrics={"idle_share": share, "formula": formula, "time_slots": total},
        tables=[table],
        charts=[chart],
        claims=claims,
    )
