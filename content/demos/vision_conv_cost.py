"""Counting a conv layer's parameters and FLOPs, and what 1x1 bottlenecks and GAP heads save."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Parameters and FLOPs of conv layers, bottlenecks and heads"
TITLE_ZH = "卷积层、瓶颈结构与分类头的参数量和 FLOPs"
DESCRIPTION = (
    "Counts a conv layer's parameters and FLOPs with PyTorch's own counter against the "
    "formulas, then compares a 1x1 bottleneck with two 3x3 convs, two 3x3 convs with one 5x5, "
    "and a global-average-pooling head with a flatten + fully-connected head."
)
DESCRIPTION_ZH = (
    "用 PyTorch 自带的计数器统计卷积层的参数量和 FLOPs，与公式对照；再比较 1x1 瓶颈结构与"
    "两个 3x3 卷积、"
    "两个 3x3 卷积与一个 5x5 卷积、全局平均池化头与展平 + 全连接头。"
)
CLAIMS = {
    "params-match-formula": "A conv layer has (k^2 C_in + 1) C_out parameters.",
    "flops-match-formula": (
        "Its forward pass costs 2 k^2 C_in C_out H_out W_out FLOPs (one multiply-add = 2 FLOPs), "
        "as PyTorch's FLOP counter reports."
    ),
    "bottleneck-cheaper": (
        "A 1x1-reduce, 3x3, 1x1-expand bottleneck (4x reduction) has under a fifth of the "
        "parameters of two full-width 3x3 convs."
    ),
    "two-3x3-cheaper-than-5x5": (
        "Two stacked 3x3 convs (receptive field 5) have 18 C^2 weights, 72% of one 5x5 conv's "
        "25 C^2."
    ),
    "gap-head-smaller": (
        "A global-average-pooling head has H W times fewer weights than a flatten + "
        "fully-connected head, and still runs on a larger input."
    ),
}
CLAIMS_ZH = {
    "params-match-formula": "一个卷积层有 (k^2 C_in + 1) C_out 个参数。",
    "flops-match-formula": (
        "前向计算需要 2 k^2 C_in C_out H_out W_out 次浮点运算（一次乘加算 2 FLOPs），与 PyTorch "
        "的 FLOP 计数器一致。"
    ),
    ("bottleneck-cheaper"): (
        "1x1 降维、3x3、1x1 升维的瓶颈结构（降 4 倍）的参数量不到两个全宽 3x3 卷积的五分之一。"
    ),
    ("two-3x3-cheaper-than-5x5"): (
        "两个堆叠的 3x3 卷积（感受野 5）有 18 C^2 个权重，是一个 5x5 卷积 25 C^2 的 72%。"
    ),
    "gap-head-smaller": "全局平均池化头的权重比展平 + 全连接头少 H W 倍，而且能处理更大的输入。",
}
CLAIM_SHOWN_WHEN = {
    "params-match-formula": "always: it does not depend on the parameters",
    "flops-match-formula": "always: it does not depend on the parameters",
    "bottleneck-cheaper": "always: it does not depend on the parameters",
    "two-3x3-cheaper-than-5x5": "always: it does not depend on the parameters",
    "gap-head-smaller": "size >= 2 (a 1x1 feature map makes both heads the same)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "params-match-formula": "总成立：与参数无关",
    "flops-match-formula": "总成立：与参数无关",
    "bottleneck-cheaper": "总成立：与参数无关",
    "two-3x3-cheaper-than-5x5": "总成立：与参数无关",
    "gap-head-smaller": "size >= 2（1x1 的特征图上两种头一样）",
}
TEXT_ZH = {
    "Channels of the feature map": "特征图的通道数",
    "Kernel size of the counted layer": "被统计卷积层的核大小",
    "Feature-map height and width": "特征图的高和宽",
    "Classes of the head": "分类头的类别数",
    "Weights per design": "各设计的权重数",
    "design": "设计",
    "weights": "权重数",
    "weights (log scale)": "权重数（对数坐标）",
    "Counts against formulas": "计数与公式对照",
    "quantity": "量",
    "counted": "实测",
    "formula": "公式",
    "conv parameters": "卷积参数量",
    "conv FLOPs": "卷积 FLOPs",
    "two 3x3": "两个 3x3",
    "bottleneck": "瓶颈结构",
    "one 5x5": "一个 5x5",
    "flatten+FC head": "展平+全连接头",
    "GAP head": "GAP 头",
}


class Params(BaseModel):
    channels: int = Field(256, ge=8, le=512, description="Channels of the feature map")
    kernel: int = Field(3, ge=1, le=7, description="Kernel size of the counted layer")
    size: int = Field(7, ge=1, le=32, description="Feature-map height and width")
    classes: int = Field(10, ge=2, le=1000, description="Classes of the head")


def count(module: object) -> int:
    return sum(p.numel() for p in module.parameters())  # type: ignore[attr-defined]


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(ctx.seed)
    c, k, s = params.channels, params.kernel, params.size
    conv = nn.Conv2d(c, c, k, padding=k // 2).to(ctx.device)
    x = torch.randn(1, c, s, s).to(ctx.device)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        y = conv(x)
    flops = int(counter.get_total_flops())
    flops_formula = 2 * k * k * c * c * y.shape[-1] * y.shape[-2]
    params_formula = (k * k * c + 1) * c

    two_3x3 = nn.Sequential(
        nn.Conv2d(c, c, 3, padding=1, bias=False), nn.Conv2d(c, c, 3, padding=1, bias=False)
    )
    one_5x5 = nn.Conv2d(c, c, 5, padding=2, bias=False)
    mid = c // 4
    bottleneck = nn.Sequential(
        nn.Conv2d(c, mid, 1, bias=False),
        nn.Conv2d(mid, mid, 3, padding=1, bias=False),
        nn.Conv2d(mid, c, 1, bias=False),
    )
    flatten_head = nn.Sequential(nn.Flatten(), nn.Linear(c * s * s, params.classes))
    gap_head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, params.classes))
    bigger = torch.randn(1, c, 2 * s, 2 * s)
    gap_runs_bigger = gap_head(bigger).shape == (1, params.classes)
    try:
        flatten_head(bigger)
        flatten_runs_bigger = True
    except RuntimeError:
        flatten_runs_bigger = False

    n = {
        "two 3x3": count(two_3x3),
        "bottleneck": count(bottleneck),
        "one 5x5": count(one_5x5),
        "flatten+FC head": count(flatten_head),
        "GAP head": count(gap_head),
    }
    chart = Chart(
        id="weights",
        title="Weights per design",
        kind="bar",
        x_label="design",
        y_label="weights (log scale)",
        log_y=True,
        categories=list(n),
        series=[
            Series(
                name="weights",
                x=[float(i) for i in range(len(n))],
                y=[float(v) for v in n.values()],
            )
        ],
    )
    table = Table(
        title="Counts against formulas",
        columns=["quantity", "counted", "formula"],
        rows=[
            ["conv parameters", count(conv), params_formula],
            ["conv FLOPs", flops, flops_formula],
        ],
    )
    bottleneck_share = n["bottleneck"] / n["two 3x3"]
    vgg_share = n["two 3x3"] / n["one 5x5"]
    head_ratio = (n["flatten+FC head"] - params.classes) / (n["GAP head"] - params.classes)
    claims = [
        Claim(
            id="params-match-formula",
            text=CLAIMS["params-match-formula"],
            passed=count(conv) == params_formula,
            values={"counted": count(conv), "formula": params_formula},
        ),
        Claim(
            id="flops-match-formula",
            text=CLAIMS["flops-match-formula"],
            passed=flops == flops_formula,
            values={"counted": flops, "formula": flops_formula},
        ),
        Claim(
            id="bottleneck-cheaper",
            text=CLAIMS["bottleneck-cheaper"],
            passed=bottleneck_share < 0.2,
            values={"share": bottleneck_share},
        ),
        Claim(
            id="two-3x3-cheaper-than-5x5",
            text=CLAIMS["two-3x3-cheaper-than-5x5"],
            passed=abs(vgg_share - 0.72) < 1e-9,
            values={"share": vgg_share},
        ),
        Claim(
            id="gap-head-smaller",
            text=CLAIMS["gap-head-smaller"],
            passed=head_ratio == s * s and s > 1 and gap_runs_bigger and not flatten_runs_bigger,
            values={
                "weight_ratio": head_ratio,
                "gap_runs_on_2x_input": gap_runs_bigger,
                "flatten_runs_on_2x_input": flatten_runs_bigger,
            },
        ),
    ]
    return DemoResult(
        summary=f"C={c}, k={k}, {s}x{s}: conv has {count(conv)} parameters and {flops} FLOPs (both "
        "match the "
        f"formulas); the bottleneck has {bottleneck_share:.1%} of two 3x3 convs' weights; the GAP "
        f"head has {head_ratio:.0f}x fewer weights than flatten + FC.",
        summary_zh=f"C={c}，k={k}，{s}x{s}：卷积层有 {count(conv)} 个参数、{flops} FLOPs（都与公式"
        "一"
        "致"
        "）；"
        f"瓶颈结构的权重是两个 3x3 卷积的 {bottleneck_share:.1%}；GAP 头的权重比展平 + 全连"
        f"接少 {head_ratio:.0f} 倍。",
        metrics={
            "conv_params": count(conv),
            "conv_flops": flops,
            "bottleneck_share": bottleneck_share,
            "two_3x3_over_5x5": vgg_share,
            "head_weight_ratio": head_ratio,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
