"""Train and test error of polynomial fits of growing degree on a small noisy data set."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Underfitting and overfitting with polynomial regression"
DESCRIPTION = (
    "Fits least-squares polynomials (Legendre features, optional ridge penalty) of every degree "
    "up to max_degree to a few noisy samples and compares training and test error."
)
CLAIMS = {
    "high-degree-overfits": (
        "The max-degree model has the lowest training error of all degrees, yet its test error is "
        "more than 2x the best degree's test error: it fits the noise."
    ),
    "low-degree-underfits": (
        "The degree-1 model underfits: both its training and its test error are more than 2x the "
        "noise variance, the error a perfect model would have."
    ),
    "more-data-reduces-overfitting": (
        "Training the max-degree model on 10x more samples cuts its test error by more than half."
    ),
}
TITLE_ZH = "多项式回归中的欠拟合与过拟合"
DESCRIPTION_ZH = (
    "对少量带噪样本拟合从 1 阶到 max_degree 阶的最小二乘多项式（Legendre 特征，可选岭惩罚），比较"
    "训练误差和测试误差。"
)
CLAIMS_ZH = {
    "high-degree-overfits": (
        "最高阶模型的训练误差在所有阶中最低，但测试误差超过最佳阶测试误差的 2 倍：它拟合了噪声。"
    ),
    "low-degree-underfits": (
        "1 阶模型欠拟合：训练误差和测试误差都超过噪声方差（完美模型的误差）的 2 倍。"
    ),
    "more-data-reduces-overfitting": "用 10 倍的样本训练最高阶模型，测试误差降低一半以上。",
}


CLAIM_SHOWN_WHEN = {
    "high-degree-overfits": "few samples (n_train <= 30) with max_degree >= 8 and ridge near 0",
    "low-degree-underfits": "target sine (a line cannot follow sin(3x))",
    "more-data-reduces-overfitting": "n_train <= 30 with max_degree >= 8 and ridge near 0",
}
CLAIM_SHOWN_WHEN_ZH = {
    "high-degree-overfits": "样本少（n_train <= 30）、max_degree >= 8 且 ridge 接近 0",
    "low-degree-underfits": "target 为 sine（直线拟合不了 sin(3x)）",
    "more-data-reduces-overfitting": "n_train <= 30、max_degree >= 8 且 ridge 接近 0",
}
TEXT_ZH = {
    "Training samples": "训练样本数",
    "Std of the label noise": "标签噪声的标准差",
    "Highest polynomial degree": "最高多项式次数",
    "L2 penalty on the coefficients (0 = plain least squares)": (
        "系数的 L2 惩罚（0 = 普通最小二乘）"
    ),
    "True function: sin(3x) or 0.8x": "真实函数：sin(3x) 或 0.8x",
    "Error by polynomial degree": "各多项式次数的误差",
    "degree": "次数",
    "train MSE": "训练 MSE",
    "test MSE": "测试 MSE",
    "Training and test error by model complexity": "训练误差和测试误差随模型复杂度的变化",
    "polynomial degree": "多项式次数",
    "MSE": "MSE",
    "train": "训练集",
    "test": "测试集",
    "noise variance": "噪声方差",
}


class Params(BaseModel):
    n_train: int = Field(15, ge=5, le=500, description="Training samples")
    noise: float = Field(0.2, ge=0.01, le=1.0, description="Std of the label noise")
    max_degree: int = Field(12, ge=2, le=20, description="Highest polynomial degree")
    ridge: float = Field(
        0.0, ge=0.0, le=10.0, description="L2 penalty on the coefficients (0 = plain least squares)"
    )
    target: Literal["sine", "linear"] = Field("sine", description="True function: sin(3x) or 0.8x")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    gen = torch.Generator().manual_seed(ctx.seed)

    def truth(x: torch.Tensor) -> torch.Tensor:
        return torch.sin(3 * x) if params.target == "sine" else 0.8 * x

    def sample(n: int, spread: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        if spread:
            # Jittered grid: training inputs cover [-1, 1], so the test measures interpolation,
            # not extrapolation beyond the data.
            grid = torch.linspace(-1, 1, n, dtype=torch.float64)
            jitter = (torch.rand(n, generator=gen, dtype=torch.float64) - 0.5) * (
                2.0 / max(n - 1, 1)
            )
            x = (grid + jitter).clamp(-1, 1)
        else:
            x = torch.rand(n, generator=gen, dtype=torch.float64) * 2 - 1
        y = truth(x) + params.noise * torch.randn(n, generator=gen, dtype=torch.float64)
        return x.to(device), y.to(device)

    def features(x: torch.Tensor, degree: int) -> torch.Tensor:
        # Legendre polynomials: well conditioned on [-1, 1], unlike raw powers.
        cols = [torch.ones_like(x), x]
        for k in range(1, degree):
            cols.append(((2 * k + 1) * x * cols[k] - k * cols[k - 1]) / (k + 1))
        return torch.stack(cols[: degree + 1], dim=1)

    def fit(x: torch.Tensor, y: torch.Tensor, degree: int) -> torch.Tensor:
        phi = features(x, degree)
        if params.ridge > 0:
            a = phi.T @ phi + params.ridge * torch.eye(
                degree + 1, dtype=torch.float64, device=device
            )
            return torch.linalg.solve(a, phi.T @ y)
        # Minimum-norm least squares also covers degree + 1 > n_train.
        return torch.linalg.pinv(phi) @ y

    def mse(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, degree: int) -> float:
        return float(((features(x, degree) @ w - y) ** 2).mean().item())

    x_tr, y_tr = sample(params.n_train)
    x_big, y_big = sample(params.n_train * 10)
    x_te, y_te = sample(2000, spread=False)
    degrees = list(range(0, params.max_degree + 1))
    train_err, test_err = [], []
    for deg in degrees:
        w = fit(x_tr, y_tr, deg)
        train_err.append(mse(x_tr, y_tr, w, deg))
        test_err.append(min(mse(x_te, y_te, w, deg), 1e6))
    ctx.progress(0.7, "fits done")
    w_big = fit(x_big, y_big, params.max_degree)
    big_test = min(mse(x_te, y_te, w_big, params.max_degree), 1e6)

    noise_var = params.noise**2
    best = min(range(len(degrees)), key=lambda i: test_err[i])
    top = len(degrees) - 1
    c1 = train_err[top] <= min(train_err) + 1e-12 and test_err[top] > 2 * test_err[best]
    c2 = train_err[1] > 2 * noise_var and test_err[1] > 2 * noise_var
    c3 = big_test < 0.5 * test_err[top]

    xs = [float(d) for d in degrees]
    return DemoResult(
        summary_zh=(
            f"{params.n_train} 个样本，噪声方差 {noise_var:.3g}：测试误差最低的是 {degrees[best]} "
            f"次（{test_err[best]:.3g}）；{params.max_degree} 次模型的训练误差为 "
            f"{train_err[top]:.3g}，测试误差为 {test_err[top]:.3g}。"
        ),
        summary=(
            f"{params.n_train} samples, noise variance {noise_var:.3g}: best test error at degree "
            f"{degrees[best]} ({test_err[best]:.3g}); degree {params.max_degree} has train error "
            f"{train_err[top]:.3g} and test error {test_err[top]:.3g}."
        ),
        metrics={
            "noise_variance": noise_var,
            "best_degree": degrees[best],
            "best_test_mse": test_err[best],
            "max_degree_train_mse": train_err[top],
            "max_degree_test_mse": test_err[top],
            "max_degree_test_mse_10x_data": big_test,
        },
        tables=[
            Table(
                title="Error by polynomial degree",
                columns=["degree", "train MSE", "test MSE"],
                rows=[[d, train_err[i], test_err[i]] for i, d in enumerate(degrees)],
            )
        ],
        charts=[
            Chart(
                id="error-by-degree",
                title="Training and test error by model complexity",
                x_label="polynomial degree",
                y_label="MSE",
                log_y=True,
                series=[
                    Series(name="train", x=xs, y=[max(v, 1e-12) for v in train_err]),
                    Series(name="test", x=xs, y=[max(v, 1e-12) for v in test_err]),
                    Series(name="noise variance", x=xs, y=[noise_var] * len(xs)),
                ],
            )
        ],
        claims=[
            Claim(
                id="high-degree-overfits",
                text=CLAIMS["high-degree-overfits"],
                passed=bool(c1),
                values={
                    "train_mse": train_err[top],
                    "test_mse": test_err[top],
                    "best_test_mse": test_err[best],
                },
            ),
            Claim(
                id="low-degree-underfits",
                text=CLAIMS["low-degree-underfits"],
                passed=bool(c2),
                values={
                    "train_mse": train_err[1],
                    "test_mse": test_err[1],
                    "noise_variance": noise_var,
                },
            ),
            Claim(
                id="more-data-reduces-overfitting",
                text=CLAIMS["more-data-reduces-overfitting"],
                passed=bool(c3),
                values={"test_mse": test_err[top], "test_mse_10x_data": big_test},
            ),
        ],
    )
