"""LoRA: parameter count, zero-initialised B, fitting a low-rank update, and merging."""

# ruff: noqa: E501  (Chinese strings count double width; splitting them hurts reading)

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "LoRA: r(d_in + d_out) parameters, unchanged at step 0"
DESCRIPTION = (
    "Adds a rank-r LoRA adapter to a frozen linear layer, counts its trainable parameters, "
    "checks the output at step 0, trains it to match a fine-tuned layer whose update has a "
    "given rank, and merges it back into the weight."
)
TITLE_ZH = "LoRA：r(d_in + d_out) 个参数，第 0 步输出不变"
DESCRIPTION_ZH = (
    "给一个冻结的线性层加上秩为 r 的 LoRA 适配器，统计可训练参数，检查第 0 步的输出，"
    "训练它去拟合一个更新量有给定秩的微调后层，再把它合并回权重。"
)
CLAIMS = {
    "lora-param-count": (
        "The adapter's trainable parameters are exactly r (d_in + d_out), against d_in x d_out "
        "for full fine-tuning of the layer."
    ),
    "zero-b-unchanged-at-start": (
        "With the configured initialization, the adapted layer's output at step 0 equals the "
        "frozen layer's exactly."
    ),
    "rank-r-fits-low-rank-update": (
        "With the configured rank, training only A and B reduces the loss to below 2% of its "
        "starting value on a target whose weight update has rank true_rank."
    ),
    "merge-is-exact": (
        "After training, merging W + (alpha / r) B A into one matrix gives the same outputs as "
        "the adapter path (max difference below 1e-9), so inference costs nothing extra."
    ),
}
CLAIMS_ZH = {
    "lora-param-count": "适配器的可训练参数正好是 r(d_in + d_out)，而对这一层做全量微调是 d_in x d_out。",
    "zero-b-unchanged-at-start": "在所选初始化下，加了适配器的层在第 0 步的输出与冻结层完全相同。",
    "rank-r-fits-low-rank-update": "在所选秩下，只训练 A 和 B，就能在权重更新秩为 true_rank 的目标上把损失降到初始值的 2% 以下。",
    "merge-is-exact": "训练后把 W + （alpha / r） B A 合并成一个矩阵，输出与适配器路径相同（最大差异小于 1e-9），推理没有额外开销。",
}
CLAIM_SHOWN_WHEN = {
    "lora-param-count": "always",
    "zero-b-unchanged-at-start": "init_b = zero",
    "rank-r-fits-low-rank-update": "rank >= true_rank",
    "merge-is-exact": "always",
}
CLAIM_SHOWN_WHEN_ZH = {
    "lora-param-count": "总成立",
    "zero-b-unchanged-at-start": "init_b = zero",
    "rank-r-fits-low-rank-update": "rank >= true_rank",
    "merge-is-exact": "总成立",
}
TEXT_ZH = {
    "Training loss of the adapter": "适配器的训练损失",
    "step": "步数",
    "mean squared error": "均方误差",
    "loss": "损失",
    "Trainable parameters, one layer": "可训练参数（单层）",
    "method": "方法",
    "trainable parameters": "可训练参数",
    "share of the layer": "占该层的比例",
    "full fine-tuning": "全量微调",
    "Trainable parameters in a Llama-2-7B-shaped model (32 layers, d = 4096)": (
        "Llama-2-7B 形状模型的可训练参数（32 层，d = 4096）"
    ),
    "share of 6.74B": "占 67.4 亿的比例",
    "Adapter rank r": "适配器的秩 r",
    "Rank of the update that the target (fine-tuned) layer adds to the frozen weight": (
        "目标（微调后）层在冻结权重上所加更新的秩"
    ),
    "Initialization of B: zero (LoRA) or random": "B 的初始化：zero（LoRA 的做法）或 random",
    "Input width d_in": "输入宽度 d_in",
    "Output width d_out": "输出宽度 d_out",
    "Training steps (Adam)": "训练步数（Adam）",
}


class Params(BaseModel):
    rank: int = Field(4, ge=1, le=32, description="Adapter rank r")
    true_rank: int = Field(
        4,
        ge=1,
        le=32,
        description="Rank of the update that the target (fine-tuned) layer adds to the frozen weight",
    )
    init_b: Literal["zero", "random"] = Field(
        "zero", description="Initialization of B: zero (LoRA) or random"
    )
    d_in: int = Field(64, ge=8, le=256, description="Input width d_in")
    d_out: int = Field(48, ge=8, le=256, description="Output width d_out")
    steps: int = Field(400, ge=0, le=2000, description="Training steps (Adam)")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    dt = torch.float64
    r, d_in, d_out = params.rank, params.d_in, params.d_out
    alpha = 2.0 * r  # the common alpha = 2r, so the scale alpha / r is 2

    w0 = (torch.randn(d_out, d_in, dtype=dt) / d_in**0.5).to(device)
    # The target: a fine-tuned layer whose change from w0 has rank true_rank.
    u = torch.randn(d_out, params.true_rank, dtype=dt)
    v = torch.randn(params.true_rank, d_in, dtype=dt)
    delta = (0.5 * u @ v / (params.true_rank * d_in) ** 0.5).to(device)
    x = torch.randn(512, d_in, dtype=dt).to(device)
    y = x @ (w0 + delta).T

    a = (torch.randn(r, d_in, dtype=dt) / d_in**0.5).to(device).requires_grad_()
    b_init = (
        torch.zeros(d_out, r, dtype=dt)
        if params.init_b == "zero"
        else torch.randn(d_out, r, dtype=dt) / r**0.5
    )
    b = b_init.to(device).requires_grad_()
    scale = alpha / r

    def adapted(inp: torch.Tensor) -> torch.Tensor:
        return inp @ w0.T + scale * (inp @ a.T) @ b.T

    trainable = a.numel() + b.numel()
    with torch.no_grad():
        start_diff = float((adapted(x) - x @ w0.T).abs().max())
        start_loss = float(((adapted(x) - y) ** 2).mean())

    ctx.progress(0.2, "training A and B")
    opt = torch.optim.Adam([a, b], lr=0.01)
    losses, steps_at = [start_loss], [0.0]
    for step in range(1, params.steps + 1):
        opt.zero_grad()
        loss = ((adapted(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        if step % 10 == 0 or step == params.steps:
            losses.append(float(loss.detach()))
            steps_at.append(float(step))
    with torch.no_grad():
        final_loss = float(((adapted(x) - y) ** 2).mean())
        merged = w0 + scale * b @ a
        merge_diff = float((x @ merged.T - adapted(x)).abs().max())
        update_rank = int(torch.linalg.matrix_rank(scale * b @ a))

    # Parameter counts for a Llama-2-7B-shaped model (d = 4096, 32 layers, FFN 11008).
    d, layers, total = 4096, 32, 6.74e9
    lora_qv = layers * 2 * 8 * (d + d)
    lora_all = layers * 8 * (4 * (d + d) + 3 * (d + 11008))
    adapters = layers * 2 * (2 * d * 64 + 64 + d)  # two bottleneck adapters (m = 64) per layer
    prompt = 20 * d  # 20 soft-prompt vectors
    ctx.progress(0.9, "summarizing")
    claims = [
        Claim(
            id="lora-param-count",
            text=CLAIMS["lora-param-count"],
            passed=bool(trainable == r * (d_in + d_out)),
            values={"trainable": trainable, "formula": r * (d_in + d_out), "full": d_in * d_out},
        ),
        Claim(
            id="zero-b-unchanged-at-start",
            text=CLAIMS["zero-b-unchanged-at-start"],
            passed=bool(start_diff == 0.0),
            values={"max_output_change": start_diff, "init_b": params.init_b},
        ),
        Claim(
            id="rank-r-fits-low-rank-update",
            text=CLAIMS["rank-r-fits-low-rank-update"],
            passed=bool(final_loss < 0.02 * start_loss),
            values={
                "rank": r,
                "true_rank": params.true_rank,
                "final_over_start": final_loss / start_loss,
            },
        ),
        Claim(
            id="merge-is-exact",
            text=CLAIMS["merge-is-exact"],
            passed=bool(merge_diff < 1e-9),
            values={"max_difference": merge_diff, "learned_update_rank": update_rank},
        ),
    ]
    return DemoResult(
        summary=(
            f"Rank {r} adapter: {trainable} trainable parameters vs {d_in * d_out} for the full "
            f"layer; output change at step 0 {start_diff:.1e}; loss {start_loss:.4f} -> "
            f"{final_loss:.2e} on a rank-{params.true_rank} update; merge difference "
            f"{merge_diff:.1e}."
        ),
        summary_zh=(
            f"秩 {r} 的适配器：可训练参数 {trainable} 个，整层为 {d_in * d_out} 个；第 0 步输出变化 "
            f"{start_diff:.1e}；在秩为 {params.true_rank} 的更新上损失 {start_loss:.4f} -> "
            f"{final_loss:.2e}；合并后差异 {merge_diff:.1e}。"
        ),
        metrics={
            "trainable_params": trainable,
            "full_params": d_in * d_out,
            "start_output_change": start_diff,
            "start_loss": start_loss,
            "final_loss": final_loss,
            "merge_difference": merge_diff,
        },
        tables=[
            Table(
                title="Trainable parameters, one layer",
                columns=["method", "trainable parameters", "share of the layer"],
                rows=[
                    ["full fine-tuning", d_in * d_out, 1.0],
                    [f"LoRA r = {r}", trainable, trainable / (d_in * d_out)],
                ],
            ),
            Table(
                title="Trainable parameters in a Llama-2-7B-shaped model (32 layers, d = 4096)",
                columns=["method", "trainable parameters", "share of 6.74B"],
                rows=[
                    ["full fine-tuning", int(total), 1.0],
                    ["LoRA r = 8 on q, v", lora_qv, lora_qv / total],
                    ["LoRA r = 8 on all linear layers", lora_all, lora_all / total],
                    ["bottleneck adapters m = 64, two per layer", adapters, adapters / total],
                    ["prompt tuning, 20 virtual tokens", prompt, prompt / total],
                ],
            ),
        ],
        charts=[
            Chart(
                id="loss",
                title="Training loss of the adapter",
                x_label="step",
                y_label="mean squared error",
                log_y=True,
                series=[Series(name="loss", x=steps_at, y=[max(v, 1e-30) for v in losses])],
            )
        ],
        claims=claims,
    )
