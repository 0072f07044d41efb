"""Weight and activation quantization to int8/int4: scales, outliers and what breaks."""

# ruff: noqa: E501  (Chinese strings count double width; splitting them hurts reading)

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "int8 and int4 quantization: scales and outliers"
DESCRIPTION = (
    "Quantizes a linear layer's weights to int8 and int4 with one scale per tensor or per "
    "output channel, with and without outlier weights, and quantizes its inputs to int8 with "
    "and without outlier features, measuring the layer's output error each time."
)
TITLE_ZH = "int8 与 int4 量化：缩放因子与离群值"
DESCRIPTION_ZH = (
    "把一个线性层的权重量化到 int8 和 int4，分别用整个张量一个缩放因子和每个输出通道一个缩放因子，"
    "比较有无离群权重；再把输入激活量化到 int8，比较有无离群特征；每次都测量该层输出的误差。"
)
CLAIMS = {
    "int8-is-nearly-lossless": (
        "int8 weights with per-channel scales change the layer's output by under 1% (relative "
        "error), outliers or not."
    ),
    "int4-is-much-coarser": (
        "int4 weights (per-channel) give at least 8 times the output error of int8, as 16 "
        "levels against 256 predict."
    ),
    "weight-outliers-hurt-per-tensor": (
        "With the configured outlier scale, a single per-tensor scale makes the int8 output "
        "error of the other output channels at least 5 times larger than without outliers."
    ),
    "per-channel-contains-outliers": (
        "Per-output-channel scales keep the int8 error within 2 times its no-outlier value: an "
        "outlier row only coarsens its own row."
    ),
    "activation-outliers-break-int8": (
        "With the configured outlier scale, a few outlier input features make per-token int8 "
        "activations at least 5 times less accurate; keeping those features in floating point "
        "(LLM.int8-style) brings the error back within 2 times the no-outlier value."
    ),
}
CLAIMS_ZH = {
    "int8-is-nearly-lossless": "每通道缩放的 int8 权重让该层输出的相对误差小于 1%，有没有离群值都一样。",
    "int4-is-much-coarser": "int4 权重（每通道）的输出误差至少是 int8 的 8 倍，和 16 级对 256 级的预期一致。",
    "weight-outliers-hurt-per-tensor": "在所选离群值倍数下，整个张量只用一个缩放因子时，其余输出通道的 int8 误差至少是无离群值时的 5 倍。",
    "per-channel-contains-outliers": "每个输出通道一个缩放因子时，int8 误差不超过无离群值时的 2 倍：离群的行只会让它自己那一行变粗糙。",
    "activation-outliers-break-int8": (
        "在所选离群值倍数下，少数离群输入特征让按 token 量化的 int8 激活误差至少变大 5 倍；"
        "把这些特征留在浮点（LLM.int8 的做法）后，误差回到无离群值时的 2 倍以内。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "int8-is-nearly-lossless": "always",
    "int4-is-much-coarser": "always",
    "weight-outliers-hurt-per-tensor": "outlier_scale >= 10",
    "per-channel-contains-outliers": "always",
    "activation-outliers-break-int8": "outlier_scale >= 15",
}
CLAIM_SHOWN_WHEN_ZH = {
    "int8-is-nearly-lossless": "总成立",
    "int4-is-much-coarser": "总成立",
    "weight-outliers-hurt-per-tensor": "outlier_scale >= 10",
    "per-channel-contains-outliers": "总成立",
    "activation-outliers-break-int8": "outlier_scale >= 15",
}
TEXT_ZH = {
    "Relative output error of the quantized layer": "量化后该层输出的相对误差",
    "configuration": "配置",
    "relative error": "相对误差",
    "without outliers": "无离群值",
    "with outliers": "有离群值",
    "Output error by scheme": "各方案的输出误差",
    "scheme": "方案",
    "error without outliers": "无离群值时的误差",
    "error with outliers": "有离群值时的误差",
    "int8 weights, per tensor": "int8 权重，整个张量",
    "int8 weights, per channel": "int8 权重，每通道",
    "int4 weights, per tensor": "int4 权重，整个张量",
    "int4 weights, per channel": "int4 权重，每通道",
    "int8 activations, per token": "int8 激活，按 token",
    "int8 activations, outlier features in fp": "int8 激活，离群特征保留浮点",
    "How much larger the outliers are than typical values": "离群值比一般数值大多少倍",
    "Input and output width of the layer": "该层的输入和输出宽度",
    "Number of outlier weight rows and of outlier input features": "离群权重行数和离群输入特征数",
}


class Params(BaseModel):
    outlier_scale: float = Field(
        30.0, ge=1.0, le=200.0, description="How much larger the outliers are than typical values"
    )
    width: int = Field(256, ge=32, le=1024, description="Input and output width of the layer")
    outliers: int = Field(
        4, ge=1, le=16, description="Number of outlier weight rows and of outlier input features"
    )


def _quantize(w, bits: int, axis: int | None):  # type: ignore[no-untyped-def]
    """Symmetric absmax quantization: one scale for the tensor (axis None) or per row."""
    qmax = 2 ** (bits - 1) - 1
    absmax = w.abs().max() if axis is None else w.abs().amax(dim=axis, keepdim=True)
    scale = absmax / qmax
    return (w / scale).round().clamp(-qmax, qmax) * scale


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    d, k = params.width, params.outliers
    w_clean = (torch.randn(d, d, dtype=torch.float64) / d**0.5).to(device)
    x_clean = torch.randn(512, d, dtype=torch.float64).to(device)
    rows = torch.randperm(d)[:k].to(device)
    feats = torch.randperm(d)[:k].to(device)
    w_out = w_clean.clone()
    w_out[rows] *= params.outlier_scale
    x_out = x_clean.clone()
    x_out[:, feats] *= params.outlier_scale

    def weight_error(w, bits: int, axis: int | None) -> float:  # type: ignore[no-untyped-def]
        ref = x_clean @ w.T
        got = x_clean @ _quantize(w, bits, axis).T
        # Error on the rows without outliers, where per-tensor scaling does its damage.
        keep = torch.ones(d, dtype=torch.bool, device=device)
        keep[rows] = False
        return float((got - ref)[:, keep].norm() / ref[:, keep].norm())

    normal = torch.ones(d, dtype=torch.bool, device=device)
    normal[feats] = False

    def activation_error(x, keep_outliers_fp: bool) -> float:  # type: ignore[no-untyped-def]
        """Relative error of the normal features' contribution to the output: what an
        outlier feature's scale takes away from everyone else."""
        if keep_outliers_fp:
            xq = x.clone()
            xq[:, normal] = _quantize(x[:, normal], 8, axis=1)
        else:
            xq = _quantize(x, 8, axis=1)  # one scale per token (row)
        w_normal = w_clean[:, normal]
        ref = x[:, normal] @ w_normal.T
        return float(((xq - x)[:, normal] @ w_normal.T).norm() / ref.norm())

    ctx.progress(0.3, "quantizing")
    errs = {}
    for bits in (8, 4):
        for axis, name in ((None, "per tensor"), (1, "per channel")):
            errs[(bits, name)] = (
                weight_error(w_clean, bits, axis),
                weight_error(w_out, bits, axis),
            )
    act_plain = (activation_error(x_clean, False), activation_error(x_out, False))
    act_mixed = (activation_error(x_clean, True), activation_error(x_out, True))

    int8_pc = errs[(8, "per channel")]
    int4_pc = errs[(4, "per channel")]
    int8_pt = errs[(8, "per tensor")]
    ctx.progress(0.9, "summarizing")
    claims = [
        Claim(
            id="int8-is-nearly-lossless",
            text=CLAIMS["int8-is-nearly-lossless"],
            passed=bool(max(int8_pc) < 0.01),
            values={"error_clean": int8_pc[0], "error_outliers": int8_pc[1]},
        ),
        Claim(
            id="int4-is-much-coarser",
            text=CLAIMS["int4-is-much-coarser"],
            passed=bool(int4_pc[0] >= 8 * int8_pc[0]),
            values={"int4_error": int4_pc[0], "int8_error": int8_pc[0]},
        ),
        Claim(
            id="weight-outliers-hurt-per-tensor",
            text=CLAIMS["weight-outliers-hurt-per-tensor"],
            passed=bool(int8_pt[1] >= 5 * int8_pt[0]),
            values={
                "error_clean": int8_pt[0],
                "error_outliers": int8_pt[1],
                "outlier_scale": params.outlier_scale,
            },
        ),
        Claim(
            id="per-channel-contains-outliers",
            text=CLAIMS["per-channel-contains-outliers"],
            passed=bool(int8_pc[1] <= 2 * int8_pc[0]),
            values={"error_clean": int8_pc[0], "error_outliers": int8_pc[1]},
        ),
        Claim(
            id="activation-outliers-break-int8",
            text=CLAIMS["activation-outliers-break-int8"],
            passed=bool(act_plain[1] >= 5 * act_plain[0] and act_mixed[1] <= 2 * act_plain[0]),
            values={
                "error_clean": act_plain[0],
                "error_outliers": act_plain[1],
                "error_outliers_kept_fp": act_mixed[1],
            },
        ),
    ]
    schemes = [
        ("int8 weights, per tensor", errs[(8, "per tensor")]),
        ("int8 weights, per channel", errs[(8, "per channel")]),
        ("int4 weights, per tensor", errs[(4, "per tensor")]),
        ("int4 weights, per channel", errs[(4, "per channel")]),
        ("int8 activations, per token", act_plain),
        ("int8 activations, outlier features in fp", act_mixed),
    ]
    xs = [float(i) for i in range(len(schemes))]
    return DemoResult(
        summary=(
            f"Outliers x{params.outlier_scale:g}: int8 per-tensor error {int8_pt[0]:.2%} -> "
            f"{int8_pt[1]:.2%}; per-channel {int8_pc[0]:.2%} -> {int8_pc[1]:.2%}; int4 "
            f"per-channel {int4_pc[0]:.2%}; int8 activations {act_plain[0]:.2%} -> "
            f"{act_plain[1]:.2%} ({act_mixed[1]:.2%} with outlier features in fp)."
        ),
        summary_zh=(
            f"离群值 x{params.outlier_scale:g}：int8 整张量误差 {int8_pt[0]:.2%} -> {int8_pt[1]:.2%}；"
            f"每通道 {int8_pc[0]:.2%} -> {int8_pc[1]:.2%}；int4 每通道 {int4_pc[0]:.2%}；"
            f"int8 激活 {act_plain[0]:.2%} -> {act_plain[1]:.2%}（离群特征保留浮点时 {act_mixed[1]:.2%}）。"
        ),
        metrics={
            "int8_per_tensor_clean": int8_pt[0],
            "int8_per_tensor_outliers": int8_pt[1],
            "int8_per_channel_clean": int8_pc[0],
            "int8_per_channel_outliers": int8_pc[1],
            "int4_per_channel_clean": int4_pc[0],
            "int4_per_tensor_outliers": errs[(4, "per tensor")][1],
            "act_int8_clean": act_plain[0],
            "act_int8_outliers": act_plain[1],
            "act_int8_outliers_fp_kept": act_mixed[1],
        },
        tables=[
            Table(
                title="Output error by scheme",
                columns=["scheme", "error without outliers", "error with outliers"],
                rows=[[name, e[0], e[1]] for name, e in schemes],
            )
        ],
        charts=[
            Chart(
                id="errors",
                title="Relative output error of the quantized layer",
                kind="bar",
                x_label="configuration",
                y_label="relative error",
                log_y=True,
                categories=[name for name, _ in schemes],
                series=[
                    Series(name="without outliers", x=xs, y=[max(e[0], 1e-12) for _, e in schemes]),
                    Series(name="with outliers", x=xs, y=[max(e[1], 1e-12) for _, e in schemes]),
                ],
            )
        ],
        claims=claims,
    )
