"""Counts ReLU units that die during training: zero on every input, so zero gradient forever."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Dying ReLU"
DESCRIPTION = (
    "Trains a one-hidden-layer network with SGD and tracks the share of hidden units whose "
    "incoming weights get exactly zero gradient on the whole training set (dead units)."
)
CLAIMS = {
    "many-units-die": (
        "With the configured activation, learning rate and inputs, training kills at least 30% of "
        "the hidden units, more than were dead at initialization."
    ),
    "dead-units-stay-dead": (
        "Units that are dead after training get exactly zero gradient on every training input and "
        "are still dead after 100 more training steps: plain gradient descent never revives them."
    ),
}
TITLE_ZH = "ReLU 死亡"
DESCRIPTION_ZH = (
    "用 SGD 训练一个单隐层网络，跟踪在整个训练集上输入权重梯度恰好为零的隐藏单元（死单元）所占比"
    "例。"
)
CLAIMS_ZH = {
    "many-units-die": (
        "在所设的激活函数、学习率和输入下，训练使至少 30% 的隐藏单元死亡，多于初始化时的死单元。"
    ),
    "dead-units-stay-dead": (
        "训练后死亡的单元在每个训练输入上梯度都恰好为零，再训练 100 步后仍然是死的：普通梯度下降"
        "无法让它们复活。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "many-units-die": "activation relu with raw-positive inputs and lr >= 0.1 (the defaults)",
    "dead-units-stay-dead": "activation relu (a Leaky ReLU unit never dies)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "many-units-die": "activation 为 relu、输入为 raw-positive 且 lr >= 0.1（默认设置）",
    "dead-units-stay-dead": "activation 为 relu（Leaky ReLU 单元不会死亡）",
}
TEXT_ZH = {
    "Hidden activation (Leaky ReLU slope 0.1)": "隐藏层激活函数（Leaky ReLU 斜率 0.1）",
    "SGD learning rate": "SGD 学习率",
    "Raw inputs in [0, 3] (all positive), or the same inputs standardized to mean 0, std 1": (
        "原始输入在 [0, 3] 内（全为正），或把同样的输入标准化为均值 0、标准差 1"
    ),
    "Hidden units": "隐藏单元数",
    "SGD steps (batch 32)": "SGD 步数（批大小 32）",
    "Dead units": "死亡单元",
    "moment": "时刻",
    "dead units": "死亡单元数",
    "of": "总数",
    "initialization": "初始化时",
    "after 100 more steps": "再训练 100 步后",
    "Share of dead hidden units during training": "训练中死亡隐藏单元的比例",
    "step": "步数",
    "dead fraction": "死亡比例",
    "Training loss (batch of 32)": "训练损失（批大小 32）",
    "MSE": "MSE",
    "loss": "损失",
}


class Params(BaseModel):
    activation: Literal["relu", "leaky_relu"] = Field(
        "relu", description="Hidden activation (Leaky ReLU slope 0.1)"
    )
    lr: float = Field(0.2, ge=0.001, le=0.5, description="SGD learning rate")
    inputs: Literal["raw-positive", "standardized"] = Field(
        "raw-positive",
        description=(
            "Raw inputs in [0, 3] (all positive), or the same inputs standardized to mean 0, std 1"
        ),
    )
    width: int = Field(64, ge=4, le=256, description="Hidden units")
    steps: int = Field(200, ge=10, le=1000, description="SGD steps (batch 32)")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    n, d = 256, 10
    x = torch.rand(n, d).to(device) * 3
    y = torch.sin(x[:, :3].sum(1, keepdim=True))
    if params.inputs == "standardized":
        x = (x - x.mean(0)) / x.std(0)

    l1, l2 = nn.Linear(d, params.width).to(device), nn.Linear(params.width, 1).to(device)
    act = nn.ReLU() if params.activation == "relu" else nn.LeakyReLU(0.1)
    model = nn.Sequential(l1, act, l2)
    opt = torch.optim.SGD(model.parameters(), lr=params.lr)

    def dead_mask() -> torch.Tensor:
        """Units whose incoming weights get exactly zero gradient on the full training set."""
        model.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        g = l1.weight.grad.abs().sum(1) + l1.bias.grad.abs()
        mask = g == 0
        model.zero_grad()
        return mask

    def train(steps: int, losses: list[float], dead_curve: list[float]) -> None:
        for step in range(steps):
            idx = torch.randint(0, n, (32,)).to(device)
            opt.zero_grad()
            loss = ((model(x[idx]) - y[idx]) ** 2).mean()
            loss.backward()
            opt.step()
            v = float(loss.item())
            losses.append(
                v if v == v and v < 1e6 else 1e6
            )  # keep the chart finite if training diverges
            if step % 10 == 9:
                dead_curve.append(float(dead_mask().float().mean().item()))

    dead_init = float(dead_mask().float().mean().item())
    losses: list[float] = []
    dead_curve: list[float] = [dead_init]
    ctx.progress(0.1, "training")
    train(params.steps, losses, dead_curve)
    after = dead_mask()
    dead_after = float(after.float().mean().item())
    w_before = l1.weight.detach()[after].clone()

    ctx.progress(0.7, "100 more steps")
    extra_losses: list[float] = []
    train(100, extra_losses, [])
    still = dead_mask()
    stayed = bool(after.any()) and bool(still[after].all())
    unchanged = bool(torch.equal(l1.weight.detach()[after], w_before))

    charts = [
        Chart(
            id="dead-fraction",
            title="Share of dead hidden units during training",
            x_label="step",
            y_label="dead fraction",
            series=[
                Series(
                    name=params.activation,
                    x=[float(10 * i) for i in range(len(dead_curve))],
                    y=dead_curve,
                )
            ],
        ),
        Chart(
            id="loss",
            title="Training loss (batch of 32)",
            x_label="step",
            y_label="MSE",
            log_y=True,
            series=[
                Series(
                    name="loss",
                    x=[float(i + 1) for i in range(len(losses))],
                    y=[max(v, 1e-8) for v in losses],
                )
            ],
        ),
    ]
    table = Table(
        title="Dead units",
        columns=["moment", "dead units", "of"],
        rows=[
            ["initialization", round(dead_init * params.width), params.width],
            [f"after {params.steps} steps", int(after.sum().item()), params.width],
            ["after 100 more steps", int(still.sum().item()), params.width],
        ],
    )
    claims = [
        Claim(
            id="many-units-die",
            text=CLAIMS["many-units-die"],
            passed=bool(dead_after >= 0.3 and dead_after > dead_init),
            values={"dead_at_init": dead_init, "dead_after_training": dead_after, "lr": params.lr},
        ),
        Claim(
            id="dead-units-stay-dead",
            text=CLAIMS["dead-units-stay-dead"],
            passed=bool(stayed and unchanged),
            values={
                "dead_units": int(after.sum().item()),
                "still_dead": int((still & after).sum().item()),
                "weights_unchanged": unchanged,
            },
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"{params.activation}，lr={params.lr:g}，{params.inputs} 输入：初始化时 "
            f"{dead_init:.0%} 的单元是死的，训练 {params.steps} 步后为 {dead_after:.0%}。"
        ),
        summary=(
            f"{params.activation}, lr={params.lr:g}, {params.inputs} inputs: {dead_init:.0%} "
            f"of units dead at init, {dead_after:.0%} after {params.steps} steps."
        ),
        metrics={
            "dead_at_init": dead_init,
            "dead_after_training": dead_after,
            "dead_after_extra_steps": float(still.float().mean().item()),
            "final_batch_loss": losses[-1],
        },
        tables=[table],
        charts=charts,
        claims=claims,
    )
