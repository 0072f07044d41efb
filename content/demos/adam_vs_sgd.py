"""Adam against SGD on a linear regression whose features have very different scales."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Adam vs SGD on badly scaled features"
DESCRIPTION = (
    "Fits a linear regression where half of the features are multiplied by feature_scale, with "
    "full-batch SGD at lr = 1/lambda_max and with Adam, and rescales the loss to test invariance."
)
CLAIMS = {
    "adam-wins-badly-scaled": (
        "With the configured feature scales, Adam's final training loss is at least 2x closer to "
        "the optimum than SGD's, although SGD uses its largest safe learning rate 1/lambda_max."
    ),
    "adam-loss-scale-invariant": (
        "Multiplying the loss by loss_scale leaves Adam's trajectory almost unchanged (final "
        "weights within 1%), while SGD with the same lr takes steps loss_scale times larger."
    ),
}
TITLE_ZH = "特征尺度悬殊时的 Adam 与 SGD"
DESCRIPTION_ZH = (
    "拟合一个一半特征乘以 feature_scale 的线性回归，分别用学习率为 1/lambda_max 的全批量 SGD 和 A"
    "dam，并缩放损失检验不变性。"
)
CLAIMS_ZH = {
    "adam-wins-badly-scaled": (
        "在所设的特征尺度下，Adam 的最终训练损失离最优值至少比 SGD 近 2 倍，尽管 SGD 用的是它最大"
        "的安全学习率 1/lambda_max。"
    ),
    "adam-loss-scale-invariant": (
        "把损失乘以 loss_scale 几乎不改变 Adam 的轨迹（最终权重相差 1% 以内），而同样 lr 的 SGD "
        "步长变为 loss_scale 倍。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "adam-wins-badly-scaled": (
        "feature_scale >= 10 (the default 30): the Hessian is then badly conditioned"
    ),
    "adam-loss-scale-invariant": "eps negligible next to the gradients: loss_scale >= 1e-4 or so",
}
CLAIM_SHOWN_WHEN_ZH = {
    "adam-wins-badly-scaled": "feature_scale >= 10（默认 30）：此时 Hessian 条件数很差",
    "adam-loss-scale-invariant": "eps 相对梯度可以忽略：loss_scale 大约 >= 1e-4",
}
TEXT_ZH = {
    "Multiplier on half of the features": "一半特征的缩放倍数",
    "Adam learning rate": "Adam 学习率",
    "Full-batch steps for each optimizer": "每个优化器的全批量步数",
    "Factor for the loss-rescaling test": "损失缩放测试的倍数",
    "Final loss": "最终损失",
    "optimizer": "优化器",
    "learning rate": "学习率",
    "final loss": "最终损失",
    "excess over optimum": "超出最优值的部分",
    "SGD": "SGD",
    "Adam": "Adam",
    "Excess training loss over the optimum": "训练损失超出最优值的部分",
    "step": "步数",
    "loss - optimum": "损失 - 最优值",
    "SGD lr=1/lambda_max": "SGD lr=1/lambda_max",
}


class Params(BaseModel):
    feature_scale: float = Field(
        30.0, ge=1.0, le=1000.0, description="Multiplier on half of the features"
    )
    adam_lr: float = Field(0.05, ge=1e-4, le=1.0, description="Adam learning rate")
    steps: int = Field(300, ge=10, le=2000, description="Full-batch steps for each optimizer")
    loss_scale: float = Field(
        100.0, ge=1e-12, le=1e4, description="Factor for the loss-rescaling test"
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    gen = torch.Generator().manual_seed(ctx.seed)
    n, d = 256, 10
    X = torch.randn(n, d, generator=gen, dtype=torch.float64)
    X[:, : d // 2] *= params.feature_scale
    w_true = torch.randn(d, generator=gen, dtype=torch.float64)
    w_true[: d // 2] /= params.feature_scale  # every feature contributes comparably to y
    y = X @ w_true + 0.1 * torch.randn(n, generator=gen, dtype=torch.float64)
    X, y = X.to(device), y.to(device)

    def loss_fn(w: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        return scale * 0.5 * ((X @ w - y) ** 2).mean()

    lam = torch.linalg.eigvalsh(X.T @ X / n)
    lam_max, lam_min = float(lam.max().item()), float(lam.min().item())
    w_opt = torch.linalg.lstsq(X, y.unsqueeze(1)).solution.squeeze(1)
    opt_loss = float(loss_fn(w_opt).item())

    def train(kind: str, scale: float = 1.0) -> tuple[list[float], torch.Tensor, float]:
        w = torch.zeros(d, dtype=torch.float64, device=device, requires_grad=True)
        opt: torch.optim.Optimizer
        if kind == "sgd":
            opt = torch.optim.SGD([w], lr=1.0 / lam_max)
        else:
            opt = torch.optim.Adam([w], lr=params.adam_lr)
        curve = [float(loss_fn(w.detach()).item())]
        first_step = 0.0
        for step in range(params.steps):
            opt.zero_grad()
            before = w.detach().clone()
            loss_fn(w, scale).backward()
            opt.step()
            if step == 0:
                first_step = float((w.detach() - before).norm().item())
            cur = float(loss_fn(w.detach()).item())
            curve.append(cur if cur == cur and cur < 1e12 else 1e12)
        return curve, w.detach(), first_step

    ctx.progress(0.1, "SGD")
    sgd_curve, sgd_w, sgd_first = train("sgd")
    ctx.progress(0.4, "Adam")
    adam_curve, adam_w, _ = train("adam")
    ctx.progress(0.7, "rescaled loss")
    _, adam_w_scaled, _ = train("adam", params.loss_scale)
    # SGD's first step on the rescaled loss: lr * gradient, with the same lr = 1/lambda_max.
    w0 = torch.zeros(d, dtype=torch.float64, device=device, requires_grad=True)
    (g0,) = torch.autograd.grad(loss_fn(w0, params.loss_scale), w0)
    sgd_scaled_first = float((g0 / lam_max).norm().item())

    sgd_excess = max(sgd_curve[-1] - opt_loss, 0.0)
    adam_excess = max(adam_curve[-1] - opt_loss, 0.0)
    c1 = adam_excess * 2 <= sgd_excess
    rel_change = float(((adam_w_scaled - adam_w).norm() / adam_w.norm().clamp_min(1e-300)).item())
    c2 = rel_change < 0.01
    step_ratio = sgd_scaled_first / max(sgd_first, 1e-300)

    xs = [float(i) for i in range(params.steps + 1)]
    return DemoResult(
        summary_zh=(
            f"Hessian 条件数 {lam_max / lam_min:.3g}。{params.steps} 步后超出最优值的损失：SGD（lr"
            f"={1 / lam_max:.3g}）为 {sgd_excess:.3g}，Adam（lr={params.adam_lr:g}）为 "
            f"{adam_excess:.3g}。"
        ),
        summary=(
            f"Hessian condition number {lam_max / lam_min:.3g}. After {params.steps} steps the "
            "excess "
            f"loss is {sgd_excess:.3g} for SGD (lr={1 / lam_max:.3g}) and {adam_excess:.3g} for "
            "Adam "
            f"(lr={params.adam_lr:g})."
        ),
        metrics={
            "condition_number": lam_max / lam_min,
            "sgd_lr": 1.0 / lam_max,
            "optimal_loss": opt_loss,
            "sgd_final_loss": sgd_curve[-1],
            "adam_final_loss": adam_curve[-1],
            "adam_weight_change_under_loss_scale": rel_change,
            "sgd_first_step_ratio_under_loss_scale": step_ratio,
        },
        tables=[
            Table(
                title="Final loss",
                columns=["optimizer", "learning rate", "final loss", "excess over optimum"],
                rows=[
                    ["SGD", 1.0 / lam_max, sgd_curve[-1], sgd_excess],
                    ["Adam", params.adam_lr, adam_curve[-1], adam_excess],
                ],
            )
        ],
        charts=[
            Chart(
                id="loss",
                title="Excess training loss over the optimum",
                x_label="step",
                y_label="loss - optimum",
                log_y=True,
                series=[
                    Series(
                        name="SGD lr=1/lambda_max",
                        x=xs,
                        y=[max(v - opt_loss, 1e-12) for v in sgd_curve],
                    ),
                    Series(name="Adam", x=xs, y=[max(v - opt_loss, 1e-12) for v in adam_curve]),
                ],
            )
        ],
        claims=[
            Claim(
                id="adam-wins-badly-scaled",
                text=CLAIMS["adam-wins-badly-scaled"],
                passed=bool(c1),
                values={"sgd_excess": sgd_excess, "adam_excess": adam_excess},
            ),
            Claim(
                id="adam-loss-scale-invariant",
                text=CLAIMS["adam-loss-scale-invariant"],
                passed=bool(c2),
                values={
                    "adam_relative_weight_change": rel_change,
                    "sgd_first_step_ratio": step_ratio,
                },
            ),
        ],
    )
