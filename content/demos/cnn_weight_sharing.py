"""Why convolutions suit images: far fewer parameters than a dense layer, and equivariance."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Weight sharing and translation equivariance"
DESCRIPTION = (
    "Compares a Conv2d layer with a dense layer mapping the same input to the same output "
    "size, and shifts a pattern in the image to see whether each layer's output shifts with it."
)
CLAIMS = {
    "conv-far-fewer-params-than-dense": (
        "For the configured image and kernel, the convolution has at least 1000 times fewer "
        "parameters than a dense layer with the same input and output sizes."
    ),
    "conv-translation-equivariant": (
        "With the configured stride and shift, shifting the input pattern shifts the convolution's "
        "output by shift / stride positions (max difference below 1e-5): the same detector runs "
        "at every position."
    ),
}
TITLE_ZH = "权重共享与平移等变性"
DESCRIPTION_ZH = (
    "比较一个 Conv2d 层和一个输入输出大小相同的全连接层，并平移图像中的图案，看各层的输出是否随之"
    "平移。"
)
CLAIMS_ZH = {
    "conv-far-fewer-params-than-dense": (
        "在所设的图像和卷积核下，卷积层的参数比输入输出大小相同的全连接层少至少 1000 倍。"
    ),
    "conv-translation-equivariant": (
        "在所设的步幅和平移下，平移输入图案会使卷积输出平移 shift / stride 个位置（最大差小于 1e-"
        "5）：同一个检测器在每个位置上运行。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "conv-far-fewer-params-than-dense": "size >= 16 with a small kernel (the defaults: 28 and 3)",
    "conv-translation-equivariant": "shift a multiple of stride (stride 1 always works)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "conv-far-fewer-params-than-dense": "size >= 16 且卷积核较小（默认 28 和 3）",
    "conv-translation-equivariant": "shift 是 stride 的整数倍（stride 为 1 时总成立）",
}
TEXT_ZH = {
    "Image height and width": "图像高和宽",
    "Kernel size": "卷积核大小",
    "Output channels": "输出通道数",
    "Stride": "步幅",
    "Pixels the pattern is shifted to the right": "图案向右平移的像素数",
    "Channel 0 response along the middle row": "通道 0 在中间一行上的响应",
    "output column": "输出列",
    "response": "响应",
    "Conv vs dense layer with the same input and output sizes": (
        "输入输出大小相同时卷积层与全连接层的比较"
    ),
    "layer": "层",
    "parameters": "参数量",
    "max |f(shift x) - shift f(x)| (channel 0)": "max |f(shift x) - shift f(x)|（通道 0）",
    "Conv2d": "Conv2d",
    "Linear (dense)": "Linear（全连接）",
    "original": "原始",
}


class Params(BaseModel):
    size: int = Field(28, ge=8, le=64, description="Image height and width")
    kernel: int = Field(3, ge=1, le=7, description="Kernel size")
    out_channels: int = Field(8, ge=1, le=32, description="Output channels")
    stride: int = Field(1, ge=1, le=3, description="Stride")
    shift: int = Field(3, ge=1, le=6, description="Pixels the pattern is shifted to the right")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    h, k, s = params.size, params.kernel, params.stride
    conv = nn.Conv2d(1, params.out_channels, k, stride=s, padding=k // 2).to(device)

    # A small random pattern on a zero background, away from the borders: shifting loses nothing.
    img = torch.zeros(1, 1, h, h, device=device)
    margin = params.shift + k
    size = max(1, min(5, h - 2 * margin))
    top = (h - size) // 2
    left = max(0, (h - size) // 2 - params.shift // 2)
    img[..., top : top + size, left : left + size] = torch.rand(size, size).to(device) + 0.5
    shifted = torch.roll(img, shifts=params.shift, dims=-1)

    ctx.progress(0.4, "convolving")
    with torch.no_grad():
        y, y_shift = conv(img), conv(shifted)
        out_shift = params.shift // s
        # Compare away from the borders, where zero padding cannot enter the picture.
        lo, hi = margin // s + 1, y.shape[-1] - margin // s - 1
        expected = torch.roll(y, shifts=out_shift, dims=-1)
        if hi > lo:
            eq_gap = float((y_shift - expected)[..., lo:hi].abs().max().item())
        else:
            eq_gap = float((y_shift - expected).abs().max().item())

        n_in, n_out = h * h, y[0].numel()
        # The full dense layer can need 10^8+ weights; one output channel suffices for equivariance.
        dense = nn.Linear(n_in, y[0, 0].numel()).to(device)
        d = dense(img.flatten(1)).view_as(y[:, :1])
        d_shift = dense(shifted.flatten(1)).view_as(y[:, :1])
        dense_gap = float((d_shift - torch.roll(d, shifts=out_shift, dims=-1)).abs().max().item())

    conv_params = sum(t.numel() for t in conv.parameters())
    dense_params = n_in * n_out + n_out
    ratio = dense_params / conv_params
    row = y.shape[-2] // 2
    xs = [float(i) for i in range(y.shape[-1])]
    chart = Chart(
        id="response-row",
        title="Channel 0 response along the middle row",
        x_label="output column",
        y_label="response",
        series=[
            Series(name="original", x=xs, y=[float(v) for v in y[0, 0, row].tolist()]),
            Series(
                name=f"input shifted by {params.shift}",
                x=xs,
                y=[float(v) for v in y_shift[0, 0, row].tolist()],
            ),
        ],
    )
    table = Table(
        title="Conv vs dense layer with the same input and output sizes",
        columns=["layer", "parameters", "max |f(shift x) - shift f(x)| (channel 0)"],
        rows=[["Conv2d", conv_params, eq_gap], ["Linear (dense)", dense_params, dense_gap]],
    )
    claims = [
        Claim(
            id="conv-far-fewer-params-than-dense",
            text=CLAIMS["conv-far-fewer-params-than-dense"],
            passed=bool(ratio >= 1000),
            values={
                "conv_parameters": conv_params,
                "dense_parameters": dense_params,
                "ratio": ratio,
            },
        ),
        Claim(
            id="conv-translation-equivariant",
            text=CLAIMS["conv-translation-equivariant"],
            passed=bool(params.shift % s == 0 and eq_gap < 1e-5),
            values={
                "max_difference": eq_gap,
                "stride": s,
                "shift": params.shift,
                "dense_max_difference": dense_gap,
            },
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"Conv2d：{conv_params} 个参数，全连接层 {dense_params} 个（{ratio:.0f} 倍）。平移 "
            f"{params.shift}：卷积输出偏差 {eq_gap:.2e}，全连接输出偏差 {dense_gap:.2e}。"
        ),
        summary=(
            f"Conv2d: {conv_params} parameters vs {dense_params} for the dense layer "
            f"({ratio:.0f}x). "
            f"Shift by {params.shift}: conv output off by {eq_gap:.2e}, dense output off by "
            f"{dense_gap:.2e}."
        ),
        metrics={
            "conv_parameters": conv_params,
            "dense_parameters": dense_params,
            "parameter_ratio": ratio,
            "conv_equivariance_error": eq_gap,
            "dense_equivariance_error": dense_gap,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
