"""Learning-rate warm-up and a post-LN residual stack trained with Adam."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Warm-up: a post-LN stack under Adam at a high learning rate"
TITLE_ZH = "学习率预热：高学习率下用 Adam 训练 post-LN 残差堆叠"
DESCRIPTION = (
    "Trains a 6-block residual MLP with LayerNorm after each residual addition (post-LN) or "
    "before each branch (pre-LN) with Adam at the chosen learning rate, once at full learning "
    "rate from step 1 and once with a linear warm-up, and compares the loss curves."
)
DESCRIPTION_ZH = (
    "用 Adam 以给定学习率训练一个 6 个 block 的残差 MLP，LayerNorm 放在每次残差相加之后（post-LN）"
    "或每个分支之前（pre-LN）；一次从第 1 步就用全学习率，一次用线性预热，比较 loss 曲线。"
)
CLAIMS = {
    "no-warmup-fails": (
        "Without warm-up, the configured stack is stuck: its final loss stays above 0.3 (the "
        "targets' variance is about 0.5)."
    ),
    "warmup-trains": "With linear warm-up, the same stack at the same peak rate ends below 0.05.",
}
CLAIMS_ZH = {
    "no-warmup-fails": "不预热时，该网络训练卡住：最终 loss 高于 0.3（目标的方差约为 0.5）。",
    "warmup-trains": "线性预热时，同一个网络在同样的峰值学习率下最终 loss 低于 0.05。",
}
CLAIM_SHOWN_WHEN = {
    "no-warmup-fails": "post-LN with learning rate around 3e-2",
    "warmup-trains": "learning rate <= 3e-2",
}
CLAIM_SHOWN_WHEN_ZH = {
    "no-warmup-fails": "post-LN，学习率约 3e-2",
    "warmup-trains": "学习率 <= 3e-2",
}
TEXT_ZH = {
    "Training loss": "训练 loss",
    "step": "步数",
    "loss": "loss",
    "no warm-up": "不预热",
    "linear warm-up": "线性预热",
    "Final loss": "最终 loss",
    "run": "运行方式",
    "final loss": "最终 loss",
    "Peak learning rate (Adam)": "峰值学习率（Adam）",
    "Warm-up steps": "预热步数",
    "Where LayerNorm sits: after the residual add (post) or before the branch (pre)": (
        "LayerNorm 的位置：残差相加之后（post）或分支之前（pre）"
    ),
}


class Params(BaseModel):
    lr: float = Field(3e-2, ge=1e-4, le=1e-1, description="Peak learning rate (Adam)")
    warmup_steps: int = Field(50, ge=1, le=100, description="Warm-up steps")
    norm: Literal["post", "pre"] = Field(
        "post",
        description=(
            "Where LayerNorm sits: after the residual add (post) or before the branch (pre)"
        ),
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    device = torch.device(ctx.device)
    steps, depth, d = 100, 6, 32
    torch.manual_seed(ctx.seed)
    x = torch.randn(64, 16)
    y = torch.sin(x @ torch.randn(16, 1))
    x, y = x.to(device), y.to(device)

    def train(warmup: int) -> list[float]:
        torch.manual_seed(ctx.seed)
        blocks = nn.ModuleList(
            nn.Sequential(nn.Linear(d, 2 * d), nn.ReLU(), nn.Linear(2 * d, d)) for _ in range(depth)
        )
        norms = nn.ModuleList(nn.LayerNorm(d) for _ in range(depth))
        inp, head = nn.Linear(16, d), nn.Linear(d, 1)
        model = nn.ModuleList([blocks, norms, inp, head]).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=params.lr)
        losses = []
        for t in range(steps):
            for group in opt.param_groups:
                group["lr"] = params.lr * min(1.0, (t + 1) / warmup)
            h = inp(x)
            for block, norm in zip(blocks, norms, strict=True):
                h = norm(h + block(h)) if params.norm == "post" else h + block(norm(h))
            loss = nn.functional.mse_loss(head(h), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            value = float(loss.item())
            losses.append(value if value == value and value < 1e6 else 1e6)
        return losses

    ctx.progress(0.1, "no warm-up")
    cold = train(1)
    ctx.progress(0.55, "linear warm-up")
    warm = train(params.warmup_steps)
    cold_final, warm_final = min(cold[-10:]), min(warm[-10:])

    claims = [
        Claim(
            id="no-warmup-fails",
            text=CLAIMS["no-warmup-fails"],
            passed=cold_final > 0.3,
            values={"final_loss": cold_final, "target_variance": float(y.var())},
        ),
        Claim(
            id="warmup-trains",
            text=CLAIMS["warmup-trains"],
            passed=warm_final < 0.05,
            values={"final_loss": warm_final},
        ),
    ]
    xs = list(range(1, steps + 1))
    chart = Chart(
        id="loss",
        title="Training loss",
        x_label="step",
        y_label="loss",
        log_y=True,
        series=[
            Series(name="no warm-up", x=xs, y=[max(v, 1e-8) for v in cold]),
            Series(name="linear warm-up", x=xs, y=[max(v, 1e-8) for v in warm]),
        ],
    )
    table = Table(
        title="Final loss",
        columns=["run", "final loss"],
        rows=[["no warm-up", cold_final], ["linear warm-up", warm_final]],
    )
    return DemoResult(
        summary=(
            f"{params.norm}-LN, Adam lr {params.lr:g}: final loss {cold_final:.3f} without "
            f"warm-up, {warm_final:.4f} with {params.warmup_steps} warm-up steps."
        ),
        summary_zh=(
            f"{params.norm}-LN，Adam 学习率 {params.lr:g}：不预热最终 loss {cold_final:.3f}，"
            f"预热 {params.warmup_steps} 步后 {warm_final:.4f}。"
        ),
        metrics={"final_loss_no_warmup": cold_final, "final_loss_warmup": warm_final},
        tables=[table],
        charts=[chart],
        claims=claims,
    )
