"""A 2-D convolution by hand: sliding dot products, no kernel flip, output size, edge detection."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "What a convolution layer computes"
DESCRIPTION = (
    "Slides a 3x3 kernel over an image with a vertical edge, recomputes F.conv2d as dot "
    "products of "
    "patches (im2col), compares it with the flipped-kernel (textbook) convolution, and checks "
    "the output size."
)
CLAIMS = {
    "no-kernel-flip": (
        "F.conv2d equals the sliding-window sum of patch * kernel with the kernel as given, and "
        "differs from the flipped-kernel convolution of signal processing: it is a "
        "cross-correlation."
    ),
    "kernel-detects-vertical-edge": (
        "The configured kernel responds to the image's vertical edge (|output| >= 1 there) and "
        "outputs exactly 0 on the flat regions."
    ),
}
TITLE_ZH = "卷积层计算的是什么"
DESCRIPTION_ZH = (
    "让一个 3x3 卷积核滑过带竖直边缘的图像，把 F.conv2d 重算为图块的点积 (im2col)，与翻转卷积核的"
    "（教科书）卷积比较，并检查输出大小。"
)
CLAIMS_ZH = {
    "no-kernel-flip": (
        "F.conv2d 等于用原样卷积核做的滑窗 图块 * 卷积核 之和，而与信号处理中翻转卷积核的卷积不同"
        "：它是互相关。"
    ),
    "kernel-detects-vertical-edge": (
        "所设的卷积核对图像的竖直边缘有响应（那里 |输出| >= 1），在平坦区域输出恰好为 0。"
    ),
}

_KERNELS = {
    "vertical-edge": [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]],
    "horizontal-edge": [[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]],
    "blur": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
}


CLAIM_SHOWN_WHEN = {
    "no-kernel-flip": (
        "a kernel that is not symmetric under a flip (vertical-edge, horizontal-edge or random)"
    ),
    "kernel-detects-vertical-edge": "kernel vertical-edge (the default)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "no-kernel-flip": "卷积核翻转后不对称（vertical-edge、horizontal-edge 或 random）",
    "kernel-detects-vertical-edge": "kernel 为 vertical-edge（默认）",
}
TEXT_ZH = {
    "3x3 kernel: Sobel vertical/horizontal edge, Gaussian blur, or random": (
        "3x3 卷积核：Sobel 竖直/水平边缘、高斯模糊或随机"
    ),
    "Image height and width": "图像高和宽",
    "Stride": "步幅",
    "Zero padding on each side": "每边零填充",
    "Dilation (spacing between kernel taps)": "空洞（卷积核采样点的间距）",
    "Middle row of the output": "输出的中间一行",
    "output column": "输出列",
    "response": "响应",
    "Output size": "输出大小",
    "input": "输入",
    "kernel (effective)": "卷积核（有效大小）",
    "stride": "步幅",
    "padding": "填充",
    "formula floor((H+2p-k_eff)/s)+1": "公式 floor((H+2p-k_eff)/s)+1",
    "PyTorch": "PyTorch",
    "F.conv2d (cross-correlation)": "F.conv2d（互相关）",
    "flipped kernel (textbook convolution)": "翻转卷积核（教科书中的卷积）",
}


class Params(BaseModel):
    kernel: Literal["vertical-edge", "horizontal-edge", "blur", "random"] = Field(
        "vertical-edge",
        description="3x3 kernel: Sobel vertical/horizontal edge, Gaussian blur, or random",
    )
    size: int = Field(12, ge=8, le=64, description="Image height and width")
    stride: int = Field(1, ge=1, le=4, description="Stride")
    padding: int = Field(0, ge=0, le=3, description="Zero padding on each side")
    dilation: int = Field(1, ge=1, le=3, description="Dilation (spacing between kernel taps)")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    import torch.nn.functional as F

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    dt = torch.float64
    h = params.size
    img = torch.zeros(1, 1, h, h, dtype=dt, device=device)
    img[..., h // 2 :] = 1.0  # dark left half, bright right half: one vertical edge
    if params.kernel == "random":
        w = torch.randn(1, 1, 3, 3, dtype=dt).to(device)
    else:
        w = torch.tensor(_KERNELS[params.kernel], dtype=dt, device=device).view(1, 1, 3, 3)
    conv_kw = dict(stride=params.stride, padding=params.padding, dilation=params.dilation)

    ctx.progress(0.3, "conv2d and im2col")
    out = F.conv2d(img, w, **conv_kw)
    cols = F.unfold(img, kernel_size=3, **conv_kw)  # (1, 9, L): one column per window position
    manual = (w.view(1, 9) @ cols).view_as(out)
    flipped = F.conv2d(img, torch.flip(w, dims=(2, 3)), **conv_kw)
    gap_manual = float((out - manual).abs().max().item())
    gap_flip = float((out - flipped).abs().max().item())

    k_eff = params.dilation * 2 + 1
    formula = (h + 2 * params.padding - k_eff) // params.stride + 1
    size_ok = out.shape[-1] == formula and out.shape[-2] == formula

    ctx.progress(0.6, "edge response")
    # Map output columns back to input columns to find which windows touch the edge.
    cols_in = torch.arange(out.shape[-1], device=device) * params.stride - params.padding
    touches = (cols_in < h // 2) & (cols_in + k_eff - 1 >= h // 2)
    inside = (cols_in >= 0) & (cols_in + k_eff - 1 < h)
    rows_in = torch.arange(out.shape[-2], device=device) * params.stride - params.padding
    rows_inside = (rows_in >= 0) & (rows_in + k_eff - 1 < h)
    o = out[0, 0][rows_inside]
    edge_vals = o[:, touches & inside]
    flat_vals = o[:, ~touches & inside]
    edge_resp = float(edge_vals.abs().min().item()) if edge_vals.numel() else 0.0
    flat_resp = float(flat_vals.abs().max().item()) if flat_vals.numel() else 0.0
    detects = edge_vals.numel() > 0 and edge_resp >= 1.0 and flat_resp < 1e-12

    mid = out.shape[-2] // 2
    xs = [float(i) for i in range(out.shape[-1])]
    chart = Chart(
        id="middle-row",
        title="Middle row of the output",
        x_label="output column",
        y_label="response",
        series=[
            Series(
                name="F.conv2d (cross-correlation)",
                x=xs,
                y=[float(v) for v in out[0, 0, mid].tolist()],
            ),
            Series(
                name="flipped kernel (textbook convolution)",
                x=xs,
                y=[float(v) for v in flipped[0, 0, mid].tolist()],
            ),
        ],
    )
    table = Table(
        title="Output size",
        columns=[
            "input",
            "kernel (effective)",
            "stride",
            "padding",
            "formula floor((H+2p-k_eff)/s)+1",
            "PyTorch",
        ],
        rows=[[h, k_eff, params.stride, params.padding, formula, int(out.shape[-1])]],
    )
    claims = [
        Claim(
            id="no-kernel-flip",
            text=CLAIMS["no-kernel-flip"],
            passed=bool(gap_manual < 1e-9 and gap_flip > 1e-6),
            values={
                "conv2d_vs_sliding_sum": gap_manual,
                "conv2d_vs_flipped_kernel": gap_flip,
                "kernel": params.kernel,
            },
        ),
        Claim(
            id="kernel-detects-vertical-edge",
            text=CLAIMS["kernel-detects-vertical-edge"],
            passed=bool(detects),
            values={
                "min_abs_response_at_edge": edge_resp,
                "max_abs_response_on_flat": flat_resp,
                "kernel": params.kernel,
            },
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"{h}x{h} 图像，{params.kernel} 卷积核，stride {params.stride}，padding "
            f"{params.padding}，dilation {params.dilation}：输出 {out.shape[-2]}x{out.shape[-1]}；"
            f"边缘响应 {edge_resp:.3g}，平坦区域响应 {flat_resp:.3g}。"
        ),
        summary=(
            f"{h}x{h} image, {params.kernel} kernel, stride {params.stride}, padding "
            f"{params.padding}, "
            f"dilation {params.dilation}: output {out.shape[-2]}x{out.shape[-1]}; edge response "
            f"{edge_resp:.3g}, flat response {flat_resp:.3g}."
        ),
        metrics={
            "output_size": int(out.shape[-1]),
            "formula_size": formula,
            "formula_matches": bool(size_ok),
            "conv2d_vs_flipped_kernel": gap_flip,
            "parameters": 9,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
