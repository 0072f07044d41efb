"""Why BatchNorm helps optimization: scale invariance and tolerance of large learning rates."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "What BatchNorm does for training"
DESCRIPTION = (
    "Trains a deep MLP with or without BatchNorm at the chosen learning rate, and checks that "
    "BatchNorm makes "
    "a layer's output invariant to the scale of the weights feeding it."
)
CLAIMS = {
    "trains-at-this-lr": (
        "At the configured learning rate the configured network trains: the loss stays finite and "
        "ends below "
        "30% of its initial value."
    ),
    "output-invariant-to-weight-scale": (
        "Multiplying the first layer's weights by 10 leaves the network's output unchanged "
        "(within 1e-3) and "
        "divides that layer's weight gradient by about 10."
    ),
}
TITLE_ZH = "BatchNorm 对训练有什么用"
DESCRIPTION_ZH = (
    "在所选学习率下训练有或没有 BatchNorm 的深层 MLP，并检查 BatchNorm 是否让一层的输出与输入权重"
    "的尺度无关。"
)
CLAIMS_ZH = {
    "trains-at-this-lr": "在所设学习率下所设网络能够训练：损失保持有限，并最终低于初始值的 30%。",
    "output-invariant-to-weight-scale": (
        "把第一层权重乘以 10，网络输出不变（相差不超过 1e-3），该层的权重梯度约缩小为 1/10。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "trains-at-this-lr": (
        "batchnorm on (the default): without it a 10-layer network at lr 0.5 does not train"
    ),
    "output-invariant-to-weight-scale": "batchnorm on",
}
CLAIM_SHOWN_WHEN_ZH = {
    "trains-at-this-lr": "batchnorm 打开（默认）：不加时 10 层网络在 lr 0.5 下训练不动",
    "output-invariant-to-weight-scale": "batchnorm 打开",
}
TEXT_ZH = {
    "Number of hidden layers": "隐藏层数",
    "Hidden units per layer": "每层隐藏单元数",
    "BatchNorm1d after every hidden linear layer (before the activation)": (
        "每个隐藏线性层后（激活前）加 BatchNorm1d"
    ),
    "Hidden activation": "隐藏层激活函数",
    "SGD learning rate": "SGD 学习率",
    "SGD steps": "SGD 步数",
    "Samples per batch": "每批样本数",
    "step": "步数",
    "cross-entropy": "交叉熵",
    "Scale-invariance check (first layer weights x10)": "尺度不变性检查（第一层权重 x10）",
    "quantity": "量",
    "value": "值",
    "max |output change|": "max |输出变化|",
    "grad norm, original": "梯度范数（原始）",
    "grad norm, weights x10": "梯度范数（权重 x10）",
    "ratio": "比值",
}


class Params(BaseModel):
    depth: int = Field(10, ge=2, le=20, description="Number of hidden layers")
    width: int = Field(64, ge=16, le=128, description="Hidden units per layer")
    batchnorm: bool = Field(
        True, description="BatchNorm1d after every hidden linear layer (before the activation)"
    )
    activation: Literal["relu", "tanh", "sigmoid"] = Field("relu", description="Hidden activation")
    lr: float = Field(0.5, ge=0.001, le=5.0, description="SGD learning rate")
    steps: int = Field(100, ge=10, le=300, description="SGD steps")
    batch_size: int = Field(128, ge=8, le=256, description="Samples per batch")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    device = torch.device(ctx.device)
    act = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[params.activation]
    d_in, n_classes = 16, 4

    def build() -> nn.Sequential:
        torch.manual_seed(ctx.seed)
        layers: list[nn.Module] = []
        for i in range(params.depth):
            lin = nn.Linear(d_in if i == 0 else params.width, params.width)
            # He init for every run, so the comparison is BatchNorm vs none, not good vs bad init.
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            nn.init.zeros_(lin.bias)
            layers.append(lin)
            if params.batchnorm:
                layers.append(nn.BatchNorm1d(params.width))
            layers.append(act())
        layers.append(nn.Linear(params.width, n_classes))
        return nn.Sequential(*layers).to(device)

    # A fixed nonlinear 4-class problem: the label is the quadrant of two random projections.
    gen = torch.Generator().manual_seed(ctx.seed + 1)
    proj = torch.randn(d_in, 2, generator=gen)

    def sample(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randn(n, d_in, generator=gen)
        z = x @ proj
        y = (z[:, 0] > 0).long() * 2 + (z[:, 1] > 0).long()
        return x.to(device), y.to(device)

    model = build()
    weights = list(model.parameters())
    losses: list[float] = []
    diverged = False
    for step in range(params.steps):
        x, y = sample(params.batch_size)
        for p in weights:
            p.grad = None
        loss = nn.functional.cross_entropy(model(x), y)
        value = float(loss.item())
        if not math.isfinite(value):
            diverged = True
            break
        losses.append(value)
        loss.backward()
        with torch.no_grad():
            for p in weights:
                p -= params.lr * p.grad
        if step % 50 == 0:
            ctx.progress(0.8 * step / params.steps, "training")
    initial = losses[0]
    tail = losses[-10:]
    final = sum(tail) / len(tail)
    trains = (not diverged) and final < 0.3 * initial

    # Scale invariance: the same batch through the same net, first layer's weights x10.
    ctx.progress(0.85, "scale invariance check")
    x, y = sample(params.batch_size)
    net = build()
    net.train()
    out1 = net(x)
    nn.functional.cross_entropy(out1, y).backward()
    g1 = float(net[0].weight.grad.norm().item())
    net2 = build()
    with torch.no_grad():
        net2[0].weight.mul_(10.0)
        net2[0].bias.mul_(10.0)
    out2 = net2(x)
    nn.functional.cross_entropy(out2, y).backward()
    g2 = float(net2[0].weight.grad.norm().item())
    out_diff = float((out1 - out2).abs().max().item())
    grad_ratio = g1 / max(g2, 1e-30)
    invariant = math.isfinite(out_diff) and out_diff < 1e-3 and 9.0 < grad_ratio < 11.0

    cap = 1e30
    kind = "with BatchNorm" if params.batchnorm else "no BatchNorm"
    chart = Chart(
        id="loss",
        title=f"Training loss at lr={params.lr:g} ({kind})",
        x_label="step",
        y_label="cross-entropy",
        log_y=True,
        series=[
            Series(
                name=kind,
                x=[float(i) for i in range(len(losses))],
                y=[min(max(v, 1e-30), cap) for v in losses],
            )
        ],
    )
    table = Table(
        title="Scale-invariance check (first layer weights x10)",
        columns=["quantity", "value"],
        rows=[
            ["max |output change|", min(out_diff, cap) if math.isfinite(out_diff) else cap],
            ["grad norm, original", g1],
            ["grad norm, weights x10", g2],
            ["ratio", min(grad_ratio, cap)],
        ],
    )
    claims = [
        Claim(
            id="trains-at-this-lr",
            text=CLAIMS["trains-at-this-lr"],
            passed=bool(trains),
            values={
                "initial_loss": initial,
                "final_loss_avg_last_10": min(final, cap),
                "diverged": diverged,
                "lr": params.lr,
                "batchnorm": params.batchnorm,
            },
        ),
        Claim(
            id="output-invariant-to-weight-scale",
            text=CLAIMS["output-invariant-to-weight-scale"],
            passed=bool(invariant),
            values={
                "max_output_change": min(out_diff, cap) if math.isfinite(out_diff) else cap,
                "grad_norm_ratio": min(grad_ratio, cap),
                "batchnorm": params.batchnorm,
            },
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"{params.depth} 层 {params.activation} MLP"
            f"（{'带 BatchNorm' if params.batchnorm else '不带 BatchNorm'}），"
            f"lr={params.lr:g}：损失 "
            f"{initial:.3f} -> {'发散' if diverged else f'{final:.3f}'}。第一层权重 x10 使输出变化"
            f" {min(out_diff, cap) if math.isfinite(out_diff) else cap:.2e}。"
        ),
        summary=(
            f"{params.depth}-layer {params.activation} MLP {kind} at lr={params.lr:g}: loss "
            f"{initial:.3f} -> "
            f"{'diverged' if diverged else f'{final:.3f}'}. Scaling the first layer x10 changes "
            "the output by "
            f"{min(out_diff, cap) if math.isfinite(out_diff) else cap:.2e}."
        ),
        metrics={
            "initial_loss": initial,
            "final_loss": min(final, cap),
            "diverged": diverged,
            "output_change_under_scaling": min(out_diff, cap) if math.isfinite(out_diff) else cap,
            "grad_ratio_under_scaling": min(grad_ratio, cap),
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
