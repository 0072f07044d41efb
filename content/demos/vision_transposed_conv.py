"""Transposed convolution: output size, and the checkerboard its uneven overlap leaves."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series

TITLE = "Transposed convolution and checkerboard artefacts"
TITLE_ZH = "转置卷积与棋盘格伪影"
DESCRIPTION = (
    "Upsamples a constant image with a transposed conv whose weights are all equal, and with "
    "nearest-neighbour resize followed by a conv; counts how unevenly the output is covered."
)
DESCRIPTION_ZH = (
    "用权重全相等的转置卷积对常数图像上采样，再与最近邻缩放 + 卷积对比，统计输出被覆盖得有多不"
    "均匀。"
)
CLAIMS = {
    "output-size-formula": "A transposed conv gives H_out = (H - 1) s - 2p + k.",
    "checkerboard-when-uneven-overlap": (
        "When the kernel size is not a multiple of the stride, a constant input gives an interior "
        "output that alternates between two or more values (a checkerboard)."
    ),
    ("resize-conv-uniform"): (
        "Nearest-neighbour resize followed by a conv gives a uniform interior on a constant input."
    ),
}
CLAIMS_ZH = {
    "output-size-formula": "转置卷积的输出尺寸为 H_out = (H - 1) s - 2p + k。",
    ("checkerboard-when-uneven-overlap"): (
        "当卷积核大小不是步长的整数倍时，常数输入的输出内部在两个或更多值之间交替（棋盘格）。"
    ),
    "resize-conv-uniform": "先最近邻缩放再卷积，常数输入的输出内部是均匀的。",
}
CLAIM_SHOWN_WHEN = {
    "output-size-formula": "always: it does not depend on the parameters",
    "resize-conv-uniform": "always: it does not depend on the parameters",
    "checkerboard-when-uneven-overlap": "kernel not a multiple of stride (e.g. kernel 3, stride 2)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "output-size-formula": "总成立：与参数无关",
    "resize-conv-uniform": "总成立：与参数无关",
    "checkerboard-when-uneven-overlap": "kernel 不是 stride 的整数倍（如 kernel 3，stride 2）",
}
TEXT_ZH = {
    "Kernel size of the transposed conv": "转置卷积的核大小",
    "Stride (upsampling factor)": "步长（上采样倍数）",
    "Input height and width": "输入的高和宽",
    "Centre row of the upsampled constant image": "上采样后常数图像的中心行",
    "output column": "输出列",
    "value": "值",
    "transposed conv": "转置卷积",
    "resize + conv": "缩放 + 卷积",
}


class Params(BaseModel):
    kernel: int = Field(3, ge=1, le=8, description="Kernel size of the transposed conv")
    stride: int = Field(2, ge=1, le=4, description="Stride (upsampling factor)")
    size: int = Field(8, ge=4, le=32, description="Input height and width")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn
    from torch.nn import functional as F

    torch.manual_seed(ctx.seed)
    k, s, n = params.kernel, params.stride, params.size
    x = torch.ones(1, 1, n, n).to(ctx.device)
    up = nn.ConvTranspose2d(1, 1, k, stride=s, bias=False).to(ctx.device)
    nn.init.constant_(up.weight, 1.0)
    conv = nn.Conv2d(1, 1, 3, padding=1, bias=False).to(ctx.device)
    nn.init.constant_(conv.weight, 1.0 / 9)
    with torch.no_grad():
        y = up(x)
        z = conv(F.interpolate(x, scale_factor=s, mode="nearest"))
    expected = (n - 1) * s + k
    # Interior: away from the borders, where coverage would be even if it ever is.
    inner_y = y[0, 0, k : y.shape[-2] - k, k : y.shape[-1] - k]
    inner_z = z[0, 0, 2:-2, 2:-2]
    spread_y = float(inner_y.max() - inner_y.min()) if inner_y.numel() else 0.0
    spread_z = float(inner_z.max() - inner_z.min())
    row_y = [float(v) for v in y[0, 0, y.shape[-2] // 2]]
    row_z = [float(v) for v in z[0, 0, z.shape[-2] // 2]]
    chart = Chart(
        id="centre-row",
        title="Centre row of the upsampled constant image",
        x_label="output column",
        y_label="value",
        series=[
            Series(name="transposed conv", x=[float(i) for i in range(len(row_y))], y=row_y),
            Series(name="resize + conv", x=[float(i) for i in range(len(row_z))], y=row_z),
        ],
    )
    claims = [
        Claim(
            id="output-size-formula",
            text=CLAIMS["output-size-formula"],
            passed=y.shape[-1] == expected,
            values={"measured": int(y.shape[-1]), "formula": expected},
        ),
        Claim(
            id="checkerboard-when-uneven-overlap",
            text=CLAIMS["checkerboard-when-uneven-overlap"],
            passed=spread_y > 0.5,
            values={
                "interior_max_minus_min": spread_y,
                "interior_min": float(inner_y.min()),
                "interior_max": float(inner_y.max()),
            },
        ),
        Claim(
            id="resize-conv-uniform",
            text=CLAIMS["resize-conv-uniform"],
            passed=spread_z < 1e-5,
            values={"interior_max_minus_min": spread_z},
        ),
    ]
    return DemoResult(
        summary=f"k={k}, s={s}: transposed-conv interior ranges "
        f"{float(inner_y.min()):.0f}..{float(inner_y.max()):.0f} "
        f"on a constant input; resize + conv spreads {spread_z:.1e}.",
        summary_zh=f"k={k}，s={s}：常数输入经转置卷积后内部取值在 "
        f"{float(inner_y.min()):.0f}..{float(inner_y.max()):.0f} "
        "之间；"
        f"缩放 + 卷积的极差为 {spread_z:.1e}。",
        metrics={
            "output_size": int(y.shape[-1]),
            "transposed_spread": spread_y,
            "resize_conv_spread": spread_z,
        },
        charts=[chart],
        claims=claims,
    )
