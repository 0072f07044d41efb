"""Receptive field of a conv stack: the formula against the gradient of one output pixel."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Receptive field: formula vs gradient"
TITLE_ZH = "感受野：公式与梯度对照"
DESCRIPTION = (
    "Stacks conv layers, backpropagates from the centre output pixel and measures where the "
    "input gradient is non-zero, against the receptive-field formula."
)
DESCRIPTION_ZH = (
    "堆叠若干卷积层，从中心输出像素反向传播，测量输入梯度非零的范围，并与感受野公式对照。"
)
CLAIMS = {
    "rf-matches-formula": (
        "The input gradient of one output pixel is non-zero on exactly r pixels per side, "
        "r = 1 + sum_l (k_l - 1) d_l prod_{i<l} s_i."
    ),
    "stride-multiplies-growth": (
        "The naive sum 1 + sum_l d_l (k_l - 1), which ignores earlier strides, undercounts the "
        "measured receptive field."
    ),
    "effective-rf-concentrated": (
        "The central half of the receptive field holds at least 10 points more of the gradient "
        "magnitude than its share of pixels: the effective receptive field is smaller than the "
        "theoretical one."
    ),
}
CLAIMS_ZH = {
    "rf-matches-formula": (
        "一个输出像素的输入梯度在每个方向上恰好在 r 个像素上非零，"
        "r = 1 + sum_l (k_l - 1) d_l prod_{i<l} s_i。"
    ),
    ("stride-multiplies-growth"): (
        "忽略前面层步长的朴素求和 1 + sum_l d_l (k_l - 1) 低估了实测感受野。"
    ),
    "effective-rf-concentrated": (
        "感受野中央一半宽度所占的梯度幅值比例，比它所占的像素比例至少高 10 个百分点：有效感受"
        "野小于理论感受野。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "rf-matches-formula": "always: it does not depend on the parameters",
    "stride-multiplies-growth": "stride >= 2 or dilation >= 2 with layers >= 2",
    "effective-rf-concentrated": "layers >= 4",
}
CLAIM_SHOWN_WHEN_ZH = {
    "rf-matches-formula": "总成立：与参数无关",
    "stride-multiplies-growth": "stride >= 2 或 dilation >= 2，且 layers >= 2",
    "effective-rf-concentrated": "layers >= 4",
}
TEXT_ZH = {
    "Number of conv layers": "卷积层数",
    "Kernel size of every layer": "每层的卷积核大小",
    "Stride of every layer but the last": "除最后一层外每层的步长",
    "Dilation of every layer": "每层的空洞率（dilation）",
    "|d out / d input| along the centre row": "中心行上的 |d 输出 / d 输入|",
    "input column (offset from centre)": "输入列（相对中心的偏移）",
    "gradient magnitude": "梯度幅值",
    "gradient": "梯度",
    "Receptive field per layer": "逐层感受野",
    "layer": "层",
    "formula r": "公式 r",
    "measured r": "实测 r",
    "naive sum": "朴素求和",
}


class Params(BaseModel):
    layers: int = Field(4, ge=1, le=6, description="Number of conv layers")
    kernel: int = Field(3, ge=1, le=7, description="Kernel size of every layer")
    stride: int = Field(2, ge=1, le=2, description="Stride of every layer but the last")
    dilation: int = Field(1, ge=1, le=3, description="Dilation of every layer")


def formula_rf(layers: int, kernel: int, stride: int, dilation: int, upto: int) -> int:
    r, jump = 1, 1
    for i in range(upto):
        r += (kernel - 1) * dilation * jump
        jump *= stride if i < layers - 1 else 1
    return r


def measure(params: Params, upto: int, device: str) -> tuple[int, list[float]]:
    import torch
    from torch import nn

    rf = formula_rf(params.layers, params.kernel, params.stride, params.dilation, upto)
    size = 2 * rf + 9
    convs = []
    for i in range(upto):
        s = params.stride if i < params.layers - 1 else 1
        conv = nn.Conv2d(1, 1, params.kernel, stride=s, dilation=params.dilation, bias=False)
        # Positive weights: no accidental cancellation can hide a pixel from the gradient.
        conv.weight.data = torch.rand(conv.weight.shape).add(0.5).to(device)
        convs.append(conv.to(device))
    x = torch.randn(1, 1, size, size).to(device).requires_grad_(True)
    y = x
    for conv in convs:
        y = conv(y)
    h, w = y.shape[-2:]
    y[0, 0, h // 2, w // 2].backward()
    grad = x.grad[0, 0].abs()
    row = grad.sum(dim=0)
    nonzero = (row > 0).nonzero().flatten()
    width = int(nonzero.max() - nonzero.min() + 1)
    lo, hi = int(nonzero.min()), int(nonzero.max())
    return width, [float(v) for v in row[lo : hi + 1]]


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    rows = []
    for upto in range(1, params.layers + 1):
        width, profile = measure(params, upto, ctx.device)
        naive = 1 + upto * params.dilation * (params.kernel - 1)
        rows.append(
            [
                upto,
                formula_rf(params.layers, params.kernel, params.stride, params.dilation, upto),
                width,
                naive,
            ]
        )
    r_formula, r_measured, naive = rows[-1][1], rows[-1][2], rows[-1][3]
    total = sum(profile)
    n = len(profile)
    xs = [float(i - n // 2) for i in range(n)]
    inner = [abs(x) <= (n - 1) / 4 for x in xs]
    central = sum(g for g, keep in zip(profile, inner, strict=True) if keep) / total
    pixel_share = sum(inner) / n  # what a flat (uniform) receptive field would give
    chart = Chart(
        id="gradient-profile",
        title="|d out / d input| along the centre row",
        kind="bar",
        x_label="input column (offset from centre)",
        y_label="gradient magnitude",
        categories=[str(int(v)) for v in xs],
        series=[Series(name="gradient", x=xs, y=profile)],
    )
    table = Table(
        title="Receptive field per layer",
        columns=["layer", "formula r", "measured r", "naive sum"],
        rows=rows,
    )
    claims = [
        Claim(
            id="rf-matches-formula",
            text=CLAIMS["rf-matches-formula"],
            passed=r_formula == r_measured,
            values={"formula": r_formula, "measured": r_measured},
        ),
        Claim(
            id="stride-multiplies-growth",
            text=CLAIMS["stride-multiplies-growth"],
            passed=naive < r_measured,
            values={"naive": naive, "measured": r_measured},
        ),
        Claim(
            id="effective-rf-concentrated",
            text=CLAIMS["effective-rf-concentrated"],
            passed=central > pixel_share + 0.10,
            values={"central_half_share": central, "pixel_share": pixel_share},
        ),
    ]
    return DemoResult(
        summary=f"{params.layers} layers, k={params.kernel}, s={params.stride}, "
        f"d={params.dilation}: "
        f"receptive field {r_measured} px (formula {r_formula}, naive {naive}); "
        f"{central:.0%} of the gradient in the central half.",
        summary_zh=f"{params.layers} 层，k={params.kernel}，s={params.stride}，"
        f"d={params.dilation}："
        f"感受野 {r_measured} 像素（公式 {r_formula}，朴素求和 {naive}）；"
        f"{central:.0%} 的梯度集中在中央一半。",
        metrics={
            "rf_formula": r_formula,
            "rf_measured": r_measured,
            "naive_sum": naive,
            "central_half_share": central,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
