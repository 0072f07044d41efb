"""The gradient-descent update W <- W - lr * dL/dW, against the mistaken W <- W - lr * W."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "The gradient-descent update rule"
DESCRIPTION = (
    "Fits a linear regression with the update W <- W - lr * dL/dW (gradients from autograd) and "
    "with the mistaken rule W <- W - lr * W, and checks the stability bound lr < 2 / lambda_max."
)
CLAIMS = {
    "gradient-rule-converges": (
        "With the configured learning rate, W <- W - lr * dL/dW lowers the loss at every step and "
        "cuts the excess loss over the optimum to below 1% of its starting value; on this "
        "quadratic loss that requires lr < 2 / lambda_max of the Hessian."
    ),
    "weight-rule-ignores-data": (
        "The rule W <- W - lr * W ends with a loss at least 10x further from the optimum than the "
        "gradient rule, because it only shrinks W towards zero and never looks at the data."
    ),
}
TITLE_ZH = "梯度下降的更新规则"
DESCRIPTION_ZH = (
    "用更新 W <- W - lr * dL/dW（梯度来自 autograd）和错误规则 W <- W - lr * W 拟合线性回归，并检"
    "查稳定性界 lr < 2 / lambda_max。"
)
CLAIMS_ZH = {
    "gradient-rule-converges": (
        "在所设学习率下，W <- W - lr * dL/dW 每一步都降低损失，并把超出最优值的损失降到起始值的 1"
        "% 以下；在这个二次损失上这要求 lr < Hessian 的 2 / lambda_max。"
    ),
    "weight-rule-ignores-data": (
        "规则 W <- W - lr * W 最终离最优值的损失至少是梯度规则的 10 倍，因为它只把 W 往零缩，从不"
        "看数据。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "gradient-rule-converges": (
        "lr < 2 / lambda_max and enough steps (the defaults: lr 0.1, 100 steps)"
    ),
    "weight-rule-ignores-data": "the gradient rule converges (lr < 2 / lambda_max) and steps >= 20",
}
CLAIM_SHOWN_WHEN_ZH = {
    "gradient-rule-converges": "lr < 2 / lambda_max 且步数足够（默认 lr 0.1、100 步）",
    "weight-rule-ignores-data": "梯度规则收敛（lr < 2 / lambda_max）且 steps >= 20",
}
TEXT_ZH = {
    "Learning rate": "学习率",
    "Number of updates": "更新次数",
    "Scale of the input features (sets lambda_max)": "输入特征的尺度（决定 lambda_max）",
    "Final loss by update rule": "各更新规则的最终损失",
    "rule": "规则",
    "final loss": "最终损失",
    "excess over optimum": "超出最优值的部分",
    "W - lr * dL/dW": "W - lr * dL/dW",
    "W - lr * W (shrinks only)": "W - lr * W（只缩小权重）",
    "Training loss by update rule": "各更新规则的训练损失",
    "step": "步数",
    "loss": "损失",
    "W - lr * W": "W - lr * W",
    "optimum": "最优值",
}


class Params(BaseModel):
    lr: float = Field(0.1, ge=0.0001, le=2.0, description="Learning rate")
    steps: int = Field(100, ge=1, le=2000, description="Number of updates")
    feature_scale: float = Field(
        1.0, ge=0.1, le=10.0, description="Scale of the input features (sets lambda_max)"
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    gen = torch.Generator().manual_seed(ctx.seed)
    n, d = 256, 5
    X = (params.feature_scale * torch.randn(n, d, generator=gen, dtype=torch.float64)).to(device)
    w_true = torch.randn(d, generator=gen, dtype=torch.float64).to(device) * 2
    y = X @ w_true + 0.1 * torch.randn(n, generator=gen, dtype=torch.float64).to(device)

    def loss_fn(w: torch.Tensor) -> torch.Tensor:
        return 0.5 * ((X @ w - y) ** 2).mean()

    hessian = X.T @ X / n
    lam_max = float(torch.linalg.eigvalsh(hessian).max().item())
    w_opt = torch.linalg.lstsq(X, y.unsqueeze(1)).solution.squeeze(1)
    opt_loss = float(loss_fn(w_opt).item())

    w0 = torch.full((d,), 0.5, dtype=torch.float64, device=device)
    start_loss = float(loss_fn(w0).item())

    def capped(v: float) -> float:
        return v if v == v and v < 1e12 else 1e12

    # Correct rule: gradients from autograd.
    w = w0.clone().requires_grad_(True)
    grad_curve = [start_loss]
    for step in range(params.steps):
        loss = loss_fn(w)
        (g,) = torch.autograd.grad(loss, w)
        with torch.no_grad():
            w = (w - params.lr * g).requires_grad_(True)
        grad_curve.append(capped(float(loss_fn(w).item())))
        if grad_curve[-1] >= 1e12:
            break
        if step % 50 == 0:
            ctx.progress(0.1 + 0.4 * step / params.steps, "gradient rule")

    # The notes' rule: shrink W by lr * W; no data involved.
    wb = w0.clone()
    weight_curve = [start_loss]
    for _ in range(params.steps):
        wb = wb - params.lr * wb
        weight_curve.append(capped(float(loss_fn(wb).item())))

    grad_final = grad_curve[-1]
    weight_final = weight_curve[-1]
    grad_excess = max(grad_final - opt_loss, 0.0)
    weight_excess = max(weight_final - opt_loss, 0.0)
    monotone = all(b <= a + 1e-15 for a, b in zip(grad_curve, grad_curve[1:], strict=False))
    c1 = monotone and grad_excess <= 0.01 * (start_loss - opt_loss) and grad_final < 1e12
    c2 = weight_excess >= 10 * grad_excess and grad_final < 1e12
    bound = 2.0 / lam_max

    xs = [float(i) for i in range(len(grad_curve))]
    xw = [float(i) for i in range(len(weight_curve))]
    return DemoResult(
        summary_zh=(
            f"lr={params.lr:g}，稳定上界 2/lambda_max={bound:.3g}。梯度规则：损失 {start_loss:.3g}"
            f" -> {grad_final:.3g}；W - lr*W 规则：{start_loss:.3g} -> {weight_final:.3g}；最优值 "
            f"{opt_loss:.3g}。"
        ),
        summary=(
            f"lr={params.lr:g}, stability bound 2/lambda_max={bound:.3g}. Gradient rule: loss "
            f"{start_loss:.3g} -> {grad_final:.3g}; W - lr*W rule: {start_loss:.3g} -> "
            f"{weight_final:.3g}; optimum {opt_loss:.3g}."
        ),
        metrics={
            "lambda_max": lam_max,
            "lr_bound": bound,
            "start_loss": start_loss,
            "optimal_loss": opt_loss,
            "gradient_rule_final_loss": grad_final,
            "weight_rule_final_loss": weight_final,
            "weight_rule_final_norm": float(wb.norm().item()),
        },
        tables=[
            Table(
                title="Final loss by update rule",
                columns=["rule", "final loss", "excess over optimum"],
                rows=[
                    ["W - lr * dL/dW", grad_final, grad_excess],
                    ["W - lr * W (shrinks only)", weight_final, weight_excess],
                ],
            )
        ],
        charts=[
            Chart(
                id="loss-by-rule",
                title="Training loss by update rule",
                x_label="step",
                y_label="loss",
                log_y=True,
                series=[
                    Series(name="W - lr * dL/dW", x=xs, y=[max(v, 1e-12) for v in grad_curve]),
                    Series(name="W - lr * W", x=xw, y=[max(v, 1e-12) for v in weight_curve]),
                    Series(name="optimum", x=xw, y=[max(opt_loss, 1e-12)] * len(xw)),
                ],
            )
        ],
        claims=[
            Claim(
                id="gradient-rule-converges",
                text=CLAIMS["gradient-rule-converges"],
                passed=bool(c1),
                values={
                    "lr": params.lr,
                    "lr_bound": bound,
                    "monotone": bool(monotone),
                    "final_excess": grad_excess,
                    "start_excess": start_loss - opt_loss,
                },
            ),
            Claim(
                id="weight-rule-ignores-data",
                text=CLAIMS["weight-rule-ignores-data"],
                passed=bool(c2),
                values={"weight_rule_excess": weight_excess, "gradient_rule_excess": grad_excess},
            ),
        ],
    )
