"""The feed-forward block: where a Transformer's parameters live, and what SwiGLU's gate adds."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "FFN width and SwiGLU"
TITLE_ZH = "FFN 宽度与 SwiGLU"
DESCRIPTION = (
    "Counts the parameters of a Transformer block's attention and feed-forward parts for the "
    "chosen FFN width, checks that SwiGLU at 2/3 of the hidden width matches a plain FFN's "
    "parameter count, and fits y = x1 * x2 with a ReLU FFN and a gated FFN of about the same size."
)
DESCRIPTION_ZH = (
    "按所选 FFN 宽度统计 Transformer 块中注意力和前馈部分的参数量，验证隐藏宽度取 2/3 的 "
    "SwiGLU 与普通 FFN 参数量相同，并用参数量相近的 ReLU FFN 和门控 FFN 拟合 y = x1 * x2。"
)
CLAIMS = {
    "ffn-holds-most-block-params": (
        "With the chosen FFN multiplier, the feed-forward block holds about two thirds (more "
        "than 60%) of the block's parameters."
    ),
    "swiglu-two-thirds-width-same-params": (
        "A SwiGLU FFN with hidden width 2/3 x 4d has the same number of weights (8 d^2) as a "
        "two-matrix FFN of width 4d."
    ),
    "gate-fits-products": (
        "With the chosen FFN, fitting y = x1 * x2 ends with a test MSE below a fifth of a ReLU "
        "FFN's with about as many parameters."
    ),
}
CLAIMS_ZH = {
    "ffn-holds-most-block-params": (
        "在所选 FFN 倍数下，前馈层约占整个块参数量的三分之二（超过 60%）。"
    ),
    "swiglu-two-thirds-width-same-params": (
        "隐藏宽度为 2/3 x 4d 的 SwiGLU FFN 与宽度 4d 的两矩阵 FFN 权重数相同（8 d^2）。"
    ),
    "gate-fits-products": (
        "在所选 FFN 下，拟合 y = x1 * x2 的测试 MSE 不到参数量相近的 ReLU FFN 的五分之一。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "swiglu-two-thirds-width-same-params": "always: it does not depend on the parameters",
    "ffn-holds-most-block-params": "ffn_mult >= 3",
    "gate-fits-products": "ffn = swiglu",
}
CLAIM_SHOWN_WHEN_ZH = {
    "swiglu-two-thirds-width-same-params": "总成立：与参数无关",
    "ffn-holds-most-block-params": "ffn_mult >= 3 时",
    "gate-fits-products": "ffn = swiglu 时",
}
TEXT_ZH = {
    "Fitting y = x1 * x2": "拟合 y = x1 * x2",
    "step": "步数",
    "training MSE": "训练 MSE",
    "ReLU FFN": "ReLU FFN",
    "chosen FFN": "所选 FFN",
    "Parameters of one block": "一个块的参数量",
    "part": "部分",
    "parameters": "参数量",
    "share": "占比",
    "attention (4 d^2 + 4 d)": "注意力（4 d^2 + 4 d）",
    "FFN": "FFN",
    "Model width d used for parameter counts": "统计参数量所用的模型宽度 d",
    "FFN hidden width as a multiple of d": "FFN 隐藏宽度相对 d 的倍数",
    "Feed-forward variant fitted against the ReLU FFN": "与 ReLU FFN 对比拟合的前馈变体",
    "Hidden units of the toy ReLU FFN": "玩具 ReLU FFN 的隐藏单元数",
}


class Params(BaseModel):
    d_model: int = Field(768, ge=48, le=8192, description="Model width d used for parameter counts")
    ffn_mult: int = Field(4, ge=1, le=8, description="FFN hidden width as a multiple of d")
    ffn: Literal["swiglu", "swish-no-gate"] = Field(
        "swiglu", description="Feed-forward variant fitted against the ReLU FFN"
    )
    hidden: int = Field(12, ge=3, le=48, description="Hidden units of the toy ReLU FFN")


STEPS = 200


def _fit(kind: str, hidden: int, seed: int):  # type: ignore[no-untyped-def]
    """Trains a 2-input FFN on y = x1 * x2; the gated variants get 2/3 of the hidden units."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    torch.manual_seed(seed)
    if kind == "relu":
        mlp = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        modules, forward = mlp, mlp
    else:
        h = max(1, round(hidden * 2 / 3))
        w1, v, w2 = nn.Linear(2, h), nn.Linear(2, h), nn.Linear(h, 1)
        modules = nn.ModuleList([w1, v, w2])
        if kind == "swiglu":

            def forward(x):  # type: ignore[no-untyped-def]
                return w2(F.silu(w1(x)) * v(x))  # Swish(x W1) * (x V), then W2
        else:

            def forward(x):  # type: ignore[no-untyped-def]
                return w2(F.silu(w1(x)) + v(x))  # same weights, the gate's product removed

    opt = torch.optim.Adam(modules.parameters(), lr=1e-2)
    losses = []
    for _ in range(STEPS):
        x = torch.rand(128, 2) * 4 - 2
        loss = F.mse_loss(forward(x), x[:, :1] * x[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.rand(1024, 2, generator=g) * 4 - 2
    with torch.no_grad():
        test = float(F.mse_loss(forward(x), x[:, :1] * x[:, 1:]))
    return losses, test, sum(p.numel() for p in modules.parameters())


def run(params: Params, ctx: DemoContext) -> DemoResult:
    d, mult = params.d_model, params.ffn_mult
    attn = 4 * d * d + 4 * d  # Q, K, V, O with biases
    ffn = 2 * d * (mult * d) + mult * d + d  # two matrices with biases
    share = ffn / (ffn + attn)
    if (8 * d) % 3:
        swiglu_hidden = round(8 * d / 3)
        note = f"8d/3 = {8 * d / 3:.1f} is rounded to {swiglu_hidden}"
    else:
        swiglu_hidden = 8 * d // 3
        note = "exact"
    swiglu_weights = 3 * d * swiglu_hidden
    plain_weights = 2 * d * 4 * d
    relu_losses, relu_test, relu_params = _fit("relu", params.hidden, ctx.seed)
    ctx.progress(0.5, "fitting the gated FFN")
    kind = "swiglu" if params.ffn == "swiglu" else "no-gate"
    gate_losses, gate_test, gate_params = _fit(kind, params.hidden, ctx.seed)
    ratio = gate_test / relu_test

    every = 4
    xs = [float(i) for i in range(0, STEPS, every)]
    charts = [
        Chart(
            id="fit",
            title="Fitting y = x1 * x2",
            x_label="step",
            y_label="training MSE",
            log_y=True,
            series=[
                Series(name="ReLU FFN", x=xs, y=relu_losses[::every]),
                Series(name="chosen FFN", x=xs, y=gate_losses[::every]),
            ],
        ),
        Chart(
            id="params",
            title="Parameters of one block",
            kind="bar",
            x_label="part",
            y_label="parameters",
            categories=["attention (4 d^2 + 4 d)", "FFN"],
            series=[Series(name="parameters", x=[0.0, 1.0], y=[float(attn), float(ffn)])],
        ),
    ]
    table = Table(
        title="Parameters of one block",
        columns=["part", "parameters", "share"],
        rows=[["attention (4 d^2 + 4 d)", attn, 1 - share], ["FFN", ffn, share]],
    )
    claims = [
        Claim(
            id="ffn-holds-most-block-params",
            text=CLAIMS["ffn-holds-most-block-params"],
            passed=bool(share > 0.6),
            values={"ffn_share": share, "ffn_params": ffn, "attention_params": attn},
        ),
        Claim(
            id="swiglu-two-thirds-width-same-params",
            text=CLAIMS["swiglu-two-thirds-width-same-params"],
            passed=bool(abs(swiglu_weights - plain_weights) <= 3 * d),
            values={
                "swiglu_weights": swiglu_weights,
                "plain_weights": plain_weights,
                "rounding": note,
            },
        ),
        Claim(
            id="gate-fits-products",
            text=CLAIMS["gate-fits-products"],
            passed=bool(ratio < 0.2),
            values={
                "test_mse_chosen": gate_test,
                "test_mse_relu": relu_test,
                "params_chosen": gate_params,
                "params_relu": relu_params,
            },
        ),
    ]
    return DemoResult(
        summary=(
            f"d={d}, FFN {mult}d: the FFN holds {share:.0%} of the block's parameters. Fitting "
            f"x1*x2: ReLU FFN test MSE {relu_test:.4f} ({relu_params} params), {params.ffn} "
            f"{gate_test:.4f} ({gate_params} params)."
        ),
        summary_zh=(
            f"d={d}、FFN 宽 {mult}d：FFN 占块参数的 {share:.0%}。拟合 x1*x2：ReLU FFN 测试 MSE "
            f"{relu_test:.4f}（{relu_params} 个参数），{params.ffn} 为 {gate_test:.4f}"
            f"（{gate_params} 个参数）。"
        ),
        metrics={
            "ffn_share": share,
            "test_mse_relu": relu_test,
            "test_mse_chosen": gate_test,
            "mse_ratio": ratio,
        },
        tables=[table],
        charts=charts,
        claims=claims,
    )
