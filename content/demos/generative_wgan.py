"""Why WGAN: JS is flat for disjoint supports, W1 is not; a gradient-penalty critic estimates W1."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series

TITLE = "JS divergence vs Wasserstein distance, and a WGAN-GP critic"
TITLE_ZH = "JS 散度与 Wasserstein 距离，以及 WGAN-GP 判别器"
DESCRIPTION = (
    "Moves a uniform distribution U[theta, theta + 1] away from U[0, 1], tracks the JS divergence "
    "and the Wasserstein-1 distance, then trains a 1-D critic with and without a gradient penalty."
)
DESCRIPTION_ZH = (
    "把均匀分布 U[theta, theta + 1] 从 U[0, 1] 移开，跟踪 JS 散度和 Wasserstein-1 距离；再分别"
    "训练带和不带梯度惩罚的一维判别器(critic)。"
)
CLAIMS = {
    "js-flat-when-disjoint": (
        "Once the supports are disjoint (theta >= 1), JS = log 2 whatever theta is: its gradient "
        "with respect to theta is 0."
    ),
    "w1-equals-shift": (
        "W1(U[0,1], U[theta, theta+1]) = |theta|, so it keeps a slope of 1 when the supports "
        "are disjoint."
    ),
    "gp-critic-estimates-w1": (
        "A critic trained with the gradient penalty (lambda = 10) estimates W1 within 15%, with "
        "slope |f'(x)| close to 1 between the distributions."
    ),
}
CLAIMS_ZH = {
    "js-flat-when-disjoint": (
        "支撑集一旦不相交（theta >= 1），无论 theta 多大 JS 都等于 log 2：它对 theta 的梯度为 0。"
    ),
    "w1-equals-shift": "W1(U[0,1], U[theta, theta+1]) = |theta|，支撑集不相交时斜率仍为 1。",
    "gp-critic-estimates-w1": (
        "用梯度惩罚（lambda = 10）训练的判别器估计 W1 的误差在 15% 以内，两个分布之间的斜"
        "率 |f'(x)| "
        "接近 1。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "js-flat-when-disjoint": "theta >= 1 (the supports no longer overlap)",
    "w1-equals-shift": "always: it does not depend on the parameters",
    "gp-critic-estimates-w1": "penalty >= 1",
}
CLAIM_SHOWN_WHEN_ZH = {
    "js-flat-when-disjoint": "theta >= 1（两个分布的支撑集不再重叠）",
    "w1-equals-shift": "总成立：与参数无关",
    "gp-critic-estimates-w1": "penalty >= 1",
}
TEXT_ZH = {
    "Shift theta of the generated distribution": "生成分布的平移量 theta",
    "Gradient-penalty weight lambda (0 = no constraint)": "梯度惩罚权重 lambda（0 表示无约束）",
    "Critic training steps": "判别器训练步数",
    "Divergence vs shift": "散度随平移量的变化",
    "theta": "theta",
    "distance": "距离",
    "JS divergence": "JS 散度",
    "Wasserstein-1": "Wasserstein-1",
}


class Params(BaseModel):
    theta: float = Field(
        2.0, ge=0.5, le=5.0, description="Shift theta of the generated distribution"
    )
    penalty: float = Field(
        10.0, ge=0.0, le=50.0, description="Gradient-penalty weight lambda (0 = no constraint)"
    )
    steps: int = Field(150, ge=50, le=600, description="Critic training steps")


def js_uniform(theta: float) -> float:
    """JS(U[0,1] || U[theta, theta+1]) in nats, exact: the overlap is max(0, 1 - |theta|)."""
    import math

    overlap = max(0.0, 1.0 - abs(theta))
    # On the overlap both densities are 1 (mixture 1): no contribution; elsewhere p = 1, m = 1/2.
    return (1.0 - overlap) * math.log(2.0)


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    thetas = [0.1 * i for i in range(0, 51)]
    js = [js_uniform(t) for t in thetas]
    n = 4096
    base = torch.rand(n)
    real = base.sort().values
    w1_curve = [float((real - (torch.rand(n).sort().values + t)).abs().mean()) for t in thetas]
    th = params.theta
    w1_here = float((real - (torch.rand(n).sort().values + th)).abs().mean())
    js_slope = (js_uniform(th + 0.1) - js_uniform(th)) / 0.1

    critic = nn.Sequential(
        nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1)
    ).to(ctx.device)
    opt = torch.optim.Adam(critic.parameters(), lr=3e-3, betas=(0.5, 0.9))
    for _ in range(params.steps):
        x_real = torch.rand(128, 1).to(ctx.device)
        x_fake = (torch.rand(128, 1) + th).to(ctx.device)
        mix = torch.rand(128, 1).to(ctx.device)
        x_hat = (mix * x_real + (1 - mix) * x_fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        gp = ((grad.norm(dim=1) - 1) ** 2).mean()
        loss = -(critic(x_real).mean() - critic(x_fake).mean()) + params.penalty * gp
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        x_real = torch.rand(4096, 1).to(ctx.device)
        x_fake = (torch.rand(4096, 1) + th).to(ctx.device)
        estimate = float(critic(x_real).mean() - critic(x_fake).mean())
    grid = torch.linspace(0.0, th + 1.0, 50).reshape(-1, 1).to(ctx.device).requires_grad_(True)
    (slope,) = torch.autograd.grad(critic(grid).sum(), grid)
    mean_slope = float(slope.abs().mean())
    rel = abs(estimate - w1_here) / w1_here
    chart = Chart(
        id="divergences",
        title="Divergence vs shift",
        x_label="theta",
        y_label="distance",
        series=[
            Series(name="JS divergence", x=thetas, y=js),
            Series(name="Wasserstein-1", x=thetas, y=w1_curve),
        ],
    )
    claims = [
        Claim(
            id="js-flat-when-disjoint",
            text=CLAIMS["js-flat-when-disjoint"],
            passed=th >= 1.0 and abs(js_slope) < 1e-12,
            values={"js": js_uniform(th), "js_slope": js_slope},
        ),
        Claim(
            id="w1-equals-shift",
            text=CLAIMS["w1-equals-shift"],
            passed=abs(w1_here - th) / th < 0.02,
            values={"w1": w1_here, "theta": th},
        ),
        Claim(
            id="gp-critic-estimates-w1",
            text=CLAIMS["gp-critic-estimates-w1"],
            passed=rel < 0.15 and 0.8 < mean_slope < 1.2,
            values={"critic_estimate": estimate, "w1": w1_here, "mean_abs_slope": mean_slope},
        ),
    ]
    return DemoResult(
        summary=f"theta = {th}: JS = {js_uniform(th):.4f} (slope {js_slope:.1f}), W1 = "
        f"{w1_here:.3f}; "
        f"critic with lambda = {params.penalty} estimates {estimate:.3f} with mean |f'| = "
        f"{mean_slope:.2f}.",
        summary_zh=f"theta = {th}：JS = {js_uniform(th):.4f}（斜率 {js_slope:.1f}），W1 = "
        f"{w1_here:.3f}；"
        f"lambda = {params.penalty} 的判别器估计为 {estimate:.3f}，平均 |f'| = {mean_slope:.2f}。",
        metrics={
            "js": js_uniform(th),
            "w1": w1_here,
            "critic_estimate": estimate,
            "mean_abs_slope": mean_slope,
        },
        charts=[chart],
        claims=claims,
    )
