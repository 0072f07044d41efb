"""Reparameterisation vs score-function gradient estimators: same mean, different variance."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Reparameterisation trick vs score-function estimator"
TITLE_ZH = "重参数化技巧与得分函数估计器"
DESCRIPTION = (
    "Estimates d/dmu E_{z ~ N(mu, sigma^2)}[f(z)] from single samples with the "
    "reparameterisation gradient f'(mu + sigma eps) and with the score-function (REINFORCE) "
    "estimator f(z) (z - mu) / sigma^2, and compares their means and variances with the exact "
    "value."
)
DESCRIPTION_ZH = (
    "用单样本估计 d/dmu E_{z ~ N(mu, sigma^2)}[f(z)]：重参数化梯度 f'(mu + sigma eps) 与得分函数"
    "（REINFORCE）估计 f(z) (z - mu) / sigma^2，并把它们的均值和方差与精确值比较。"
)
CLAIMS = {
    ("both-unbiased"): (
        "Both estimators' sample means are within 4 standard errors of the exact gradient."
    ),
    "reparam-lower-variance": (
        "For a smooth f the reparameterisation estimator's variance is at least 5x lower than "
        "the score-function estimator's."
    ),
    "baseline-reduces-score-variance": (
        "Subtracting a baseline (the mean of f) from the score-function estimator lowers its "
        "variance without adding bias."
    ),
}
CLAIMS_ZH = {
    "both-unbiased": "两个估计器的样本均值都在精确梯度的 4 个标准误以内。",
    "reparam-lower-variance": "对于平滑的 f，重参数化估计器的方差至少比得分函数估计器低 5 倍。",
    ("baseline-reduces-score-variance"): (
        "从得分函数估计器中减去基线（f 的均值）能降低方差而不引入偏差。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "both-unbiased": "always: it does not depend on the parameters",
    "baseline-reduces-score-variance": "always: it does not depend on the parameters",
    "reparam-lower-variance": "function = quadratic (a fast-oscillating f reverses it)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "both-unbiased": "总成立：与参数无关",
    "baseline-reduces-score-variance": "总成立：与参数无关",
    "reparam-lower-variance": "function = quadratic（快速振荡的 f 会反过来）",
}
TEXT_ZH = {
    "Function f inside the expectation": "期望里的函数 f",
    "Mean mu of the Gaussian": "高斯分布的均值 mu",
    "Standard deviation sigma": "标准差 sigma",
    "Samples drawn": "采样数",
    "Variance of one-sample gradient estimates": "单样本梯度估计的方差",
    "estimator": "估计器",
    "variance (log scale)": "方差（对数坐标）",
    "variance": "方差",
    "Estimates": "估计结果",
    "mean": "均值",
    "standard error": "标准误",
    "exact": "精确值",
    "reparameterisation": "重参数化",
    "score function": "得分函数",
    "score function + baseline": "得分函数 + 基线",
}


class Params(BaseModel):
    function: Literal["quadratic", "fast-sine"] = Field(
        "quadratic", description="Function f inside the expectation"
    )
    mu: float = Field(1.0, ge=-3.0, le=3.0, description="Mean mu of the Gaussian")
    sigma: float = Field(1.0, ge=0.1, le=3.0, description="Standard deviation sigma")
    samples: int = Field(20000, ge=1000, le=200000, description="Samples drawn")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import math

    import torch

    torch.manual_seed(ctx.seed)
    mu, sigma, omega = params.mu, params.sigma, 8.0
    eps = torch.randn(params.samples, dtype=torch.float64).to(ctx.device)
    z = mu + sigma * eps
    if params.function == "quadratic":
        f, df = z**2, 2 * z
        exact = 2 * mu
    else:
        f, df = torch.sin(omega * z), omega * torch.cos(omega * z)
        exact = omega * math.cos(omega * mu) * math.exp(-(omega**2) * sigma**2 / 2)
    reparam = df
    score = f * (z - mu) / sigma**2
    # The baseline is estimated on independent samples so it stays unbiased.
    torch.manual_seed(ctx.seed + 1)
    z_b = mu + sigma * torch.randn(params.samples, dtype=torch.float64).to(ctx.device)
    f_b = z_b**2 if params.function == "quadratic" else torch.sin(omega * z_b)
    baseline = (f - f_b.mean()) * (z - mu) / sigma**2
    rows = []
    stats = {}
    for name, est in (
        ("reparameterisation", reparam),
        ("score function", score),
        ("score function + baseline", baseline),
    ):
        mean, var = float(est.mean()), float(est.var())
        se = math.sqrt(var / params.samples)
        stats[name] = (mean, var, se)
        rows.append([name, mean, var, se, exact])
    unbiased = all(abs(m - exact) <= 4 * se + 1e-12 for m, _, se in stats.values())
    v_r, v_s, v_b = (
        stats["reparameterisation"][1],
        stats["score function"][1],
        stats["score function + baseline"][1],
    )
    names = list(stats)
    chart = Chart(
        id="variance",
        title="Variance of one-sample gradient estimates",
        kind="bar",
        x_label="estimator",
        y_label="variance (log scale)",
        log_y=True,
        categories=names,
        series=[
            Series(name="variance", x=[0.0, 1.0, 2.0], y=[max(v, 1e-12) for v in (v_r, v_s, v_b)])
        ],
    )
    claims = [
        Claim(
            id="both-unbiased",
            text=CLAIMS["both-unbiased"],
            passed=unbiased,
            values={
                "exact": exact,
                "reparam_mean": stats["reparameterisation"][0],
                "score_mean": stats["score function"][0],
            },
        ),
        Claim(
            id="reparam-lower-variance",
            text=CLAIMS["reparam-lower-variance"],
            passed=v_s >= 5 * v_r,
            values={"reparam_variance": v_r, "score_variance": v_s},
        ),
        Claim(
            id="baseline-reduces-score-variance",
            text=CLAIMS["baseline-reduces-score-variance"],
            passed=v_b < v_s
            and abs(stats["score function + baseline"][0] - exact)
            <= 4 * stats["score function + baseline"][2],
            values={"score_variance": v_s, "baseline_variance": v_b},
        ),
    ]
    return DemoResult(
        summary=f"f = {params.function}, exact gradient {exact:.4f}: per-sample variance {v_r:.3g} "
        "(reparameterisation), "
        f"{v_s:.3g} (score function), {v_b:.3g} (score function with baseline).",
        summary_zh=f"f = {params.function}，精确梯度 {exact:.4f}：单样本方差 {v_r:.3g}（重参数化）"
        "、"
        f"{v_s:.3g}（得分函数）、{v_b:.3g}（带基线的得分函数）。",
        metrics={
            "exact": exact,
            "reparam_variance": v_r,
            "score_variance": v_s,
            "baseline_variance": v_b,
            "variance_ratio": v_s / max(v_r, 1e-12),
        },
        tables=[
            Table(
                title="Estimates",
                columns=["estimator", "mean", "variance", "standard error", "exact"],
                rows=rows,
            )
        ],
        charts=[chart],
        claims=claims,
    )
