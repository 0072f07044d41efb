"""Gradient descent near a saddle point, and how rare minima are among random critical points."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Saddle points and plateaus"
DESCRIPTION = (
    "Runs gradient descent on f(x, y) = x^2/2 + y^4/4 - y^2/2, which has a saddle at the origin "
    "and minima at (0, +-1), with and without gradient noise; then counts how many random "
    "symmetric Hessians are positive definite."
)
CLAIMS = {
    "gd-stalls-at-saddle": (
        "Starting at y0 = init_offset, plain gradient descent spends at least 20 steps with "
        "gradient norm below 1e-2 near the saddle (a plateau that looks like convergence) and "
        "needs at least 50 steps to escape."
    ),
    "noise-escapes-faster": (
        "With the configured gradient noise, noisy gradient descent escapes the saddle in at "
        "most half the steps plain gradient descent needs."
    ),
    "random-critical-points-mostly-saddles": (
        "In the configured dimension, fewer than 1% of random symmetric Hessians (GOE) are "
        "positive definite: a random critical point is almost never a minimum."
    ),
}
TITLE_ZH = "鞍点与平台"
DESCRIPTION_ZH = (
    "在 f(x, y) = x^2/2 + y^4/4 - y^2/2 上做梯度下降（原点是鞍点，(0, ±1) 是极小值），带或不带梯"
    "度噪声；再数一数随机对称 Hessian 中正定的有多少。"
)
CLAIMS_ZH = {
    "gd-stalls-at-saddle": (
        "从 y0 = init_offset 出发，普通梯度下降在鞍点附近至少有 20 步梯度范数小于 1e-2（看起来像"
        "收敛的平台），至少需要 50 步才能逃离。"
    ),
    "noise-escapes-faster": (
        "在所设梯度噪声下，带噪梯度下降逃离鞍点所需步数至多是普通梯度下降的一半。"
    ),
    "random-critical-points-mostly-saddles": (
        "在所设维度下，随机对称 Hessian (GOE) 中正定的不到 1%：随机临界点几乎从来不是极小值。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "gd-stalls-at-saddle": "init_offset <= 1e-3 (close to the stable axis; the default 1e-6)",
    "noise-escapes-faster": "noise_std >= 0.001 with a small init_offset",
    "random-critical-points-mostly-saddles": "dim >= 5 (the default 10)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "gd-stalls-at-saddle": "init_offset <= 1e-3（靠近稳定轴；默认 1e-6）",
    "noise-escapes-faster": "noise_std >= 0.001 且 init_offset 很小",
    "random-critical-points-mostly-saddles": "dim >= 5（默认 10）",
}
TEXT_ZH = {
    "Starting y (0 = exactly on the saddle's stable axis)": "起点 y（0 = 恰好在鞍点的稳定轴上）",
    "Learning rate": "学习率",
    "Std of Gaussian noise added to each gradient": "加在每个梯度上的高斯噪声的标准差",
    "Step budget": "步数上限",
    "Dimension of the random Hessians": "随机 Hessian 的维度",
    "Escape from the saddle (|y| > 0.5)": "逃离鞍点（|y| > 0.5）",
    "variant": "变体",
    "escape step": "逃离所用步数",
    "steps with |grad| < 1e-2": "|grad| < 1e-2 的步数",
    "gradient descent": "梯度下降",
    "Gradient norm along the path": "路径上的梯度范数",
    "step": "步数",
    "|grad f|": "|grad f|",
    "Loss along the path (saddle value 0, minimum -0.25)": (
        "路径上的损失（鞍点处为 0，最小值 -0.25）"
    ),
    "f": "f",
    "noisy gradient descent": "带噪声的梯度下降",
}


class Params(BaseModel):
    init_offset: float = Field(
        1e-6, ge=0.0, le=1.0, description="Starting y (0 = exactly on the saddle's stable axis)"
    )
    lr: float = Field(0.1, ge=0.01, le=0.5, description="Learning rate")
    noise_std: float = Field(
        0.01, ge=0.0, le=1.0, description="Std of Gaussian noise added to each gradient"
    )
    max_steps: int = Field(1000, ge=50, le=3000, description="Step budget")
    dim: int = Field(10, ge=1, le=50, description="Dimension of the random Hessians")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)

    def f(p: torch.Tensor) -> torch.Tensor:
        return 0.5 * p[0] ** 2 + 0.25 * p[1] ** 4 - 0.5 * p[1] ** 2

    def descend(noise: float) -> tuple[list[float], list[float], int | None, int]:
        gen = torch.Generator().manual_seed(ctx.seed + 1)
        p = torch.tensor(
            [1.0, params.init_offset], dtype=torch.float64, device=device, requires_grad=True
        )
        losses, gnorms = [], []
        escaped: int | None = None
        flat = 0
        for step in range(params.max_steps):
            loss = f(p)
            (g,) = torch.autograd.grad(loss, p)
            gn = float(g.norm().item())
            losses.append(float(loss.item()))
            gnorms.append(max(gn, 1e-30))
            if escaped is None and gn < 1e-2:
                flat += 1
            if escaped is None and abs(float(p[1].item())) > 0.5:
                escaped = step
                if step >= 50:
                    break
            with torch.no_grad():
                if noise > 0:
                    g = g + noise * torch.randn(2, generator=gen, dtype=torch.float64).to(device)
                p = (p - params.lr * g).requires_grad_(True)
        return losses, gnorms, escaped, flat

    ctx.progress(0.1, "plain gradient descent")
    gd_loss, gd_gn, gd_escape, gd_flat = descend(0.0)
    ctx.progress(0.4, "noisy gradient descent")
    nz_loss, nz_gn, nz_escape, _ = descend(params.noise_std)

    ctx.progress(0.7, "random Hessians")
    gen = torch.Generator().manual_seed(ctx.seed + 2)
    trials = 2000
    a = torch.randn(trials, params.dim, params.dim, generator=gen, dtype=torch.float64)
    h = (a + a.transpose(1, 2)) / 2
    eig = torch.linalg.eigvalsh(h)
    pos_def = float((eig.min(dim=1).values > 0).double().mean().item())
    neg_frac = float((eig < 0).double().mean().item())

    gd_steps = gd_escape if gd_escape is not None else params.max_steps
    nz_steps = nz_escape if nz_escape is not None else params.max_steps
    c1 = gd_flat >= 20 and gd_steps >= 50
    c2 = nz_escape is not None and nz_steps * 2 <= gd_steps
    c3 = pos_def < 0.01

    def fmt(e: int | None) -> str:
        return str(e) if e is not None else f"never (>{params.max_steps})"

    return DemoResult(
        summary_zh=(
            f"从 y0={params.init_offset:g} 出发：普通 GD 经过 {fmt(gd_escape)} 步逃离鞍点（其中 "
            f"{gd_flat} 步的 |grad| < 1e-2）；噪声标准差为 {params.noise_std:g} 时经过 "
            f"{fmt(nz_escape)} 步。随机 {params.dim}x{params.dim} Hessian 中有 {pos_def:.1%} 是正"
            "定的。"
        ),
        summary=(
            f"From y0={params.init_offset:g}: plain GD escapes the saddle after {fmt(gd_escape)} "
            "steps "
            f"({gd_flat} of them with |grad| < 1e-2); with noise std {params.noise_std:g} after "
            f"{fmt(nz_escape)}. {pos_def:.1%} of random {params.dim}x{params.dim} Hessians are "
            "positive definite."
        ),
        metrics={
            "gd_escape_step": gd_steps,
            "noisy_escape_step": nz_steps,
            "gd_flat_steps": gd_flat,
            "positive_definite_fraction": pos_def,
            "negative_eigenvalue_fraction": neg_frac,
        },
        tables=[
            Table(
                title="Escape from the saddle (|y| > 0.5)",
                columns=["variant", "escape step", "steps with |grad| < 1e-2"],
                rows=[
                    ["gradient descent", fmt(gd_escape), gd_flat],
                    [f"noise std {params.noise_std:g}", fmt(nz_escape), ""],
                ],
            )
        ],
        charts=[
            Chart(
                id="grad-norm",
                title="Gradient norm along the path",
                x_label="step",
                y_label="|grad f|",
                log_y=True,
                series=[
                    Series(
                        name="gradient descent", x=[float(i) for i in range(len(gd_gn))], y=gd_gn
                    ),
                    Series(
                        name="noisy gradient descent",
                        x=[float(i) for i in range(len(nz_gn))],
                        y=nz_gn,
                    ),
                ],
            ),
            Chart(
                id="loss",
                title="Loss along the path (saddle value 0, minimum -0.25)",
                x_label="step",
                y_label="f",
                series=[
                    Series(
                        name="gradient descent",
                        x=[float(i) for i in range(len(gd_loss))],
                        y=gd_loss,
                    ),
                    Series(
                        name="noisy gradient descent",
                        x=[float(i) for i in range(len(nz_loss))],
                        y=nz_loss,
                    ),
                ],
            ),
        ],
        claims=[
            Claim(
                id="gd-stalls-at-saddle",
                text=CLAIMS["gd-stalls-at-saddle"],
                passed=bool(c1),
                values={"escape_step": gd_steps, "flat_steps": gd_flat},
            ),
            Claim(
                id="noise-escapes-faster",
                text=CLAIMS["noise-escapes-faster"],
                passed=bool(c2),
                values={"gd_escape_step": gd_steps, "noisy_escape_step": nz_steps},
            ),
            Claim(
                id="random-critical-points-mostly-saddles",
                text=CLAIMS["random-critical-points-mostly-saddles"],
                passed=bool(c3),
                values={"positive_definite_fraction": pos_def, "dim": params.dim},
            ),
        ],
    )
