"""Activation functions and their derivatives, and what a chain of them does to a gradient."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Activation functions and their derivatives"
DESCRIPTION = (
    "Differentiates sigmoid, tanh, ReLU, Leaky ReLU, ELU, GELU and SiLU with autograd on a "
    "grid, and backpropagates through a scalar chain h <- act(w * h) to see whether the gradient "
    "shrinks or grows."
)
CLAIMS = {
    "sigmoid-chain-shrinks": (
        "Through the configured number of sigmoid layers with weight scale w, the largest gradient "
        "over all inputs, d h_L / d h_0, is below 1e-3: each layer multiplies by at most w/4."
    ),
    "tanh-chain-does-not-grow": (
        "Through the configured number of tanh layers with weight scale w, the largest "
        "gradient over "
        "all inputs is at most 1: tanh' <= 1, so only a weight scale above 1 can make it grow."
    ),
    "sigmoid-saturates": (
        "At the edge of the configured input range, sigmoid's derivative is below 0.01 "
        "(saturation)."
    ),
    "tanh-zero-centered-sigmoid-not": (
        "For inputs drawn from N(mean, 1) with the configured mean, tanh's average output is "
        "within 0.05 of 0, while sigmoid's average output is about 0.5 (every output positive)."
    ),
    "leaky-relu-keeps-negative-gradient": (
        "With the configured slope, Leaky ReLU's derivative for negative inputs is positive, where "
        "ReLU's is exactly 0."
    ),
}
TITLE_ZH = "激活函数及其导数"
DESCRIPTION_ZH = (
    "在网格上用 autograd 求 sigmoid、tanh、ReLU、Leaky ReLU、ELU、GELU 和 SiLU 的导数，并沿标量链"
    " h <- act(w * h) 反向传播，看梯度是缩小还是增大。"
)
CLAIMS_ZH = {
    "sigmoid-chain-shrinks": (
        "经过所设层数、权重尺度为 w 的 sigmoid 层后，所有输入上最大的梯度 d h_L / d h_0 小于 1e-3"
        "：每层最多乘以 w/4。"
    ),
    "tanh-chain-does-not-grow": (
        "经过所设层数、权重尺度为 w 的 tanh 层后，所有输入上最大的梯度至多为 1：tanh' <= 1，只有"
        "大于 1 的权重尺度才能让它增大。"
    ),
    "sigmoid-saturates": "在所设输入范围的边缘，sigmoid 的导数小于 0.01（饱和）。",
    "tanh-zero-centered-sigmoid-not": (
        "对来自 N(mean, 1)（所设均值）的输入，tanh 的平均输出与 0 相差不超过 0.05，而 sigmoid 的"
        "平均输出约为 0.5（输出全为正）。"
    ),
    "leaky-relu-keeps-negative-gradient": (
        "在所设斜率下，Leaky ReLU 对负输入的导数为正，而 ReLU 的恰好为 0。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "sigmoid-chain-shrinks": (
        "depth >= 5 with weight_scale <= 1 (each layer multiplies by at most w/4); more layers "
        "for a larger w"
    ),
    "tanh-chain-does-not-grow": "weight_scale <= 1",
    "sigmoid-saturates": "x_range >= 5.3 (the default 6)",
    "tanh-zero-centered-sigmoid-not": "input_mean near 0 (|input_mean| <= 0.1)",
    "leaky-relu-keeps-negative-gradient": "leaky_slope > 0",
}
CLAIM_SHOWN_WHEN_ZH = {
    "sigmoid-chain-shrinks": (
        "depth >= 5 且 weight_scale <= 1（每层最多乘以 w/4）；w 更大时需要更多层"
    ),
    "tanh-chain-does-not-grow": "weight_scale <= 1",
    "sigmoid-saturates": "x_range >= 5.3（默认 6）",
    "tanh-zero-centered-sigmoid-not": "input_mean 接近 0（|input_mean| <= 0.1）",
    "leaky-relu-keeps-negative-gradient": "leaky_slope > 0",
}
TEXT_ZH = {
    "Inputs are plotted on [-x_range, x_range]": "在 [-x_range, x_range] 上画出输入",
    "Layers in the scalar chain h <- act(w * h)": "标量链 h <- act(w * h) 的层数",
    "Weight w in the scalar chain": "标量链中的权重 w",
    "Mean of the random inputs for the output averages": "计算输出均值时随机输入的均值",
    "Leaky ReLU slope for negative inputs": "Leaky ReLU 在负输入上的斜率",
    "Derivatives at a glance": "导数一览",
    "activation": "激活函数",
    "max f'": "f' 最大值",
    "f'(-x_range)": "f'(-x_range)",
    "f'(0)": "f'(0)",
    "f'(+x_range)": "f'(+x_range)",
    "Activation functions": "激活函数",
    "x": "x",
    "f(x)": "f(x)",
    "Derivatives (autograd)": "导数（autograd 计算）",
    "f'(x)": "f'(x)",
}


class Params(BaseModel):
    x_range: float = Field(
        6.0, ge=1.0, le=20.0, description="Inputs are plotted on [-x_range, x_range]"
    )
    depth: int = Field(10, ge=1, le=50, description="Layers in the scalar chain h <- act(w * h)")
    weight_scale: float = Field(1.0, ge=0.1, le=8.0, description="Weight w in the scalar chain")
    input_mean: float = Field(
        0.0, ge=-3.0, le=3.0, description="Mean of the random inputs for the output averages"
    )
    leaky_slope: float = Field(
        0.01, ge=0.0, le=0.5, description="Leaky ReLU slope for negative inputs"
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    import torch.nn.functional as F

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    dt = torch.float64
    acts = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": lambda t: F.leaky_relu(t, params.leaky_slope),
        "elu": F.elu,
        "gelu": F.gelu,
        "silu": F.silu,
    }

    ctx.progress(0.2, "derivatives on a grid")
    grid = torch.linspace(-params.x_range, params.x_range, 401, dtype=dt, device=device)
    grid[200] = 0.0  # exactly zero: the point where tanh' = 1 and sigmoid' = 1/4
    values, derivs = {}, {}
    for name, fn in acts.items():
        x = grid.clone().requires_grad_(True)
        y = fn(x)
        (g,) = torch.autograd.grad(y.sum(), x)  # elementwise function: the sum's gradient is f'(x)
        values[name], derivs[name] = y.detach(), g

    ctx.progress(0.5, "scalar chains")

    def chain_max_grad(fn) -> float:  # type: ignore[no-untyped-def]
        h0 = grid.clone().requires_grad_(True)
        h = h0
        for _ in range(params.depth):
            h = fn(params.weight_scale * h)
        (g,) = torch.autograd.grad(h.sum(), h0)
        return float(g.abs().max().item())

    sig_chain = chain_max_grad(torch.sigmoid)
    tanh_chain = chain_max_grad(torch.tanh)

    z = torch.randn(20000, dtype=dt).to(device) + params.input_mean
    tanh_mean = float(torch.tanh(z).mean().item())
    sig_mean = float(torch.sigmoid(z).mean().item())
    sig_edge = float(derivs["sigmoid"][-1].item())
    neg = grid < 0
    leaky_neg = float(derivs["leaky_relu"][neg].min().item())
    relu_neg = float(derivs["relu"][neg].abs().max().item())

    xs = [float(v) for v in grid.tolist()]
    shown = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu"]
    charts = [
        Chart(
            id="activations",
            title="Activation functions",
            x_label="x",
            y_label="f(x)",
            series=[Series(name=n, x=xs, y=[float(v) for v in values[n].tolist()]) for n in shown],
        ),
        Chart(
            id="derivatives",
            title="Derivatives (autograd)",
            x_label="x",
            y_label="f'(x)",
            series=[Series(name=n, x=xs, y=[float(v) for v in derivs[n].tolist()]) for n in shown],
        ),
    ]
    mid = len(xs) // 2
    table = Table(
        title="Derivatives at a glance",
        columns=["activation", "max f'", "f'(-x_range)", "f'(0)", "f'(+x_range)"],
        rows=[
            [
                n,
                float(derivs[n].max().item()),
                float(derivs[n][0].item()),
                float(derivs[n][mid].item()),
                float(derivs[n][-1].item()),
            ]
            for n in shown
        ],
    )
    claims = [
        Claim(
            id="sigmoid-chain-shrinks",
            text=CLAIMS["sigmoid-chain-shrinks"],
            passed=bool(sig_chain < 1e-3),
            values={
                "max_chain_gradient": sig_chain,
                "depth": params.depth,
                "weight_scale": params.weight_scale,
            },
        ),
        Claim(
            id="tanh-chain-does-not-grow",
            text=CLAIMS["tanh-chain-does-not-grow"],
            passed=bool(tanh_chain <= 1 + 1e-9),
            values={
                "max_chain_gradient": tanh_chain,
                "depth": params.depth,
                "weight_scale": params.weight_scale,
            },
        ),
        Claim(
            id="sigmoid-saturates",
            text=CLAIMS["sigmoid-saturates"],
            passed=bool(sig_edge < 0.01),
            values={"sigmoid_derivative_at_edge": sig_edge, "x_range": params.x_range},
        ),
        Claim(
            id="tanh-zero-centered-sigmoid-not",
            text=CLAIMS["tanh-zero-centered-sigmoid-not"],
            passed=bool(abs(tanh_mean) < 0.05 and abs(sig_mean - 0.5) < 0.05),
            values={
                "tanh_mean": tanh_mean,
                "sigmoid_mean": sig_mean,
                "input_mean": params.input_mean,
            },
        ),
        Claim(
            id="leaky-relu-keeps-negative-gradient",
            text=CLAIMS["leaky-relu-keeps-negative-gradient"],
            passed=bool(leaky_neg > 0 and relu_neg == 0),
            values={
                "leaky_relu_negative_derivative": leaky_neg,
                "relu_negative_derivative": relu_neg,
            },
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"sigmoid' 最大值 = {float(derivs['sigmoid'].max().item()):.3f}，tanh' 最大值 = "
            f"{float(derivs['tanh'].max().item()):.3f}。经过 {params.depth} 层、w = "
            f"{params.weight_scale:g}：最大梯度 {sig_chain:.2e}（sigmoid），{tanh_chain:.2e}（tanh"
            "）。"
        ),
        summary=(
            f"Max sigmoid' = {float(derivs['sigmoid'].max().item()):.3f}, max tanh' = "
            f"{float(derivs['tanh'].max().item()):.3f}. Through {params.depth} layers with w = "
            f"{params.weight_scale:g}: largest gradient {sig_chain:.2e} (sigmoid), "
            f"{tanh_chain:.2e} (tanh)."
        ),
        metrics={
            "max_sigmoid_derivative": float(derivs["sigmoid"].max().item()),
            "max_tanh_derivative": float(derivs["tanh"].max().item()),
            "sigmoid_chain_max_gradient": sig_chain,
            "tanh_chain_max_gradient": tanh_chain,
            "sigmoid_output_mean": sig_mean,
            "tanh_output_mean": tanh_mean,
        },
        tables=[table],
        charts=charts,
        claims=claims,
    )
