"""Plain gradient descent against heavy-ball momentum on an ill-conditioned quadratic."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Momentum on an ill-conditioned valley"
DESCRIPTION = (
    "Minimises f(x) = 0.5 * (x1^2 / kappa + x2^2) with torch.optim.SGD, with and without "
    "momentum, at the same learning rate, and counts the steps each needs."
)
CLAIMS = {
    "momentum-fewer-steps": (
        "On this quadratic with the configured condition number, SGD with momentum reaches "
        "1e-6 of the starting loss in at least 2x fewer steps than plain gradient descent at the "
        "same learning rate."
    ),
    "flat-direction-bottleneck": (
        "Plain gradient descent is held back by the flat direction: after 50 steps more than 90% "
        "of its remaining loss lies along the low-curvature axis."
    ),
}
TITLE_ZH = "病态山谷上的动量"
DESCRIPTION_ZH = (
    "用 torch.optim.SGD 在同一学习率下、带和不带动量，最小化 f(x) = 0.5 * (x1^2 / kappa + x2^2)，"
    "数一数各自需要的步数。"
)
CLAIMS_ZH = {
    "momentum-fewer-steps": (
        "在所设条件数的这个二次函数上，带动量的 SGD 达到起始损失的 1e-6 所需步数至少比同学习率的"
        "普通梯度下降少一半。"
    ),
    "flat-direction-bottleneck": (
        "普通梯度下降被平坦方向拖住：50 步后剩余损失的 90% 以上在低曲率轴上。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "momentum-fewer-steps": (
        "kappa >= 10 with momentum >= 0.5 and lr near 1 (the defaults: kappa 100, momentum 0.9)"
    ),
    "flat-direction-bottleneck": (
        "kappa >= 10 and lr not far below 1 (the steep axis must be solved within 50 steps)"
    ),
}
CLAIM_SHOWN_WHEN_ZH = {
    "momentum-fewer-steps": (
        "kappa >= 10、momentum >= 0.5 且 lr 接近 1（默认 kappa 100、momentum 0.9）"
    ),
    "flat-direction-bottleneck": "kappa >= 10 且 lr 不远小于 1（陡峭轴要在 50 步内收敛）",
}
TEXT_ZH = {
    "Condition number: ratio of the two curvatures": "条件数：两个方向曲率之比",
    "Learning rate (steep curvature is 1, so lr < 2 is stable for plain GD)": (
        "学习率（陡峭方向曲率为 1，所以普通 GD 在 lr < 2 时稳定）"
    ),
    "Momentum coefficient beta": "动量系数 beta",
    "Step budget": "步数上限",
    "Steps to reach 1e-6 of the starting loss": "损失降到初始值 1e-6 所需步数",
    "optimizer": "优化器",
    "steps": "步数",
    "SGD (no momentum)": "SGD（无动量）",
    "First steps of each path (x1 flat axis, x2 steep axis)": (
        "两条轨迹的前几步（x1 为平坦轴，x2 为陡峭轴）"
    ),
    "step": "步数",
    "GD x1": "GD x1",
    "GD x2": "GD x2",
    "momentum x1": "动量 x1",
    "momentum x2": "动量 x2",
    "Loss against step": "损失随步数的变化",
    "loss": "损失",
    "SGD": "SGD",
}


class Params(BaseModel):
    kappa: float = Field(
        100.0, ge=1.0, le=10000.0, description="Condition number: ratio of the two curvatures"
    )
    lr: float = Field(
        1.0,
        ge=0.01,
        le=1.99,
        description="Learning rate (steep curvature is 1, so lr < 2 is stable for plain GD)",
    )
    momentum: float = Field(0.9, ge=0.0, le=0.99, description="Momentum coefficient beta")
    max_steps: int = Field(2000, ge=50, le=5000, description="Step budget")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    curv = torch.tensor([1.0 / params.kappa, 1.0], dtype=torch.float64, device=device)
    start = torch.tensor([1.0, 1.0], dtype=torch.float64, device=device)

    def f(x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (curv * x * x).sum()

    start_loss = float(f(start).item())

    def optimise(beta: float) -> tuple[list[float], list[list[float]], int | None, list[float]]:
        x = start.clone()
        # torch.optim.SGD's momentum: v <- beta * v + g; x <- x - lr * v (heavy ball).
        opt = torch.optim.SGD([x], lr=params.lr, momentum=beta)
        losses, path = [start_loss], [[1.0, 1.0]]
        hit: int | None = None
        at50 = [0.0, 0.0]
        for step in range(1, params.max_steps + 1):
            x.grad = curv * x  # the exact gradient of f
            opt.step()
            with torch.no_grad():
                cur = float(f(x).item())
                if step == 50:
                    at50 = [float(v) for v in (0.5 * curv * x * x).tolist()]
            losses.append(min(max(cur, 1e-30), 1e12))
            if len(path) < 200:
                path.append([float(v) for v in x.detach().tolist()])
            if hit is None and cur <= 1e-6 * start_loss:
                hit = step
                if step >= 50:
                    break
        return losses, path, hit, at50

    ctx.progress(0.2, "plain gradient descent")
    gd_losses, gd_path, gd_hit, gd_at50 = optimise(0.0)
    ctx.progress(0.6, "momentum")
    mo_losses, mo_path, mo_hit, _ = optimise(params.momentum)

    gd_steps = gd_hit if gd_hit is not None else params.max_steps + 1
    mo_steps = mo_hit if mo_hit is not None else params.max_steps + 1
    speedup = gd_steps / mo_steps
    c1 = mo_hit is not None and speedup >= 2.0
    total50 = gd_at50[0] + gd_at50[1]
    flat_share = gd_at50[0] / total50 if total50 > 0 else 0.0
    c2 = total50 > 0 and flat_share > 0.9

    def fmt(h: int | None) -> str:
        return str(h) if h is not None else f">{params.max_steps}"

    def thin(n: int) -> list[int]:
        stride = max(1, n // 400)
        return list(range(0, n, stride))

    gd_idx, mo_idx = thin(len(gd_losses)), thin(len(mo_losses))
    return DemoResult(
        summary_zh=(
            f"kappa={params.kappa:g}，lr={params.lr:g}：普通 GD 需要 {fmt(gd_hit)} 步，动量 "
            f"{params.momentum:g} 需要 {fmt(mo_hit)} 步，才能把损失降到初始值的 1e-6。"
        ),
        summary=(
            f"kappa={params.kappa:g}, lr={params.lr:g}: plain GD needs {fmt(gd_hit)} steps, "
            "momentum "
            f"{params.momentum:g} needs {fmt(mo_hit)} steps to reach 1e-6 of the starting loss."
        ),
        metrics={
            "gd_steps": gd_steps,
            "momentum_steps": mo_steps,
            "speedup": speedup,
            "gd_flat_share_at_50": flat_share,
            "theory_gd_rate": max(abs(1 - params.lr / params.kappa), abs(1 - params.lr)),
        },
        tables=[
            Table(
                title="Steps to reach 1e-6 of the starting loss",
                columns=["optimizer", "steps"],
                rows=[
                    ["SGD (no momentum)", fmt(gd_hit)],
                    [f"SGD momentum={params.momentum:g}", fmt(mo_hit)],
                ],
            ),
            Table(
                title="First steps of each path (x1 flat axis, x2 steep axis)",
                columns=["step", "GD x1", "GD x2", "momentum x1", "momentum x2"],
                rows=[
                    [i, gd_path[i][0], gd_path[i][1], mo_path[i][0], mo_path[i][1]]
                    for i in range(min(10, len(gd_path), len(mo_path)))
                ],
            ),
        ],
        charts=[
            Chart(
                id="loss-curves",
                title="Loss against step",
                x_label="step",
                y_label="loss",
                log_y=True,
                series=[
                    Series(
                        name="SGD", x=[float(i) for i in gd_idx], y=[gd_losses[i] for i in gd_idx]
                    ),
                    Series(
                        name=f"momentum {params.momentum:g}",
                        x=[float(i) for i in mo_idx],
                        y=[mo_losses[i] for i in mo_idx],
                    ),
                ],
            )
        ],
        claims=[
            Claim(
                id="momentum-fewer-steps",
                text=CLAIMS["momentum-fewer-steps"],
                passed=bool(c1),
                values={"gd_steps": gd_steps, "momentum_steps": mo_steps, "speedup": speedup},
            ),
            Claim(
                id="flat-direction-bottleneck",
                text=CLAIMS["flat-direction-bottleneck"],
                passed=bool(c2),
                values={"flat_share_at_step_50": flat_share},
            ),
        ],
    )
