"""L1 against L2 regularization on a sparse linear regression."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "L1 vs L2 regularization"
DESCRIPTION = (
    "Fits a linear regression whose true weights are mostly zero with an L1 penalty (proximal "
    "gradient, i.e. soft-thresholding), with an L2 penalty (ridge), and with an L1 penalty "
    "minimised by plain autograd gradient descent, and counts exact zeros."
)
CLAIMS = {
    "l1-exact-zeros": (
        "With the configured L1 strength, the L1 solution sets at least half of the coefficients "
        "exactly to zero."
    ),
    "l2-shrinks-without-zeros": (
        "With the configured L2 strength, ridge shrinks the weight norm by at least 10% against "
        "unregularized least squares but sets no coefficient exactly to zero."
    ),
    "autograd-l1-not-sparse": (
        "Adding lambda * |w|_1 to the loss and running plain gradient descent leaves fewer than "
        "10% "
        "of coefficients exactly zero, even where the proximal L1 solution zeroes at least half: "
        "the subgradient makes weights jitter around zero instead of landing on it."
    ),
}
TITLE_ZH = "L1 与 L2 正则化"
DESCRIPTION_ZH = (
    "拟合一个真实权重大多为零的线性回归，分别用 L1 惩罚（近端梯度，即软阈值）、L2 惩罚（岭回归）"
    "以及用普通 autograd 梯度下降最小化的 L1 惩罚，并数一数恰好为零的系数。"
)
CLAIMS_ZH = {
    "l1-exact-zeros": "在所设 L1 强度下，L1 解至少把一半系数设为恰好为零。",
    "l2-shrinks-without-zeros": (
        "在所设 L2 强度下，岭回归把权重范数比无正则最小二乘缩小至少 10%，但没有任何系数恰好为零。"
    ),
    "autograd-l1-not-sparse": (
        "在损失上加 lambda * |w|_1 并做普通梯度下降，恰好为零的系数少于 10%，即使近端 L1 解把至少"
        "一半置零：次梯度让权重在零附近抖动，而不是落在零上。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "l1-exact-zeros": "l1 >= 0.05 (the default 0.1) with most features irrelevant",
    "l2-shrinks-without-zeros": "l2 >= 0.5 (the default 1)",
    "autograd-l1-not-sparse": "l1 >= 0.05, so that the proximal solution is sparse",
}
CLAIM_SHOWN_WHEN_ZH = {
    "l1-exact-zeros": "l1 >= 0.05（默认 0.1）且大部分特征无关",
    "l2-shrinks-without-zeros": "l2 >= 0.5（默认 1）",
    "autograd-l1-not-sparse": "l1 >= 0.05，使近端解是稀疏的",
}
TEXT_ZH = {
    "L1 strength lambda1 in loss + lambda1 * |w|_1": "L1 强度 lambda1（loss + lambda1 * |w|_1）",
    "L2 strength lambda2 in loss + lambda2/2 * |w|^2": (
        "L2 强度 lambda2（loss + lambda2/2 * |w|^2）"
    ),
    "Training samples": "训练样本数",
    "Features (5 of them truly matter)": "特征数（其中 5 个真正有用）",
    "Std of the label noise": "标签噪声的标准差",
    "Iterations of the iterative solvers": "迭代求解器的迭代次数",
    "Coefficients (first 10)": "系数（前 10 个）",
    "index": "下标",
    "true": "真实值",
    "least squares": "最小二乘",
    "L1 (proximal)": "L1（近端梯度）",
    "L2 (ridge)": "L2（岭回归）",
    "L1 (autograd)": "L1（autograd）",
    "Exact zeros": "恰好为零的系数",
    "method": "方法",
    "coefficients exactly 0": "恰好为 0 的系数",
    "coefficients below 0.01": "小于 0.01 的系数",
    "L1 proximal": "L1 近端梯度",
    "L2 ridge": "L2 岭回归",
    "L1 autograd": "L1 autograd",
    "Fitted coefficients": "拟合出的系数",
    "coefficient": "系数",
    "value": "值",
    "L1": "L1",
    "L2": "L2",
}


class Params(BaseModel):
    l1: float = Field(
        0.1, ge=0.0, le=2.0, description="L1 strength lambda1 in loss + lambda1 * |w|_1"
    )
    l2: float = Field(
        1.0, ge=0.0, le=100.0, description="L2 strength lambda2 in loss + lambda2/2 * |w|^2"
    )
    n_samples: int = Field(100, ge=20, le=2000, description="Training samples")
    n_features: int = Field(50, ge=5, le=200, description="Features (5 of them truly matter)")
    noise: float = Field(0.5, ge=0.0, le=3.0, description="Std of the label noise")
    steps: int = Field(500, ge=50, le=3000, description="Iterations of the iterative solvers")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    gen = torch.Generator().manual_seed(ctx.seed)
    n, d = params.n_samples, params.n_features
    X = torch.randn(n, d, generator=gen, dtype=torch.float64)
    w_true = torch.zeros(d, dtype=torch.float64)
    k = min(5, d)
    w_true[:k] = torch.tensor([3.0, -2.0, 1.5, -1.0, 0.8], dtype=torch.float64)[:k]
    y = X @ w_true + params.noise * torch.randn(n, generator=gen, dtype=torch.float64)
    X, y, w_true = X.to(device), y.to(device), w_true.to(device)
    eye = torch.eye(d, dtype=torch.float64, device=device)
    H = X.T @ X / n
    b = X.T @ y / n
    lr = 1.0 / float(torch.linalg.eigvalsh(H).max().item())

    # Unregularized least squares (minimum norm if d > n) and ridge in closed form.
    w_ls = torch.linalg.pinv(X) @ y
    w_l2 = torch.linalg.solve(H + params.l2 * eye, b)

    # L1 with proximal gradient (ISTA): gradient step, then soft-threshold.
    w_l1 = torch.zeros(d, dtype=torch.float64, device=device)
    for _ in range(params.steps):
        z = w_l1 - lr * (H @ w_l1 - b)
        w_l1 = torch.sign(z) * torch.clamp(z.abs() - lr * params.l1, min=0.0)
    ctx.progress(0.5, "proximal L1 done")

    # L1 as a plain loss term, minimised by autograd gradient descent (subgradient of |w|).
    w_sg = torch.zeros(d, dtype=torch.float64, device=device, requires_grad=True)
    for _ in range(params.steps):
        loss = 0.5 * ((X @ w_sg - y) ** 2).mean() + params.l1 * w_sg.abs().sum()
        (g,) = torch.autograd.grad(loss, w_sg)  # d|w|/dw = sign(w), and 0 at exactly 0
        with torch.no_grad():
            w_sg -= lr * g
    w_sg = w_sg.detach()

    def zeros(w: torch.Tensor) -> int:
        return int((w == 0).sum().item())

    def small(w: torch.Tensor) -> int:
        return int((w.abs() < 1e-2).sum().item())

    z_l1, z_l2, z_sg = zeros(w_l1), zeros(w_l2), zeros(w_sg)
    norm_ls, norm_l2 = float(w_ls.norm().item()), float(w_l2.norm().item())
    c1 = z_l1 >= d / 2
    c2 = z_l2 == 0 and norm_l2 <= 0.9 * norm_ls
    c3 = z_sg < 0.1 * d and z_l1 >= d / 2
    support_kept = int((w_l1[:k] != 0).sum().item())

    cats = [f"w{i}" for i in range(d)]
    xs = [float(i) for i in range(d)]
    return DemoResult(
        summary_zh=(
            f"{d} 个系数中（{k} 个真实非零）：L1（lambda={params.l1:g}）置零 {z_l1} 个，岭回归（la"
            f"mbda={params.l2:g}）置零 {z_l2} 个，autograd L1 置零 {z_sg} 个（{small(w_sg)} 个只是"
            "小于 0.01）。"
        ),
        summary=(
            f"Of {d} coefficients ({k} truly non-zero): L1 (lambda={params.l1:g}) zeroes {z_l1}, "
            f"ridge (lambda={params.l2:g}) zeroes {z_l2}, autograd L1 zeroes {z_sg} "
            f"({small(w_sg)} are merely below 0.01)."
        ),
        metrics={
            "l1_exact_zeros": z_l1,
            "l2_exact_zeros": z_l2,
            "autograd_l1_exact_zeros": z_sg,
            "autograd_l1_below_0.01": small(w_sg),
            "l1_true_support_kept": support_kept,
            "least_squares_norm": norm_ls,
            "ridge_norm": norm_l2,
        },
        tables=[
            Table(
                title="Coefficients (first 10)",
                columns=[
                    "index",
                    "true",
                    "least squares",
                    "L1 (proximal)",
                    "L2 (ridge)",
                    "L1 (autograd)",
                ],
                rows=[
                    [
                        i,
                        float(w_true[i]),
                        float(w_ls[i]),
                        float(w_l1[i]),
                        float(w_l2[i]),
                        float(w_sg[i]),
                    ]
                    for i in range(min(10, d))
                ],
            ),
            Table(
                title="Exact zeros",
                columns=["method", "coefficients exactly 0", "coefficients below 0.01"],
                rows=[
                    ["L1 proximal", z_l1, small(w_l1)],
                    ["L2 ridge", z_l2, small(w_l2)],
                    ["L1 autograd", z_sg, small(w_sg)],
                ],
            ),
        ],
        charts=[
            Chart(
                id="coefficients",
                title="Fitted coefficients",
                kind="bar",
                x_label="coefficient",
                y_label="value",
                categories=cats,
                series=[
                    Series(name="true", x=xs, y=[float(v) for v in w_true.tolist()]),
                    Series(name="L1", x=xs, y=[float(v) for v in w_l1.tolist()]),
                    Series(name="L2", x=xs, y=[float(v) for v in w_l2.tolist()]),
                ],
            )
        ],
        claims=[
            Claim(
                id="l1-exact-zeros",
                text=CLAIMS["l1-exact-zeros"],
                passed=bool(c1),
                values={"exact_zeros": z_l1, "n_features": d},
            ),
            Claim(
                id="l2-shrinks-without-zeros",
                text=CLAIMS["l2-shrinks-without-zeros"],
                passed=bool(c2),
                values={"exact_zeros": z_l2, "ridge_norm": norm_l2, "least_squares_norm": norm_ls},
            ),
            Claim(
                id="autograd-l1-not-sparse",
                text=CLAIMS["autograd-l1-not-sparse"],
                passed=bool(c3),
                values={
                    "autograd_exact_zeros": z_sg,
                    "autograd_below_0.01": small(w_sg),
                    "proximal_exact_zeros": z_l1,
                },
            ),
        ],
    )
