"""ZeRO stages simulated over N workers: per-worker memory, and a sharded Adam step."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "ZeRO / FSDP: sharding optimizer states, gradients and parameters"
TITLE_ZH = "ZeRO / FSDP：切分优化器状态、梯度和参数"
DESCRIPTION = (
    "Shards a model's fp32 master weights and Adam states (and, by stage, its 16-bit gradients "
    "and weights) over N simulated workers, counts each worker's bytes for ZeRO stages 0-3, and "
    "checks that an Adam step taken shard by shard equals the unsharded step."
)
DESCRIPTION_ZH = (
    "把模型的 fp32 主权重和 Adam 状态（按 stage 还有 16 位梯度和权重）切分到 N 个模拟的 worker 上，"
    "统计 ZeRO stage 0-3 每个 worker 的字节数，并检查逐个分片做的 Adam 更新与不切分的更新相同。"
)
CLAIMS = {
    "sharded-adam-step-matches": (
        "An Adam step where each worker updates only its shard (after a reduce-scatter of the "
        "gradients) gives the same weights as the unsharded step (max abs difference below 1e-6)."
    ),
    "stage-memory-matches-formula": (
        "Counted bytes per worker match 16P (stage 0), 4P + 12P/N (stage 1), 2P + 14P/N "
        "(stage 2) and 16P/N (stage 3) for P parameters, up to shard rounding."
    ),
    "stage3-scales-with-workers": (
        "At stage 3, doubling N halves the bytes per worker (ratio within 1.9 to 2.1)."
    ),
}
CLAIMS_ZH = {
    "sharded-adam-step-matches": (
        "每个 worker 只更新自己分片的 Adam step（梯度先做 reduce-scatter）得到的权重与不切分的 ste"
        "p "
        "相同（最大绝对误差小于 1e-6）。"
    ),
    "stage-memory-matches-formula": (
        "P 个参数时，统计出的每个 worker 字节数符合 16P（stage 0）、4P + 12P/N（stage 1）、"
        "2P + 14P/N（stage 2）和 16P/N（stage 3），误差仅来自分片取整。"
    ),
    "stage3-scales-with-workers": (
        "stage 3 下 N 翻倍，每个 worker 的字节数减半（比值在 1.9 到 2.1 之间）。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "sharded-adam-step-matches": "any setting",
    "stage-memory-matches-formula": "any setting",
    "stage3-scales-with-workers": "any setting",
}
CLAIM_SHOWN_WHEN_ZH = {
    "sharded-adam-step-matches": "任意设置",
    "stage-memory-matches-formula": "任意设置",
    "stage3-scales-with-workers": "任意设置",
}
TEXT_ZH = {
    "Bytes per worker by ZeRO stage": "各 ZeRO stage 下每个 worker 的字节数",
    "stage": "stage",
    "bytes per parameter per worker": "每个 worker 每参数的字节数",
    "counted": "统计值",
    "formula": "公式值",
    "Memory per worker": "每个 worker 的显存",
    "bytes per worker": "每个 worker 的字节数",
    "Number of workers N": "worker 数 N",
    "Model parameters P": "模型参数量 P",
}


class Params(BaseModel):
    workers: int = Field(8, ge=2, le=64, description="Number of workers N")
    parameters: int = Field(65536, ge=1024, le=1048576, description="Model parameters P")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    n, p = params.workers, params.parameters
    torch.manual_seed(ctx.seed)
    weights = torch.randn(p).to(ctx.device)
    # Each worker's local gradient on its own data; data parallelism averages them.
    local_grads = [torch.randn(p).to(ctx.device) for _ in range(n)]

    # Unsharded reference: every worker all-reduces the full gradient and steps everything.
    ref = weights.clone().requires_grad_(True)
    opt = torch.optim.Adam([ref], lr=1e-2)
    ref.grad = torch.stack(local_grads).mean(0)
    opt.step()

    # Sharded: reduce-scatter gives worker i the averaged gradient of its shard only; each
    # worker keeps Adam states for its shard and steps it; an all-gather rebuilds the weights.
    shards = list(weights.clone().tensor_split(n))
    grad_shards = list(torch.stack(local_grads).mean(0).tensor_split(n))
    new_shards = []
    for w, g in zip(shards, grad_shards, strict=True):
        w = w.clone().requires_grad_(True)
        shard_opt = torch.optim.Adam([w], lr=1e-2)
        w.grad = g
        shard_opt.step()
        new_shards.append(w.detach())
    sharded = torch.cat(new_shards)
    diff = float((sharded - ref.detach()).abs().max())

    def counted(stage: int, workers: int) -> float:
        """Bytes the largest worker holds at this stage, from the actual shard sizes."""
        shard = max(t.numel() for t in torch.empty(p).tensor_split(workers))
        fp32_weights_and_adam = 4 * 3 * (shard if stage >= 1 else p)
        grads16 = 2 * (shard if stage >= 2 else p)
        weights16 = 2 * (shard if stage >= 3 else p)
        return float(fp32_weights_and_adam + grads16 + weights16)

    def formula(stage: int, workers: int) -> float:
        return {
            0: 16 * p,
            1: 4 * p + 12 * p / workers,
            2: 2 * p + 14 * p / workers,
            3: 16 * p / workers,
        }[stage]

    stages = [0, 1, 2, 3]
    counts = [counted(s, n) for s in stages]
    formulas = [formula(s, n) for s in stages]
    close = all(abs(c - f) <= 16 * n for c, f in zip(counts, formulas, strict=True))
    ratio = counted(3, n) / counted(3, 2 * n)

    claims = [
        Claim(
            id="sharded-adam-step-matches",
            text=CLAIMS["sharded-adam-step-matches"],
            passed=diff < 1e-6,
            values={"max_abs_difference": diff},
        ),
        Claim(
            id="stage-memory-matches-formula",
            text=CLAIMS["stage-memory-matches-formula"],
            passed=close,
            values={
                f"stage{s}_bytes_per_param": c / p for s, c in zip(stages, counts, strict=True)
            },
        ),
        Claim(
            id="stage3-scales-with-workers",
            text=CLAIMS["stage3-scales-with-workers"],
            passed=1.9 <= ratio <= 2.1,
            values={"ratio": ratio},
        ),
    ]
    chart = Chart(
        id="bytes-by-stage",
        title="Bytes per worker by ZeRO stage",
        kind="bar",
        x_label="stage",
        y_label="bytes per parameter per worker",
        categories=[f"stage {s}" for s in stages],
        series=[
            Series(name="counted", x=stages, y=[c / p for c in counts]),
            Series(name="formula", x=stages, y=[f / p for f in formulas]),
        ],
    )
    table = Table(
        title="Memory per worker",
        columns=["stage", "bytes per worker", "bytes per parameter per worker"],
        rows=[[s, int(c), c / p] for s, c in zip(stages, counts, strict=True)],
    )
    return DemoResult(
        summary=(
            f"P = {p}, N = {n}: bytes per parameter per worker "
            + ", ".join(f"stage {s} {c / p:.2f}" for s, c in zip(stages, counts, strict=True))
            + f"; sharded Adam step differs by {diff:.1e}."
        ),
        summary_zh=(
            f"P = {p}，N = {n}：每个 worker 每参数字节数 "
            + "，".join(f"stage {s} {c / p:.2f}" for s, c in zip(stages, counts, strict=True))
            + f"；分片 Adam step 的差异为 {diff:.1e}。"
        ),
        metrics={
            "max_abs_difference": diff,
            **{f"stage{s}_bytes_per_param": c / p for s, c in zip(stages, counts, strict=True)},
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
