"""RMSNorm vs LayerNorm: what dropping the mean changes, and what it keeps."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "RMSNorm vs LayerNorm"
TITLE_ZH = "RMSNorm 与 LayerNorm"
DESCRIPTION = (
    "Normalizes random token vectors with PyTorch's RMSNorm and LayerNorm, checks RMSNorm "
    "against its formula, and tests which invariances each keeps: rescaling a token, and "
    "shifting all its features by a constant."
)
DESCRIPTION_ZH = (
    "用 PyTorch 的 RMSNorm 和 LayerNorm 归一化随机 token 向量，对照公式检查 RMSNorm，"
    "并测试两者各自保留哪些不变性：整体缩放一个 token，以及给它所有特征加同一个常数。"
)
CLAIMS = {
    "rmsnorm-matches-formula": ("torch.nn.RMSNorm equals x / sqrt(mean(x^2) + eps) * g to 1e-5."),
    "scale-invariant": (
        "With the chosen norm, multiplying a token's vector by any positive factor leaves the "
        "output unchanged (to 1e-4)."
    ),
    "shift-invariant": (
        "With the chosen norm, adding the same constant to every feature of a token leaves the "
        "output unchanged (to 1e-4)."
    ),
    "equal-on-zero-mean-inputs": (
        "On tokens whose features have zero mean, RMSNorm and LayerNorm give the same output "
        "(to 1e-4)."
    ),
}
CLAIMS_ZH = {
    "rmsnorm-matches-formula": (
        "torch.nn.RMSNorm 与 x / sqrt(mean(x^2) + eps) * g 相差小于 1e-5。"
    ),
    "scale-invariant": (
        "在所选归一化下，把一个 token 的向量乘以任意正数，输出不变（误差 1e-4 内）。"
    ),
    "shift-invariant": (
        "在所选归一化下，给一个 token 的所有特征加同一个常数，输出不变（误差 1e-4 内）。"
    ),
    "equal-on-zero-mean-inputs": (
        "当 token 的特征均值为 0 时，RMSNorm 与 LayerNorm 的输出相同（误差 1e-4 内）。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "rmsnorm-matches-formula": "always: it does not depend on the parameters",
    "scale-invariant": "always: it does not depend on the parameters",
    "equal-on-zero-mean-inputs": "always: it does not depend on the parameters",
    "shift-invariant": "norm = layer",
}
CLAIM_SHOWN_WHEN_ZH = {
    "rmsnorm-matches-formula": "总成立：与参数无关",
    "scale-invariant": "总成立：与参数无关",
    "equal-on-zero-mean-inputs": "总成立：与参数无关",
    "shift-invariant": "norm = layer 时",
}
TEXT_ZH = {
    "Output change after shifting every feature by c": "所有特征加常数 c 后的输出变化",
    "shift c": "常数 c",
    "max |change|": "最大 |变化|",
    "RMSNorm": "RMSNorm",
    "LayerNorm": "LayerNorm",
    "Per-token work and parameters": "逐 token 计算量与参数",
    "norm": "归一化",
    "statistics per token": "每个 token 的统计量",
    "parameters": "参数量",
    "reductions over d": "对 d 的归约次数",
    "Normalization whose invariances are checked": "检查不变性的归一化方式",
    "Feature dimension d": "特征维度 d",
    "Mean of the input features": "输入特征的均值",
}


class Params(BaseModel):
    norm: Literal["rms", "layer"] = Field(
        "rms", description="Normalization whose invariances are checked"
    )
    d: int = Field(64, ge=4, le=1024, description="Feature dimension d")
    mean: float = Field(1.0, ge=-5.0, le=5.0, description="Mean of the input features")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    d = params.d
    device = torch.device(ctx.device)
    x = (torch.randn(32, d) + params.mean).to(device)
    rms = nn.RMSNorm(d, eps=1e-6).to(device)
    ln = nn.LayerNorm(d, eps=1e-6).to(device)
    with torch.no_grad():
        rms.weight.copy_((torch.rand(d) + 0.5).to(device))  # a non-trivial gain
        manual = x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * rms.weight
        formula_err = float((rms(x) - manual).abs().max())
        rms.weight.fill_(1.0)
        chosen = rms if params.norm == "rms" else ln
        base = chosen(x)
        scale_err = max(float((chosen(x * a) - base).abs().max()) for a in (0.5, 2.0, 10.0))
        shifts = [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0]
        shift_rms = [float((rms(x + c) - rms(x)).abs().max()) for c in shifts]
        shift_ln = [float((ln(x + c) - ln(x)).abs().max()) for c in shifts]
        shift_err = max(shift_rms if params.norm == "rms" else shift_ln)
        centered = x - x.mean(-1, keepdim=True)
        equal_err = float((rms(centered) - ln(centered)).abs().max())
    n_rms = sum(p.numel() for p in rms.parameters())
    n_ln = sum(p.numel() for p in ln.parameters())
    ctx.progress(0.8, "summarizing")

    chart = Chart(
        id="shift",
        title="Output change after shifting every feature by c",
        x_label="shift c",
        y_label="max |change|",
        series=[
            Series(name="RMSNorm", x=shifts, y=shift_rms),
            Series(name="LayerNorm", x=shifts, y=shift_ln),
        ],
    )
    table = Table(
        title="Per-token work and parameters",
        columns=["norm", "statistics per token", "parameters", "reductions over d"],
        rows=[["RMSNorm", "mean(x^2)", n_rms, 1], ["LayerNorm", "mean, variance", n_ln, 2]],
    )
    claims = [
        Claim(
            id="rmsnorm-matches-formula",
            text=CLAIMS["rmsnorm-matches-formula"],
            passed=bool(formula_err < 1e-5),
            values={"max_abs_error": formula_err},
        ),
        Claim(
            id="scale-invariant",
            text=CLAIMS["scale-invariant"],
            passed=bool(scale_err < 1e-4),
            values={"max_change": scale_err},
        ),
        Claim(
            id="shift-invariant",
            text=CLAIMS["shift-invariant"],
            passed=bool(shift_err < 1e-4),
            values={"max_change": shift_err},
        ),
        Claim(
            id="equal-on-zero-mean-inputs",
            text=CLAIMS["equal-on-zero-mean-inputs"],
            passed=bool(equal_err < 1e-4),
            values={"max_abs_difference": equal_err},
        ),
    ]
    return DemoResult(
        summary=(
            f"{params.norm}: rescaling changes the output by {scale_err:.1e}, shifting by up to "
            f"{shift_err:.2f}; RMSNorm has {n_rms} parameters, LayerNorm {n_ln}."
        ),
        summary_zh=(
            f"{params.norm}：缩放使输出变化 {scale_err:.1e}，平移最多变化 {shift_err:.2f}；"
            f"RMSNorm 有 {n_rms} 个参数，LayerNorm 有 {n_ln} 个。"
        ),
        metrics={
            "scale_change": scale_err,
            "shift_change": shift_err,
            "shift_change_rms": max(shift_rms),
            "shift_change_layer": max(shift_ln),
            "zero_mean_difference": equal_err,
            "parameters_rms": n_rms,
            "parameters_layer": n_ln,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
