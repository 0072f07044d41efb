"""The VAE's KL term in closed form, and why an L2 decoder averages ambiguous outputs into blur."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "VAE: the KL term and blurry reconstructions"
TITLE_ZH = "VAE：KL 项与模糊的重建"
DESCRIPTION = (
    "Checks the closed-form KL(N(mu, sigma^2) || N(0, I)) against a Monte Carlo estimate, then "
    "fits an L2 (Gaussian-likelihood) decoder to sharp 1-D edges whose position the latent code "
    "cannot tell apart, and measures how blurry the optimum is."
)
DESCRIPTION_ZH = (
    "把闭式 KL(N(mu, sigma^2) || N(0, I)) 与蒙特卡洛估计对照；再用 L2（高斯似然）解码器拟合一组"
    "一维锐利边缘，而隐变量无法区分边缘位置，测量最优解有多模糊。"
)
CLAIMS = {
    "kl-closed-form-matches-mc": (
        "KL = 1/2 sum(mu^2 + sigma^2 - 1 - log sigma^2) matches a Monte Carlo estimate of "
        "E_q[log q(z) - log p(z)] within 2%."
    ),
    ("kl-zero-at-prior"): (
        "The KL term is exactly 0 when mu = 0 and sigma = 1, and positive otherwise."
    ),
    "l2-decoder-blurs": (
        "When the code cannot tell which of several sharp edges it came from, the L2-optimal "
        "decoder output is their average: grey pixels that appear in no training image."
    ),
}
CLAIMS_ZH = {
    "kl-closed-form-matches-mc": (
        "KL = 1/2 sum(mu^2 + sigma^2 - 1 - log sigma^2) 与 E_q[log q(z) - log p(z)] 的蒙特卡洛"
        "估计相差不到 2%。"
    ),
    "kl-zero-at-prior": "mu = 0 且 sigma = 1 时 KL 项恰好为 0，其他情况为正。",
    "l2-decoder-blurs": (
        "当编码无法区分输入来自几个锐利边缘中的哪一个时，L2 最优的解码输出是它们的平均：出现了"
        "任何训练图像里都没有的灰色像素。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "kl-closed-form-matches-mc": "always: it does not depend on the parameters",
    "kl-zero-at-prior": "always: it does not depend on the parameters",
    "l2-decoder-blurs": "edge_positions >= 2",
}
CLAIM_SHOWN_WHEN_ZH = {
    "kl-closed-form-matches-mc": "总成立：与参数无关",
    "kl-zero-at-prior": "总成立：与参数无关",
    "l2-decoder-blurs": "edge_positions >= 2",
}
TEXT_ZH = {
    "Latent dimensions": "隐变量维数",
    "Mean of every latent dimension": "每个隐变量维度的均值",
    "Standard deviation of every latent dimension": "每个隐变量维度的标准差",
    "Edge positions the code cannot tell apart": "编码无法区分的边缘位置数",
    "Sharp training edges vs the L2-optimal output": "锐利的训练边缘与 L2 最优输出",
    "pixel": "像素",
    "intensity": "强度",
    "L2-optimal output": "L2 最优输出",
    "KL term": "KL 项",
    "quantity": "量",
    "value": "值",
}


class Params(BaseModel):
    latent_dim: int = Field(8, ge=1, le=64, description="Latent dimensions")
    mu: float = Field(0.5, ge=-3.0, le=3.0, description="Mean of every latent dimension")
    sigma: float = Field(
        0.6, ge=0.05, le=3.0, description="Standard deviation of every latent dimension"
    )
    edge_positions: int = Field(
        3, ge=1, le=6, description="Edge positions the code cannot tell apart"
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import math

    import torch

    torch.manual_seed(ctx.seed)
    d, mu, sigma = params.latent_dim, params.mu, params.sigma
    closed = 0.5 * d * (mu**2 + sigma**2 - 1 - math.log(sigma**2))
    z = (mu + sigma * torch.randn(200000, d, dtype=torch.float64)).to(ctx.device)
    log_q = (-0.5 * ((z - mu) / sigma) ** 2 - math.log(sigma) - 0.5 * math.log(2 * math.pi)).sum(1)
    log_p = (-0.5 * z**2 - 0.5 * math.log(2 * math.pi)).sum(1)
    mc = float((log_q - log_p).mean())
    at_prior = 0.5 * d * (0 + 1 - 1 - math.log(1.0))
    rel = abs(mc - closed) / max(abs(closed), 1e-12)

    # 16-pixel step edges at different positions, all mapped to the same code: fit the decoder
    # output (one free vector) by gradient descent on the mean squared error.
    width = 16
    starts = [6 + 2 * i for i in range(params.edge_positions)]
    images = torch.stack([(torch.arange(width) >= s).float() for s in starts]).to(ctx.device)
    out = torch.zeros(width, requires_grad=True, device=ctx.device)
    opt = torch.optim.SGD([out], lr=0.5)
    for _ in range(200):
        opt.zero_grad()
        loss = ((out - images) ** 2).mean()
        loss.backward()
        opt.step()
    recon = out.detach()
    grey = int(((recon > 0.05) & (recon < 0.95)).sum())
    matches_mean = float((recon - images.mean(0)).abs().max())
    chart = Chart(
        id="edges",
        title="Sharp training edges vs the L2-optimal output",
        x_label="pixel",
        y_label="intensity",
        series=[
            Series(
                name=f"edge at {s}",
                x=[float(i) for i in range(width)],
                y=[float(v) for v in images[k]],
            )
            for k, s in enumerate(starts)
        ]
        + [
            Series(
                name="L2-optimal output",
                x=[float(i) for i in range(width)],
                y=[float(v) for v in recon],
            )
        ],
    )
    table = Table(
        title="KL term",
        columns=["quantity", "value"],
        rows=[
            ["closed form", closed],
            ["Monte Carlo (200k samples)", mc],
            ["at mu = 0, sigma = 1", at_prior],
        ],
    )
    claims = [
        Claim(
            id="kl-closed-form-matches-mc",
            text=CLAIMS["kl-closed-form-matches-mc"],
            passed=rel < 0.02,
            values={"closed_form": closed, "monte_carlo": mc, "relative_error": rel},
        ),
        Claim(
            id="kl-zero-at-prior",
            text=CLAIMS["kl-zero-at-prior"],
            passed=at_prior == 0.0 and (closed > 0 or (mu == 0 and sigma == 1)),
            values={"kl_at_prior": at_prior, "kl_here": closed},
        ),
        Claim(
            id="l2-decoder-blurs",
            text=CLAIMS["l2-decoder-blurs"],
            passed=grey >= 1 and matches_mean < 1e-3,
            values={"grey_pixels": grey, "max_diff_from_mean_image": matches_mean},
        ),
    ]
    return DemoResult(
        summary=f"KL closed form {closed:.4f} vs Monte Carlo {mc:.4f}. With "
        f"{params.edge_positions} "
        "edge positions "
        f"behind one code, the L2-optimal output has {grey} grey pixels (the mean of the edges).",
        summary_zh=f"KL 闭式解 {closed:.4f}，蒙特卡洛估计 {mc:.4f}。同一个编码背后有 "
        f"{params.edge_positions} "
        "个边缘位置时，"
        f"L2 最优输出有 {grey} 个灰色像素（即各边缘的平均）。",
        metrics={"kl_closed_form": closed, "kl_monte_carlo": mc, "grey_pixels": grey},
        tables=[table],
        charts=[chart],
        claims=claims,
    )
