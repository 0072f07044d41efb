"""Depthwise-separable convolution: parameter ratio, output shape, and what it cannot express."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Depthwise-separable vs standard convolution"
TITLE_ZH = "深度可分离卷积与标准卷积"
DESCRIPTION = (
    "Builds a standard conv and a depthwise + pointwise pair with the same input and output "
    "channels, and compares parameters, multiply-adds, output shape and the equivalent kernel."
)
DESCRIPTION_ZH = (
    "构造输入、输出通道相同的标准卷积和逐深度 + 逐点卷积组合，比较参数量、乘加次数、输出形状和"
    "等价卷积核。"
)
CLAIMS = {
    "param-ratio-matches-formula": (
        "The separable pair has (k^2 C_in + C_in C_out) / (k^2 C_in C_out) = 1/C_out + 1/k^2 "
        "of the standard conv's parameters."
    ),
    "same-output-shape": "Both layers map the same input to the same output shape.",
    ("separable-much-cheaper"): (
        "The separable pair costs at most a fifth of the standard conv's multiply-adds."
    ),
    "equivalent-kernel-rank-one": (
        "The separable pair equals a standard conv whose kernel, per input channel, is a rank-1 "
        "(C_out x k^2) matrix; a randomly initialised standard kernel has full rank."
    ),
}
CLAIMS_ZH = {
    "param-ratio-matches-formula": (
        "可分离组合的参数量是标准卷积的 (k^2 C_in + C_in C_out) / (k^2 C_in C_out) = 1/C_out "
        "+ 1/k^2。"
    ),
    "same-output-shape": "两种层把同一输入映射为同样形状的输出。",
    "separable-much-cheaper": "可分离组合的乘加次数最多是标准卷积的五分之一。",
    "equivalent-kernel-rank-one": (
        "可分离组合等价于一个标准卷积，其卷积核在每个输入通道上是秩为 1 的 (C_out x k^2) 矩阵"
        "；随机标准卷积核是满秩的。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "param-ratio-matches-formula": "always: it does not depend on the parameters",
    "same-output-shape": "always: it does not depend on the parameters",
    "equivalent-kernel-rank-one": (
        "kernel >= 2 and out_channels >= 2 (a 1 x 1 or single-column kernel is rank 1 anyway)"
    ),
    "separable-much-cheaper": "kernel >= 3 and out_channels >= 8",
}
CLAIM_SHOWN_WHEN_ZH = {
    "param-ratio-matches-formula": "总成立：与参数无关",
    "same-output-shape": "总成立：与参数无关",
    "equivalent-kernel-rank-one": (
        "kernel >= 2 且 out_channels >= 2（1 x 1 或只有一列的卷积核本来就是秩 1）"
    ),
    "separable-much-cheaper": "kernel >= 3 且 out_channels >= 8",
}
TEXT_ZH = {
    "Input channels": "输入通道数",
    "Output channels": "输出通道数",
    "Kernel size": "卷积核大小",
    "Feature-map height and width": "特征图高和宽",
    "Cost relative to the standard conv": "相对标准卷积的开销",
    "layer": "层",
    "share of standard": "占标准卷积的比例",
    "parameters": "参数量",
    "Layer costs": "各层开销",
    "multiply-adds": "乘加次数",
    "output shape": "输出形状",
    "standard": "标准卷积",
    "depthwise": "逐深度卷积",
    "pointwise": "逐点卷积",
    "separable total": "可分离合计",
}


class Params(BaseModel):
    in_channels: int = Field(32, ge=1, le=128, description="Input channels")
    out_channels: int = Field(64, ge=1, le=256, description="Output channels")
    kernel: int = Field(3, ge=1, le=7, description="Kernel size")
    size: int = Field(16, ge=8, le=64, description="Feature-map height and width")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn
    from torch.nn import functional as F

    torch.manual_seed(ctx.seed)
    c_in, c_out, k = params.in_channels, params.out_channels, params.kernel
    pad = k // 2
    standard = nn.Conv2d(c_in, c_out, k, padding=pad, bias=False).to(ctx.device)
    depthwise = nn.Conv2d(c_in, c_in, k, padding=pad, groups=c_in, bias=False).to(ctx.device)
    pointwise = nn.Conv2d(c_in, c_out, 1, bias=False).to(ctx.device)
    x = torch.randn(2, c_in, params.size, params.size).to(ctx.device)
    with torch.no_grad():
        y_std = standard(x)
        y_sep = pointwise(depthwise(x))
        # Compose the pair into one standard kernel: W[o, c] = P[o, c] * D[c].
        composed = pointwise.weight[:, :, 0, 0, None, None] * depthwise.weight[:, 0][None]
        y_composed = F.conv2d(x, composed, padding=pad)
    n_std = sum(p.numel() for p in standard.parameters())
    n_dw = sum(p.numel() for p in depthwise.parameters())
    n_pw = sum(p.numel() for p in pointwise.parameters())
    ratio = (n_dw + n_pw) / n_std
    formula = 1 / c_out + 1 / k**2
    hw = y_std.shape[-1] * y_std.shape[-2]
    macs_std, macs_dw, macs_pw = n_std * hw, n_dw * hw, n_pw * hw
    mac_ratio = (macs_dw + macs_pw) / macs_std
    equal = float((y_composed - y_sep).abs().max())
    ranks_sep = [
        int(torch.linalg.matrix_rank(composed[:, c].reshape(c_out, -1))) for c in range(c_in)
    ]
    ranks_std = [
        int(torch.linalg.matrix_rank(standard.weight[:, c].detach().reshape(c_out, -1)))
        for c in range(c_in)
    ]
    full = min(c_out, k * k)
    rows = [
        ["standard", n_std, macs_std, str(tuple(y_std.shape))],
        ["depthwise", n_dw, macs_dw, ""],
        ["pointwise", n_pw, macs_pw, ""],
        ["separable total", n_dw + n_pw, macs_dw + macs_pw, str(tuple(y_sep.shape))],
    ]
    chart = Chart(
        id="cost-share",
        title="Cost relative to the standard conv",
        kind="bar",
        x_label="layer",
        y_label="share of standard",
        categories=["parameters", "multiply-adds"],
        series=[
            Series(name="standard", x=[0, 1], y=[1.0, 1.0]),
            Series(name="separable total", x=[0, 1], y=[ratio, mac_ratio]),
        ],
    )
    claims = [
        Claim(
            id="param-ratio-matches-formula",
            text=CLAIMS["param-ratio-matches-formula"],
            passed=abs(ratio - formula) < 1e-9,
            values={"measured": ratio, "formula": formula},
        ),
        Claim(
            id="same-output-shape",
            text=CLAIMS["same-output-shape"],
            passed=y_std.shape == y_sep.shape,
            values={"standard": str(tuple(y_std.shape)), "separable": str(tuple(y_sep.shape))},
        ),
        Claim(
            id="separable-much-cheaper",
            text=CLAIMS["separable-much-cheaper"],
            passed=mac_ratio <= 0.2,
            values={"mac_ratio": mac_ratio},
        ),
        Claim(
            id="equivalent-kernel-rank-one",
            text=CLAIMS["equivalent-kernel-rank-one"],
            passed=equal < 1e-4 and max(ranks_sep) == 1 and min(ranks_std) == full and full > 1,
            values={
                "max_abs_diff": equal,
                "separable_rank": max(ranks_sep),
                "standard_rank": min(ranks_std),
            },
        ),
    ]
    return DemoResult(
        summary=f"C_in={c_in}, C_out={c_out}, k={k}: the separable pair has {ratio:.3f} of the "
        f"parameters (formula {formula:.3f}) and {mac_ratio:.3f} of the multiply-adds.",
        summary_zh=f"C_in={c_in}，C_out={c_out}，k={k}：可分离组合的参数量是标准卷积的 {ratio:.3f}"
        f"（公式 {formula:.3f}），乘加次数是 {mac_ratio:.3f}。",
        metrics={
            "params_standard": n_std,
            "params_separable": n_dw + n_pw,
            "param_ratio": ratio,
            "mac_ratio": mac_ratio,
        },
        tables=[
            Table(
                title="Layer costs",
                columns=["layer", "parameters", "multiply-adds", "output shape"],
                rows=rows,
            )
        ],
        charts=[chart],
        claims=claims,
    )
