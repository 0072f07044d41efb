"""Tensor shapes through a Conv2d layer: kernel depth, kernel count, output size, NCHW layout."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Shapes through a convolution layer"
DESCRIPTION = (
    "Builds nn.Conv2d for the chosen channels, kernel, stride, padding and type, and checks its "
    "weight shape, which input channels each output channel reads, the output size and the "
    "input layout."
)
CLAIMS = {
    "kernel-depth-equals-input-channels": (
        "With the configured convolution type, every kernel spans all input channels: the "
        "weight is "
        "(C_out, C_in, k, k), and changing any one input channel changes every output channel."
    ),
    "same-padding-keeps-size": (
        "With the configured kernel, stride and padding, the output keeps the input's height "
        "and width."
    ),
    "layout-is-channels-first": (
        "A batch in the configured memory layout is read correctly: PyTorch's Conv2d takes "
        "dimension 1 as channels (N, C, H, W), so the result matches the N, C, H, W computation."
    ),
}
TITLE_ZH = "卷积层中的张量形状"
DESCRIPTION_ZH = (
    "按所选的通道数、卷积核、步幅、填充和类型构建 nn.Conv2d，检查权重形状、每个输出通道读取哪些输"
    "入通道、输出大小和输入布局。"
)
CLAIMS_ZH = {
    "kernel-depth-equals-input-channels": (
        "在所设卷积类型下，每个卷积核覆盖所有输入通道：权重是 (C_out, C_in, k, k)，改变任一输入通"
        "道都会改变每个输出通道。"
    ),
    "same-padding-keeps-size": "在所设的卷积核、步幅和填充下，输出保持输入的高和宽。",
    "layout-is-channels-first": (
        "所设内存布局的批次被正确读取：PyTorch 的 Conv2d 把第 1 维当作通道 (N, C, H, W)，结果与按"
        " N, C, H, W 的计算一致。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "kernel-depth-equals-input-channels": (
        "conv_type standard (a depthwise kernel sees one channel)"
    ),
    "same-padding-keeps-size": (
        "stride 1 with padding = (kernel - 1) / 2, e.g. kernel 3 and padding 1 (the defaults)"
    ),
    "layout-is-channels-first": "layout NCHW",
}
CLAIM_SHOWN_WHEN_ZH = {
    "kernel-depth-equals-input-channels": "conv_type 为 standard（depthwise 卷积核只看一个通道）",
    "same-padding-keeps-size": (
        "stride 为 1 且 padding = (kernel - 1) / 2，例如 kernel 3、padding 1（默认）"
    ),
    "layout-is-channels-first": "layout 为 NCHW",
}
TEXT_ZH = {
    "Input channels C_in (3 for an RGB image)": "输入通道数 C_in（RGB 图像为 3）",
    "Output channels C_out = number of kernels": "输出通道数 C_out = 卷积核个数",
    "Kernel size k": "卷积核大小 k",
    "Stride s": "步幅 s",
    "Zero padding p on each side": "每边零填充 p",
    "Input height and width": "输入高和宽",
    "standard (groups=1) or depthwise (groups=C_in; C_out rounded to a multiple of C_in)": (
        "standard（groups=1）或 depthwise（groups=C_in；C_out 取整为 C_in 的倍数）"
    ),
    "Memory layout of the batch handed to the layer": "传给该层的批数据的内存布局",
    "Shapes": "形状",
    "tensor": "张量",
    "shape": "形状",
    "input (N, C_in, H, W)": "输入 (N, C_in, H, W)",
    "weight (C_out, C_in / groups, k, k)": "权重 (C_out, C_in / groups, k, k)",
    "bias (C_out)": "偏置 (C_out)",
    "output (N, C_out, H_out, W_out)": "输出 (N, C_out, H_out, W_out)",
    "H_out by formula floor((H + 2p - k) / s) + 1": "公式 floor((H + 2p - k) / s) + 1 算出的 H_out",
    "parameters C_out * (C_in / groups * k * k + 1)": "参数量 C_out * (C_in / groups * k * k + 1)",
    "Parameters: this layer vs a dense layer with the same input and output sizes": (
        "参数量：本层与输入输出大小相同的全连接层"
    ),
    "parameters": "参数量",
}


class Params(BaseModel):
    in_channels: int = Field(3, ge=1, le=32, description="Input channels C_in (3 for an RGB image)")
    out_channels: int = Field(
        16, ge=1, le=64, description="Output channels C_out = number of kernels"
    )
    kernel: int = Field(3, ge=1, le=7, description="Kernel size k")
    stride: int = Field(1, ge=1, le=4, description="Stride s")
    padding: int = Field(1, ge=0, le=3, description="Zero padding p on each side")
    size: int = Field(32, ge=8, le=64, description="Input height and width")
    conv_type: Literal["standard", "depthwise"] = Field(
        "standard",
        description=(
            "standard (groups=1) or depthwise (groups=C_in; C_out rounded to a multiple of C_in)"
        ),
    )
    layout: Literal["NCHW", "NHWC"] = Field(
        "NCHW", description="Memory layout of the batch handed to the layer"
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    c_in, k, s, p, h = params.in_channels, params.kernel, params.stride, params.padding, params.size
    groups = c_in if params.conv_type == "depthwise" else 1
    c_out = params.out_channels if groups == 1 else c_in * max(1, params.out_channels // c_in)
    conv = nn.Conv2d(c_in, c_out, k, stride=s, padding=p, groups=groups).to(device)

    x = torch.randn(1, c_in, h, h).to(device)
    with torch.no_grad():
        y = conv(x)

        ctx.progress(0.3, "which input channels each output channel reads")
        # Perturb one input channel per batch entry, on a small 12x12 input to keep this cheap.
        small = torch.randn(1, c_in, 12, 12).to(device)
        bumped = small.repeat(c_in, 1, 1, 1)
        bumped[torch.arange(c_in), torch.arange(c_in)] += 1.0
        changed = (conv(bumped) - conv(small)).abs().amax(
            dim=(2, 3)
        ) > 1e-6  # (perturbed channel, output channel)
        reads_all = bool(changed.all())
        full_depth = tuple(conv.weight.shape) == (c_out, c_in, k, k)

        ctx.progress(0.6, "layout")
        fed = x.permute(0, 2, 3, 1).contiguous() if params.layout == "NHWC" else x
        try:
            y_fed = conv(fed)
            layout_ok = y_fed.shape == y.shape and torch.allclose(y_fed, y)
            layout_note = f"output {tuple(y_fed.shape)}"
        except RuntimeError as exc:
            layout_ok = False
            layout_note = str(exc).splitlines()[0][:100]

    formula = (h + 2 * p - k) // s + 1
    n_params = sum(t.numel() for t in conv.parameters())
    table = Table(
        title="Shapes",
        columns=["tensor", "shape"],
        rows=[
            ["input (N, C_in, H, W)", str(tuple(x.shape))],
            ["weight (C_out, C_in / groups, k, k)", str(tuple(conv.weight.shape))],
            ["bias (C_out)", str(tuple(conv.bias.shape))],
            ["output (N, C_out, H_out, W_out)", str(tuple(y.shape))],
            ["H_out by formula floor((H + 2p - k) / s) + 1", str(formula)],
            ["parameters C_out * (C_in / groups * k * k + 1)", str(n_params)],
            [f"batch fed as {params.layout}", layout_note],
        ],
    )
    chart = Chart(
        id="param-count",
        title="Parameters: this layer vs a dense layer with the same input and output sizes",
        kind="bar",
        categories=["Conv2d", "dense (Linear)"],
        y_label="parameters",
        log_y=True,
        series=[
            Series(
                name="parameters",
                x=[0.0, 1.0],
                y=[float(n_params), float(c_in * h * h * y[0].numel() + y[0].numel())],
            )
        ],
    )
    claims = [
        Claim(
            id="kernel-depth-equals-input-channels",
            text=CLAIMS["kernel-depth-equals-input-channels"],
            passed=bool(full_depth and reads_all),
            values={
                "weight_shape": str(tuple(conv.weight.shape)),
                "every_output_reads_every_input": reads_all,
                "groups": groups,
            },
        ),
        Claim(
            id="same-padding-keeps-size",
            text=CLAIMS["same-padding-keeps-size"],
            passed=bool(y.shape[-1] == h and y.shape[-2] == h),
            values={"input_size": h, "output_size": int(y.shape[-1]), "formula": formula},
        ),
        Claim(
            id="layout-is-channels-first",
            text=CLAIMS["layout-is-channels-first"],
            passed=bool(layout_ok),
            values={"layout": params.layout, "result": layout_note},
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"Conv2d({c_in}, {c_out}, k={k}, s={s}, p={p}, groups={groups})：权重 "
            f"{tuple(conv.weight.shape)}，{tuple(x.shape)} -> {tuple(y.shape)}，{n_params} 个参数"
            "。"
        ),
        summary=(
            f"Conv2d({c_in}, {c_out}, k={k}, s={s}, p={p}, groups={groups}): weight "
            f"{tuple(conv.weight.shape)}, {tuple(x.shape)} -> {tuple(y.shape)}, {n_params} "
            f"parameters."
        ),
        metrics={
            "kernels": int(conv.weight.shape[0]),
            "kernel_depth": int(conv.weight.shape[1]),
            "output_channels": int(y.shape[1]),
            "output_size": int(y.shape[-1]),
            "parameters": n_params,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
