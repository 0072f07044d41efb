"""Sigmoid + MSE versus sigmoid + cross-entropy on a confidently wrong prediction."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "MSE vs cross-entropy for classification"
DESCRIPTION = (
    "Takes one example with target y = 1 and a configurable initial logit, compares the autograd "
    "gradients of sigmoid + MSE and sigmoid + cross-entropy, trains the logit by gradient descent "
    "under each loss, and checks the curvature of both losses along the way."
)
CLAIMS = {
    "mse-gradient-vanishes-when-wrong": (
        "At the configured initial logit (target 1), the cross-entropy gradient is p - y and still "
        "above 0.5 in size, while the MSE gradient 2 (p - y) p (1 - p) is below a tenth of it "
        "(the sigmoid's derivative has saturated)."
    ),
    "ce-fixes-wrong-prediction-faster": (
        "With the configured learning rate, gradient descent on the cross-entropy makes the "
        "prediction correct (p >= 0.5) in at most a quarter of the steps MSE needs."
    ),
    "mse-sigmoid-non-convex": (
        "On the path from the initial logit to the target side (z from z0 to 4), sigmoid + MSE has "
        "negative curvature somewhere (non-convex in the logit), while the cross-entropy's "
        "curvature is positive everywhere (convex)."
    ),
}
TITLE_ZH = "分类中的 MSE 与交叉熵"
DESCRIPTION_ZH = (
    "取一个目标 y = 1、初始 logit 可调的样本，比较 sigmoid + MSE 和 sigmoid + 交叉熵的 autograd "
    "梯度，在两种损失下用梯度下降训练 logit，并检查沿途两种损失的曲率。"
)
CLAIMS_ZH = {
    "mse-gradient-vanishes-when-wrong": (
        "在所设初始 logit（目标为 1）下，交叉熵梯度为 p - y，大小仍超过 0.5，而 MSE 梯度 2 (p - y"
        ") p (1 - p) 不到它的十分之一（sigmoid 的导数已饱和）。"
    ),
    "ce-fixes-wrong-prediction-faster": (
        "在所设学习率下，交叉熵上的梯度下降让预测变对（p >= 0.5）所需步数至多是 MSE 的四分之一。"
    ),
    "mse-sigmoid-non-convex": (
        "从初始 logit 到目标一侧的路径上（z 从 z0 到 4），sigmoid + MSE 在某处曲率为负（对 logit "
        "非凸），而交叉熵处处曲率为正（凸）。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "mse-gradient-vanishes-when-wrong": "initial_logit <= -3 (confidently wrong; the default -5)",
    "ce-fixes-wrong-prediction-faster": "initial_logit <= -3 with lr around 1",
    "mse-sigmoid-non-convex": (
        "initial_logit <= -1.5, so the path crosses the region where sigmoid + MSE bends down"
    ),
}
CLAIM_SHOWN_WHEN_ZH = {
    "mse-gradient-vanishes-when-wrong": "initial_logit <= -3（自信地预测错；默认 -5）",
    "ce-fixes-wrong-prediction-faster": "initial_logit <= -3 且 lr 约为 1",
    "mse-sigmoid-non-convex": "initial_logit <= -1.5，这样路径会经过 sigmoid + MSE 向下弯曲的区域",
}
TEXT_ZH = {
    "Starting logit z0 for an example whose label is 1 (negative = wrong side)": (
        "标签为 1 的样本的初始 logit z0（负值 = 预测在错误一侧）"
    ),
    "Gradient-descent step size on the logit": "在 logit 上做梯度下降的步长",
    "Step budget for each loss before giving up": "每种损失放弃前的步数上限",
    "Gradients at a few logits (target 1)": "几个 logit 处的梯度（目标为 1）",
    "logit z": "logit z",
    "p": "p",
    "CE gradient p - y": "CE 梯度 p - y",
    "MSE gradient": "MSE 梯度",
    "MSE / CE": "MSE / CE",
    "|dL/dz| for target 1 as a function of the logit z": "目标为 1 时 |dL/dz| 随 logit z 的变化",
    "|gradient|": "|梯度|",
    "step": "步数",
    "Loss as a function of the logit (target 1)": "损失随 logit 的变化（目标为 1）",
    "loss": "损失",
    "cross-entropy": "交叉熵",
    "MSE": "MSE",
    "cross-entropy -log p": "交叉熵 -log p",
    "MSE (p - 1)^2": "MSE (p - 1)^2",
}


class Params(BaseModel):
    initial_logit: float = Field(
        -5.0,
        ge=-12.0,
        le=8.0,
        description="Starting logit z0 for an example whose label is 1 (negative = wrong side)",
    )
    lr: float = Field(1.0, ge=0.01, le=5.0, description="Gradient-descent step size on the logit")
    max_steps: int = Field(
        300, ge=10, le=2000, description="Step budget for each loss before giving up"
    )


def _steps_to_correct(probs: list[float]) -> int:
    return next((i for i, p in enumerate(probs) if p >= 0.5), len(probs))


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    import torch.nn.functional as F

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    dt = torch.float64
    one = torch.ones((), dtype=dt, device=device)

    def grads(z0: float) -> tuple[float, float]:
        z = torch.tensor(z0, dtype=dt, device=device, requires_grad=True)
        (g_ce,) = torch.autograd.grad(F.binary_cross_entropy_with_logits(z, one), z)
        z = torch.tensor(z0, dtype=dt, device=device, requires_grad=True)
        (g_mse,) = torch.autograd.grad(F.mse_loss(torch.sigmoid(z), one), z)
        return float(g_ce.item()), float(g_mse.item())

    ctx.progress(0.1, "gradients at the initial logit")
    z0 = params.initial_logit
    g_ce, g_mse = grads(z0)
    p0 = 1.0 / (1.0 + torch.exp(torch.tensor(-z0, dtype=dt)).item())
    ce_formula_gap = abs(g_ce - (p0 - 1.0))
    mse_formula_gap = abs(g_mse - 2.0 * (p0 - 1.0) * p0 * (1.0 - p0))
    ratio = abs(g_mse) / abs(g_ce) if g_ce != 0 else 1.0
    c1 = ce_formula_gap < 1e-9 and mse_formula_gap < 1e-9 and abs(g_ce) > 0.5 and ratio < 0.1

    ctx.progress(0.3, "training the logit")

    def train(loss_name: str) -> list[float]:
        z = torch.tensor(z0, dtype=dt, device=device, requires_grad=True)
        probs = [float(torch.sigmoid(z).item())]
        for _ in range(params.max_steps):
            if loss_name == "ce":
                loss = F.binary_cross_entropy_with_logits(z, one)
            else:
                loss = F.mse_loss(torch.sigmoid(z), one)
            (g,) = torch.autograd.grad(loss, z)
            with torch.no_grad():
                z -= params.lr * g
            probs.append(float(torch.sigmoid(z).item()))
        return probs

    p_ce, p_mse = train("ce"), train("mse")
    n_ce, n_mse = _steps_to_correct(p_ce), _steps_to_correct(p_mse)
    reached_ce, reached_mse = n_ce <= params.max_steps, n_mse <= params.max_steps
    c2 = reached_ce and n_mse > 0 and 4 * n_ce <= n_mse

    ctx.progress(0.7, "curvature")
    lo = min(z0, 4.0)
    zs = torch.linspace(lo, 4.0, 401, dtype=dt, device=device)

    def curvature(loss_name: str) -> torch.Tensor:
        # Elementwise losses, so the second derivative of the sum is each point's own.
        z = zs.clone().requires_grad_(True)
        if loss_name == "ce":
            loss = F.binary_cross_entropy_with_logits(z, torch.ones_like(z), reduction="sum")
        else:
            loss = F.mse_loss(torch.sigmoid(z), torch.ones_like(z), reduction="sum")
        (g,) = torch.autograd.grad(loss, z, create_graph=True)
        (h,) = torch.autograd.grad(g.sum(), z)
        return h

    # Closed forms: 2 s'(1 - s)(3 s - 1) for MSE (negative where p < 1/3), s(1 - s) for CE.
    curv_mse = curvature("mse")
    curv_ce = curvature("ce")
    min_curv_mse = float(curv_mse.min().item())
    min_curv_ce = float(curv_ce.min().item())
    c3 = min_curv_mse < 0 and min_curv_ce > 0

    grid = [-10.0 + 0.25 * i for i in range(81)]
    g_grid = [grads(v) for v in grid]
    every = max(1, params.max_steps // 200)
    xs = [float(i) for i in range(0, params.max_steps + 1, every)]
    loss_grid = [-8.0 + 0.2 * i for i in range(61)]
    loss_z = torch.tensor(loss_grid, dtype=dt)
    loss_s = torch.sigmoid(loss_z)
    charts = [
        Chart(
            id="gradient-vs-logit",
            title="|dL/dz| for target 1 as a function of the logit z",
            x_label="logit z",
            y_label="|gradient|",
            log_y=True,
            series=[
                Series(name="cross-entropy", x=grid, y=[max(abs(a), 1e-12) for a, _ in g_grid]),
                Series(name="MSE", x=grid, y=[max(abs(b), 1e-12) for _, b in g_grid]),
            ],
        ),
        Chart(
            id="training",
            title=f"p(y = 1) while training the logit from z0 = {z0:g}",
            x_label="step",
            y_label="p",
            series=[
                Series(name="cross-entropy", x=xs, y=[p_ce[int(i)] for i in xs]),
                Series(name="MSE", x=xs, y=[p_mse[int(i)] for i in xs]),
            ],
        ),
        Chart(
            id="loss-curves",
            title="Loss as a function of the logit (target 1)",
            x_label="logit z",
            y_label="loss",
            series=[
                Series(
                    name="cross-entropy -log p",
                    x=loss_grid,
                    y=[float(v) for v in F.softplus(-loss_z).tolist()],
                ),
                Series(
                    name="MSE (p - 1)^2",
                    x=loss_grid,
                    y=[float(v) for v in ((loss_s - 1) ** 2).tolist()],
                ),
            ],
        ),
    ]
    table = Table(
        title="Gradients at a few logits (target 1)",
        columns=["logit z", "p", "CE gradient p - y", "MSE gradient", "MSE / CE"],
        rows=[
            [v, float(torch.sigmoid(torch.tensor(v, dtype=dt)).item()), a, b, abs(b) / abs(a)]
            for v in (-8.0, -5.0, -2.0, 0.0, 2.0)
            for a, b in [grads(v)]
        ],
    )

    def steps_text(n: int) -> str:
        return str(n) if n <= params.max_steps else f"> {params.max_steps}"

    return DemoResult(
        summary_zh=(
            f"从 z0 = {z0:g}（p = {p0:.3g}）出发：CE 梯度 {abs(g_ce):.3g}，MSE 梯度 "
            f"{abs(g_mse):.3g}（{ratio:.3g} 倍）；CE 经过 {steps_text(n_ce)} 步、MSE 经过 "
            f"{steps_text(n_mse)} 步后预测变为正确。"
        ),
        summary=(
            f"From z0 = {z0:g} (p = {p0:.3g}): CE gradient {abs(g_ce):.3g}, MSE gradient "
            f"{abs(g_mse):.3g} ({ratio:.3g}x); the prediction turns correct after "
            f"{steps_text(n_ce)} steps with CE and {steps_text(n_mse)} with MSE."
        ),
        metrics={
            "initial_p": p0,
            "ce_gradient": g_ce,
            "mse_gradient": g_mse,
            "mse_over_ce_gradient": ratio,
            "steps_to_correct_ce": n_ce,
            "steps_to_correct_mse": n_mse,
            "final_p_ce": p_ce[-1],
            "final_p_mse": p_mse[-1],
        },
        tables=[table],
        charts=charts,
        claims=[
            Claim(
                id="mse-gradient-vanishes-when-wrong",
                text=CLAIMS["mse-gradient-vanishes-when-wrong"],
                passed=bool(c1),
                values={
                    "initial_p": p0,
                    "ce_gradient": g_ce,
                    "mse_gradient": g_mse,
                    "mse_over_ce": ratio,
                    "formula_gap": max(ce_formula_gap, mse_formula_gap),
                },
            ),
            Claim(
                id="ce-fixes-wrong-prediction-faster",
                text=CLAIMS["ce-fixes-wrong-prediction-faster"],
                passed=bool(c2),
                values={
                    "steps_ce": n_ce,
                    "steps_mse": n_mse,
                    "mse_reached": reached_mse,
                    "max_steps": params.max_steps,
                },
            ),
            Claim(
                id="mse-sigmoid-non-convex",
                text=CLAIMS["mse-sigmoid-non-convex"],
                passed=bool(c3),
                values={"min_curvature_mse": min_curv_mse, "min_curvature_ce": min_curv_ce},
            ),
        ],
    )
