"""Initialization scale decides whether signals survive depth; equal weights never diverge."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Weight initialization and signal propagation"
DESCRIPTION = (
    "Pushes a batch through a deep MLP under four initializations, tracks the standard deviation "
    "of each "
    "layer's pre-activations, and checks whether a few SGD steps break the symmetry between "
    "hidden units."
)
CLAIMS = {
    "activation-scale-preserved": (
        "With the configured activation and initialization, the last hidden layer's "
        "pre-activation std is "
        "within a factor of 2 of the first layer's."
    ),
    "symmetry-broken": (
        "After 5 SGD steps the first layer's hidden units have different weight vectors "
        "(max difference between rows above 1e-6)."
    ),
}
TITLE_ZH = "权重初始化与信号传播"
DESCRIPTION_ZH = (
    "在四种初始化下让一批数据通过深层 MLP，跟踪每层预激活的标准差，并检查几步 SGD 是否打破隐藏单"
    "元之间的对称性。"
)
CLAIMS_ZH = {
    "activation-scale-preserved": (
        "在所设激活函数和初始化下，最后一个隐藏层预激活的标准差与第一层相差不超过 2 倍。"
    ),
    "symmetry-broken": "5 步 SGD 后，第一层隐藏单元的权重向量各不相同（行之间的最大差超过 1e-6）。",
}


def _finite(value: float, cap: float = 1e30) -> float:
    """Overflowed measurements (inf, or NaN from inf - inf) are reported as the cap."""
    return value if math.isfinite(value) else cap


InitName = Literal["small", "xavier", "he", "constant"]


CLAIM_SHOWN_WHEN = {
    "activation-scale-preserved": "init he with relu, or xavier with tanh",
    "symmetry-broken": "any random init (not constant: identical rows get identical updates)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "activation-scale-preserved": "relu 配 he 初始化，或 tanh 配 xavier 初始化",
    "symmetry-broken": "任何随机初始化（constant 不行：相同的行得到相同的更新）",
}
TEXT_ZH = {
    "Number of hidden layers": "隐藏层数",
    "Hidden units per layer": "每层隐藏单元数",
    "Hidden activation": "隐藏层激活函数",
    (
        "small: N(0, 0.01^2); xavier: var 2/(fan_in+fan_out); he: var 2/fan_in; constant: every "
        "weight 0.05"
    ): (
        "small：N(0, 0.01^2)；xavier：方差 2/(fan_in+fan_out)；he：方差 2/fan_in；constant："
        "每个权重都是 0.05"
    ),
    "layer": "层",
    "std of pre-activations": "预激活值的标准差",
    "Pre-activation std, first and last layer": "第一层和最后一层的预激活标准差",
    "init": "初始化",
    "first layer": "第一层",
    "last layer": "最后一层",
    "last / first": "最后 / 第一",
}


class Params(BaseModel):
    depth: int = Field(20, ge=2, le=50, description="Number of hidden layers")
    width: int = Field(128, ge=16, le=256, description="Hidden units per layer")
    activation: Literal["relu", "tanh"] = Field("relu", description="Hidden activation")
    init: InitName = Field(
        "he",
        description=(
            "small: N(0, 0.01^2); xavier: var 2/(fan_in+fan_out); he: var 2/fan_in; "
            "constant: every weight 0.05"
        ),
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    device = torch.device(ctx.device)
    act = nn.ReLU() if params.activation == "relu" else nn.Tanh()
    d_in = 64

    def build(init: str) -> list[nn.Linear]:
        torch.manual_seed(ctx.seed)
        layers = []
        for i in range(params.depth):
            # Initialised on the CPU from the seed, then moved: the same weights on any device.
            lin = nn.Linear(d_in if i == 0 else params.width, params.width)
            if init == "small":
                nn.init.normal_(lin.weight, std=0.01)
            elif init == "xavier":
                nn.init.xavier_normal_(lin.weight)
            elif init == "he":
                nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            else:
                nn.init.constant_(lin.weight, 0.05)
            nn.init.zeros_(lin.bias)
            layers.append(lin.to(device))
        return layers

    gen = torch.Generator().manual_seed(ctx.seed + 1)
    x = torch.randn(128, d_in, generator=gen).to(device)

    def stds(layers: list[nn.Linear]) -> list[float]:
        out, h = [], x
        with torch.no_grad():
            for lin in layers:
                z = lin(h)
                out.append(_finite(float(z.std().item())))
                h = act(z)
        return out

    inits = ["small", "xavier", "he", "constant"]
    profiles = {name: stds(build(name)) for name in inits}
    mine = profiles[params.init]
    ratio = mine[-1] / max(mine[0], 1e-30)
    ctx.progress(0.5, "a few SGD steps")

    # Symmetry: train the configured network briefly and compare the first layer's rows.
    layers = build(params.init)
    head = nn.Linear(params.width, 1).to(device)
    if params.init == "constant":
        # Symmetry needs every unit to look alike, outgoing weights included.
        nn.init.constant_(head.weight, 0.05)
    y = torch.sin(x[:, :1])
    all_params = [p for lin in layers for p in lin.parameters()] + list(head.parameters())
    for _ in range(5):
        h = x
        for lin in layers:
            h = act(lin(h))
        loss = nn.functional.mse_loss(head(h), y)
        for p in all_params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in all_params:
                p -= 0.01 * p.grad
    w = layers[0].weight.detach()
    raw_spread = float((w - w[0:1]).abs().max().item())
    # If this init overflows during these steps the weights are NaN: symmetry cannot be judged.
    overflowed = not math.isfinite(raw_spread)
    row_spread = 0.0 if overflowed else raw_spread

    floor, cap = 1e-30, 1e30
    xs = [float(i) for i in range(1, params.depth + 1)]
    chart = Chart(
        id="std-per-layer",
        title=f"Pre-activation std per layer ({params.activation})",
        x_label="layer",
        y_label="std of pre-activations",
        log_y=True,
        series=[
            Series(name=n, x=xs, y=[min(max(v, floor), cap) for v in profiles[n]]) for n in inits
        ],
    )
    table = Table(
        title="Pre-activation std, first and last layer",
        columns=["init", "first layer", "last layer", "last / first"],
        rows=[
            [
                n,
                min(profiles[n][0], cap),
                min(profiles[n][-1], cap),
                min(profiles[n][-1] / max(profiles[n][0], floor), cap),
            ]
            for n in inits
        ],
    )
    claims = [
        Claim(
            id="activation-scale-preserved",
            text=CLAIMS["activation-scale-preserved"],
            passed=bool(0.5 <= ratio <= 2.0),
            values={
                "last_over_first_std": min(ratio, cap),
                "init": params.init,
                "activation": params.activation,
            },
        ),
        Claim(
            id="symmetry-broken",
            text=CLAIMS["symmetry-broken"],
            passed=bool(not overflowed and row_spread > 1e-6),
            values={"max_row_difference": row_spread, "training_overflowed": overflowed},
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"{params.init} 初始化，{params.activation}：预激活标准差经过 {params.depth} 层从 "
            f"{mine[0]:.3g} 变为 {min(mine[-1], cap):.3g}；5 步 SGD 后隐藏单元"
            f"{'溢出' if overflowed else '各不相同' if row_spread > 1e-6 else '仍然完全相同'}。"
        ),
        summary=(
            f"{params.init} init, {params.activation}: pre-activation std goes from {mine[0]:.3g} "
            "to "
            f"{min(mine[-1], cap):.3g} over {params.depth} layers; hidden units "
            f"{'overflow' if overflowed else 'differ' if row_spread > 1e-6 else 'stay identical'} "
            "after 5 SGD steps."
        ),
        metrics={
            "first_std": mine[0],
            "last_std": min(mine[-1], cap),
            "last_over_first": min(ratio, cap),
            "max_row_difference": row_spread,
            "he_std_formula": math.sqrt(2.0 / params.width),
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
