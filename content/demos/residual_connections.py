"""Residual connections keep a gradient path through a deep network: plain vs residual MLP."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Residual connections and gradient flow"
DESCRIPTION = (
    "Builds a deep MLP of blocks h -> act(W h + b), with or without the skip h -> h + act(W h + "
    "b), "
    "measures each block's gradient norm and trains it briefly with SGD."
)
CLAIMS = {
    "early-block-gradient-survives": (
        "In the configured network the first block's weight-gradient norm is at least 0.1 x the "
        "last block's."
    ),
    "loss-halves": (
        "Within the configured SGD steps the training loss falls below half its initial value."
    ),
}
TITLE_ZH = "残差连接与梯度流动"
DESCRIPTION_ZH = (
    "用块 h -> act(W h + b) 构建深层 MLP，带或不带跳连 h -> h + act(W h + b)，测量每个块的梯度范"
    "数，并用 SGD 简短训练。"
)
CLAIMS_ZH = {
    "early-block-gradient-survives": (
        "在所设网络中，第一个块的权重梯度范数至少是最后一个块的 0.1 倍。"
    ),
    "loss-halves": "在所设的 SGD 步数内，训练损失降到初始值的一半以下。",
}


CLAIM_SHOWN_WHEN = {
    "early-block-gradient-survives": "residual on (the default), whatever the depth",
    "loss-halves": "residual on with lr between about 0.01 and 0.1 (the default 0.05)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "early-block-gradient-survives": "residual 打开（默认），与深度无关",
    "loss-halves": "residual 打开且 lr 大约在 0.01 到 0.1 之间（默认 0.05）",
}
TEXT_ZH = {
    "Number of hidden blocks": "隐藏块数",
    "Hidden units per block": "每块隐藏单元数",
    "Activation inside each block": "每块内的激活函数",
    "Add the identity skip connection h + f(h)": "加上恒等跳跃连接 h + f(h)",
    "SGD learning rate": "SGD 学习率",
    "SGD steps": "SGD 步数",
    "Gradient norm per block": "各块的梯度范数",
    "block": "块",
    "grad norm": "梯度范数",
    "ratio to last block": "与最后一块之比",
    "block (1 = input side)": "块（1 = 输入端）",
    "||dL/dW||": "||dL/dW||",
    "Training loss": "训练损失",
    "step": "步数",
    "MSE": "MSE",
}


class Params(BaseModel):
    blocks: int = Field(30, ge=2, le=60, description="Number of hidden blocks")
    width: int = Field(32, ge=8, le=64, description="Hidden units per block")
    activation: Literal["tanh", "sigmoid", "relu"] = Field(
        "tanh", description="Activation inside each block"
    )
    residual: bool = Field(True, description="Add the identity skip connection h + f(h)")
    lr: float = Field(0.05, ge=1e-4, le=0.5, description="SGD learning rate")
    steps: int = Field(150, ge=10, le=300, description="SGD steps")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    act = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}[params.activation]
    d_in = 8
    stem = nn.Linear(d_in, params.width).to(device)
    blocks = [nn.Linear(params.width, params.width).to(device) for _ in range(params.blocks)]
    # Scale each branch by 1/sqrt(blocks) so the forward variance stays bounded as depth grows.
    scale = 1.0 / math.sqrt(params.blocks) if params.residual else 1.0
    head = nn.Linear(params.width, 1).to(device)
    weights = (
        list(stem.parameters())
        + [p for b in blocks for p in b.parameters()]
        + list(head.parameters())
    )

    def forward(x: torch.Tensor) -> torch.Tensor:
        h = stem(x)
        for b in blocks:
            h = h + scale * act(b(h)) if params.residual else act(b(h))
        return head(h)

    gen = torch.Generator().manual_seed(ctx.seed + 1)
    x = torch.randn(128, d_in, generator=gen).to(device)
    y = torch.sin(x[:, :1]) + 0.5 * x[:, 1:2]

    loss0 = nn.functional.mse_loss(forward(x), y)
    loss0.backward()
    norms = [float(b.weight.grad.norm().item()) for b in blocks]
    ratio = norms[0] / max(norms[-1], 1e-30)

    ctx.progress(0.2, "training")
    losses: list[float] = []
    for step in range(params.steps):
        for p in weights:
            p.grad = None
        loss = nn.functional.mse_loss(forward(x), y)
        value = float(loss.item())
        if not math.isfinite(value):
            break
        losses.append(value)
        loss.backward()
        with torch.no_grad():
            for p in weights:
                p -= params.lr * p.grad
        if step % 50 == 0:
            ctx.progress(0.2 + 0.7 * step / params.steps, "training")

    initial, final = losses[0], losses[-1]
    finite = len(losses) == params.steps
    halved = finite and final < 0.5 * initial
    floor = 1e-30
    kind = "residual" if params.residual else "plain"
    charts = [
        Chart(
            id="block-grad-norms",
            title=f"Weight-gradient norm per block ({kind}, {params.activation})",
            x_label="block (1 = input side)",
            y_label="||dL/dW||",
            log_y=True,
            series=[
                Series(
                    name=kind,
                    x=[float(i) for i in range(1, params.blocks + 1)],
                    y=[max(n, floor) for n in norms],
                )
            ],
        ),
        Chart(
            id="loss",
            title="Training loss",
            x_label="step",
            y_label="MSE",
            log_y=True,
            series=[
                Series(
                    name=kind,
                    x=[float(i) for i in range(len(losses))],
                    y=[max(v, floor) for v in losses],
                )
            ],
        ),
    ]
    table = Table(
        title="Gradient norm per block",
        columns=["block", "grad norm", "ratio to last block"],
        rows=[[i + 1, n, n / max(norms[-1], floor)] for i, n in enumerate(norms)],
    )
    claims = [
        Claim(
            id="early-block-gradient-survives",
            text=CLAIMS["early-block-gradient-survives"],
            passed=bool(ratio >= 0.1),
            values={"first_over_last": ratio, "residual": params.residual},
        ),
        Claim(
            id="loss-halves",
            text=CLAIMS["loss-halves"],
            passed=bool(halved),
            values={"initial_loss": initial, "final_loss": final, "stayed_finite": finite},
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"{'残差' if params.residual else '普通'} {params.blocks} 块 {params.activation} MLP："
            f"第一块与最后一块的梯度比 {ratio:.2e}；"
            f"{len(losses)} 步内损失 {initial:.3g} -> {final:.3g}。"
        ),
        summary=(
            f"{kind.capitalize()} {params.blocks}-block {params.activation} MLP: first/last block "
            "gradient "
            f"ratio {ratio:.2e}; loss {initial:.3g} -> {final:.3g} in {len(losses)} steps."
        ),
        metrics={"first_over_last": ratio, "initial_loss": initial, "final_loss": final},
        tables=[table],
        charts=charts,
        claims=claims,
    )
