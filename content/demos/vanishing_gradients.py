"""Per-layer gradient norms through a deep MLP, for several activations and initializations."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Gradient norms through a deep MLP"
DESCRIPTION = (
    "Backpropagates one batch through a deep MLP and compares each layer's weight-gradient norm "
    "with the last layer's, for the chosen activation, initialization and normalization."
)
CLAIMS = {
    "first-layer-gradient-vanishes": (
        "With the configured activation and initialization, the first layer's gradient norm is "
        "below 1e-4 of the last layer's."
    ),
    "gradient-scale-preserved": (
        "With the configured activation and initialization, the first layer's gradient norm is "
        "within a factor of 10 of the last layer's."
    ),
}
TITLE_ZH = "深层 MLP 中的梯度范数"
DESCRIPTION_ZH = (
    "让一批数据在深层 MLP 中反向传播，对所选的激活函数、初始化和归一化，比较每层权重梯度范数与最"
    "后一层的比值。"
)
CLAIMS_ZH = {
    "first-layer-gradient-vanishes": (
        "在所设激活函数和初始化下，第一层的梯度范数小于最后一层的 1e-4。"
    ),
    "gradient-scale-preserved": (
        "在所设激活函数和初始化下，第一层的梯度范数与最后一层相差不超过 10 倍。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "first-layer-gradient-vanishes": (
        "activation sigmoid with the PyTorch default init and 20 layers (the defaults)"
    ),
    "gradient-scale-preserved": (
        "activation relu with init he, or tanh with xavier, or batchnorm on"
    ),
}
CLAIM_SHOWN_WHEN_ZH = {
    "first-layer-gradient-vanishes": "激活函数 sigmoid，PyTorch 默认初始化，20 层（即默认参数）",
    "gradient-scale-preserved": "激活函数 relu 配 he 初始化，或 tanh 配 xavier，或开启 batchnorm",
}


TEXT_ZH = {
    "Number of linear layers": "线性层数",
    "Hidden units per layer": "每层隐藏单元数",
    "Hidden activation": "隐藏层激活函数",
    (
        "Weight init: PyTorch default (uniform, var 1/(3 fan_in)), N(0, 0.01^2), Xavier normal, "
        "He normal"
    ): (
        "权重初始化：PyTorch 默认（均匀分布，方差 1/(3 fan_in)）、N(0, 0.01^2)、Xavier 正态、He "
        "正态"
    ),
    "Insert BatchNorm1d before every hidden activation": "在每个隐藏层激活前插入 BatchNorm1d",
    "Samples in the batch": "批中的样本数",
    "layer (1 = input side)": "层（1 = 输入端）",
    "||dL/dW||": "||dL/dW||",
    "Gradient norm per layer": "各层的梯度范数",
    "layer": "层",
    "grad norm": "梯度范数",
    "ratio to last layer": "与最后一层之比",
    "gradient norm": "梯度范数",
}


class Params(BaseModel):
    depth: int = Field(20, ge=2, le=40, description="Number of linear layers")
    width: int = Field(64, ge=8, le=256, description="Hidden units per layer")
    activation: Literal["sigmoid", "tanh", "relu"] = Field(
        "sigmoid", description="Hidden activation"
    )
    init: Literal["pytorch-default", "small", "xavier", "he"] = Field(
        "pytorch-default",
        description=(
            "Weight init: PyTorch default (uniform, var 1/(3 fan_in)), N(0, 0.01^2), "
            "Xavier normal, He normal"
        ),
    )
    batchnorm: bool = Field(False, description="Insert BatchNorm1d before every hidden activation")
    batch_size: int = Field(64, ge=2, le=512, description="Samples in the batch")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    act = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}[params.activation]

    layers: list[nn.Module] = []
    linears: list[nn.Linear] = []
    d_in = 32
    for i in range(params.depth):
        last = i == params.depth - 1
        lin = nn.Linear(d_in if i == 0 else params.width, 1 if last else params.width)
        if params.init == "small":
            nn.init.normal_(lin.weight, std=0.01)
        elif params.init == "xavier":
            nn.init.xavier_normal_(lin.weight)
        elif params.init == "he":
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        if params.init != "pytorch-default":
            nn.init.zeros_(lin.bias)
        linears.append(lin)
        layers.append(lin)
        if not last:
            if params.batchnorm:
                layers.append(nn.BatchNorm1d(params.width))
            layers.append(act())
    model = nn.Sequential(*layers).to(device)

    x = torch.randn(params.batch_size, d_in).to(device)
    y = torch.randn(params.batch_size, 1).to(device)
    ctx.progress(0.3, "forward and backward pass")
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()

    # Overflowed norms (inf, or NaN from inf - inf) are reported as 1e30.
    norms = [
        n if math.isfinite(n) else 1e30
        for n in (float(lin.weight.grad.norm().item()) for lin in linears)
    ]
    floor = 1e-30
    first, last_norm = norms[0], max(norms[-1], floor)
    ratio = first / last_norm

    ctx.progress(0.9, "summarizing")

    layers_idx = list(range(1, params.depth + 1))
    chart = Chart(
        id="grad-norms",
        title=f"Weight-gradient norm per layer ({params.activation}, {params.init} init)",
        x_label="layer (1 = input side)",
        y_label="||dL/dW||",
        log_y=True,
        series=[
            Series(
                name="gradient norm",
                x=[float(i) for i in layers_idx],
                y=[max(n, floor) for n in norms],
            )
        ],
    )
    table = Table(
        title="Gradient norm per layer",
        columns=["layer", "grad norm", "ratio to last layer"],
        rows=[[i, n, n / last_norm] for i, n in zip(layers_idx, norms, strict=True)],
    )
    claims = [
        Claim(
            id="first-layer-gradient-vanishes",
            text=CLAIMS["first-layer-gradient-vanishes"],
            passed=bool(ratio < 1e-4),
            values={"first_over_last": ratio, "threshold": 1e-4},
        ),
        Claim(
            id="gradient-scale-preserved",
            text=CLAIMS["gradient-scale-preserved"],
            passed=bool(0.1 <= ratio <= 10.0),
            values={"first_over_last": ratio},
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"{params.depth} 层 {params.activation} MLP，{params.init} 初始化"
            f"{' + BatchNorm' if params.batchnorm else ''}：第一层梯度是最后一层的 {ratio:.2e} 倍"
            "。"
        ),
        summary=(
            f"{params.depth}-layer {params.activation} MLP, {params.init} init"
            f"{' + BatchNorm' if params.batchnorm else ''}: first-layer gradient is "
            f"{ratio:.2e} x the last layer's."
        ),
        metrics={
            "first_layer_grad_norm": first,
            "last_layer_grad_norm": norms[-1],
            "first_over_last": ratio,
            "loss": float(loss.item()),
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
