"""Bias-variance decomposition of polynomial regression, measured over many training sets."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Bias and variance, measured"
DESCRIPTION = (
    "Draws many training sets from the same distribution, fits a polynomial of each degree to "
    "each, and splits the expected test error into bias^2, variance and noise."
)
CLAIMS = {
    "low-degree-bias-dominates": (
        "For the low-degree model, bias^2 is more than 2x the variance: its error comes from the "
        "model being too simple, and more training data would not remove it."
    ),
    "high-degree-variance-dominates": (
        "For the high-degree model, variance is more than 2x bias^2: its predictions swing with "
        "the particular training set drawn."
    ),
}
TITLE_ZH = "实测偏差与方差"
DESCRIPTION_ZH = (
    "从同一分布抽取许多训练集，对每个训练集拟合各阶多项式，把期望测试误差分解为 bias^2、方差和噪"
    "声。"
)
CLAIMS_ZH = {
    "low-degree-bias-dominates": (
        "对低阶模型，bias^2 超过方差的 2 倍：误差来自模型太简单，增加训练数据也消除不了。"
    ),
    "high-degree-variance-dominates": (
        "对高阶模型，方差超过 bias^2 的 2 倍：它的预测随抽到的训练集大幅摆动。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "low-degree-bias-dominates": "target sine with degree_low <= 2",
    "high-degree-variance-dominates": (
        "degree_high >= 8 with few samples (n_train <= 40) and ridge near 0"
    ),
}
CLAIM_SHOWN_WHEN_ZH = {
    "low-degree-bias-dominates": "target 为 sine 且 degree_low <= 2",
    "high-degree-variance-dominates": "degree_high >= 8、样本少（n_train <= 40）且 ridge 接近 0",
}
TEXT_ZH = {
    "Samples in each training set": "每个训练集的样本数",
    "Independent training sets drawn": "独立抽取的训练集个数",
    "Std of the label noise": "标签噪声的标准差",
    "Degree of the simple model": "简单模型的次数",
    "Degree of the flexible model": "灵活模型的次数",
    "L2 penalty on the coefficients": "系数的 L2 惩罚",
    "True function: sin(3x) or 0.8x": "真实函数：sin(3x) 或 0.8x",
    "Decomposition of the expected test error": "期望测试误差的分解",
    "degree": "次数",
    "bias^2": "偏差^2",
    "variance": "方差",
    "noise": "噪声",
    "sum": "总和",
    "measured test MSE": "实测测试 MSE",
    "Bias^2 and variance by model complexity": "偏差^2 和方差随模型复杂度的变化",
    "polynomial degree": "多项式次数",
    "error": "误差",
}


class Params(BaseModel):
    n_train: int = Field(20, ge=5, le=200, description="Samples in each training set")
    n_datasets: int = Field(200, ge=20, le=300, description="Independent training sets drawn")
    noise: float = Field(0.3, ge=0.01, le=1.0, description="Std of the label noise")
    degree_low: int = Field(1, ge=0, le=5, description="Degree of the simple model")
    degree_high: int = Field(12, ge=2, le=15, description="Degree of the flexible model")
    ridge: float = Field(0.0, ge=0.0, le=100.0, description="L2 penalty on the coefficients")
    target: Literal["sine", "linear"] = Field("sine", description="True function: sin(3x) or 0.8x")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    gen = torch.Generator().manual_seed(ctx.seed)
    k, n = params.n_datasets, params.n_train

    def truth(x: torch.Tensor) -> torch.Tensor:
        return torch.sin(3 * x) if params.target == "sine" else 0.8 * x

    def features(x: torch.Tensor, degree: int) -> torch.Tensor:
        cols = [torch.ones_like(x), x]
        for j in range(1, degree):
            cols.append(((2 * j + 1) * x * cols[j] - j * cols[j - 1]) / (j + 1))
        return torch.stack(cols[: degree + 1], dim=-1)

    # k training sets on jittered grids over [-1, 1]; test inputs on a fine grid.
    grid = torch.linspace(-1, 1, n, dtype=torch.float64)
    jitter = (torch.rand(k, n, generator=gen, dtype=torch.float64) - 0.5) * (2.0 / max(n - 1, 1))
    x = (grid + jitter).clamp(-1, 1).to(device)
    y = truth(x) + params.noise * torch.randn(k, n, generator=gen, dtype=torch.float64).to(device)
    x_te = torch.linspace(-1, 1, 201, dtype=torch.float64, device=device)
    f_te = truth(x_te)
    # Fresh noisy test labels, one set per training set, for the directly measured test error.
    y_te = f_te + params.noise * torch.randn(k, 201, generator=gen, dtype=torch.float64).to(device)

    top = max(params.degree_high, params.degree_low)
    degrees = list(range(0, top + 1))
    bias2, var, measured = [], [], []
    for deg in degrees:
        phi = features(x, deg)  # (k, n, deg+1)
        if params.ridge > 0 or n > 2 * (deg + 1):
            # Normal equations: fast, and well conditioned for Legendre features with enough data.
            a = phi.transpose(1, 2) @ phi + params.ridge * torch.eye(
                deg + 1, dtype=torch.float64, device=device
            )
            w = torch.linalg.solve(a, phi.transpose(1, 2) @ y.unsqueeze(-1)).squeeze(-1)
        else:
            # Minimum-norm least squares, also when deg + 1 > n_train.
            w = (torch.linalg.pinv(phi) @ y.unsqueeze(-1)).squeeze(-1)
        pred = w @ features(x_te, deg).T  # (k, 201)
        mean_pred = pred.mean(0)
        bias2.append(float(((mean_pred - f_te) ** 2).mean().item()))
        var.append(float(pred.var(0, unbiased=False).mean().item()))
        measured.append(float(((pred - y_te) ** 2).mean().item()))
        ctx.progress((deg + 1) / len(degrees), f"degree {deg}")

    noise_var = params.noise**2
    lo, hi = params.degree_low, params.degree_high
    c1 = bias2[lo] > 2 * var[lo]
    c2 = var[hi] > 2 * bias2[hi]
    rel = [abs(b + v + noise_var - m) / m for b, v, m in zip(bias2, var, measured, strict=True)]

    xs = [float(d) for d in degrees]

    def pos(v: float) -> float:
        return min(max(v, 1e-12), 1e12)

    return DemoResult(
        summary_zh=(
            f"在 {k} 个各有 {n} 个样本的训练集上：{lo} 次模型偏差^2 {bias2[lo]:.3g}、方差 "
            f"{var[lo]:.3g}；{hi} 次模型偏差^2 {bias2[hi]:.3g}、方差 {var[hi]:.3g}（噪声方差 "
            f"{noise_var:.3g}）。"
        ),
        summary=(
            f"Over {k} training sets of {n} samples: degree {lo} has bias^2 {bias2[lo]:.3g} and "
            "variance "
            f"{var[lo]:.3g}; degree {hi} has bias^2 {bias2[hi]:.3g} and variance {var[hi]:.3g} "
            f"(noise variance {noise_var:.3g})."
        ),
        metrics={
            "noise_variance": noise_var,
            "low_degree_bias2": bias2[lo],
            "low_degree_variance": var[lo],
            "high_degree_bias2": bias2[hi],
            "high_degree_variance": var[hi],
            "max_decomposition_gap": max(rel),
            "best_degree": degrees[min(range(len(degrees)), key=lambda i: measured[i])],
        },
        tables=[
            Table(
                title="Decomposition of the expected test error",
                columns=["degree", "bias^2", "variance", "noise", "sum", "measured test MSE"],
                rows=[
                    [d, bias2[d], var[d], noise_var, bias2[d] + var[d] + noise_var, measured[d]]
                    for d in degrees
                ],
            )
        ],
        charts=[
            Chart(
                id="bias-variance",
                title="Bias^2 and variance by model complexity",
                x_label="polynomial degree",
                y_label="error",
                log_y=True,
                series=[
                    Series(name="bias^2", x=xs, y=[pos(v) for v in bias2]),
                    Series(name="variance", x=xs, y=[pos(v) for v in var]),
                    Series(name="measured test MSE", x=xs, y=[pos(v) for v in measured]),
                    Series(name="noise", x=xs, y=[noise_var] * len(xs)),
                ],
            )
        ],
        claims=[
            Claim(
                id="low-degree-bias-dominates",
                text=CLAIMS["low-degree-bias-dominates"],
                passed=bool(c1),
                values={"degree": lo, "bias2": bias2[lo], "variance": var[lo]},
            ),
            Claim(
                id="high-degree-variance-dominates",
                text=CLAIMS["high-degree-variance-dominates"],
                passed=bool(c2),
                values={"degree": hi, "bias2": bias2[hi], "variance": var[hi]},
            ),
        ],
    )
