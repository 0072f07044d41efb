"""A tiny 1-D GAN: the generator learns a Gaussian; why the non-saturating loss is used."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "A GAN on one-dimensional data"
DESCRIPTION = (
    "Trains a small generator and discriminator adversarially so that G(z), z ~ N(0, 1), imitates "
    "samples from N(mean, std); first compares the two generator losses against a confident "
    "discriminator."
)
CLAIMS = {
    "generator-matches-target-mean": (
        "After the configured adversarial training, the mean of the generated samples is "
        "within 0.3 of the real data's mean."
    ),
    "non-saturating-loss-keeps-gradient": (
        "Against a discriminator pretrained for the configured number of steps, the non-saturating "
        "generator loss -log D(G(z)) gives at least 10 times the gradient of the minimax loss "
        "log(1 - D(G(z)))."
    ),
}
TITLE_ZH = "一维数据上的 GAN"
DESCRIPTION_ZH = (
    "对抗地训练一个小生成器和判别器，使 G(z)（z ~ N(0, 1)）模仿 N(mean, std) 的样本；先在一个自信"
    "的判别器上比较两种生成器损失。"
)
CLAIMS_ZH = {
    "generator-matches-target-mean": (
        "经过所设的对抗训练后，生成样本的均值与真实数据均值相差不超过 0.3。"
    ),
    "non-saturating-loss-keeps-gradient": (
        "面对预训练了所设步数的判别器，非饱和生成器损失 -log D(G(z)) 的梯度至少是极小极大损失 log"
        "(1 - D(G(z))) 的 10 倍。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "generator-matches-target-mean": (
        "generator_loss non-saturating with steps >= 300 and lr around 0.005 to 0.02"
    ),
    "non-saturating-loss-keeps-gradient": "d_pretrain_steps >= 50 (a confident discriminator)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "generator-matches-target-mean": (
        "generator_loss 为 non-saturating、steps >= 300 且 lr 在 0.005 到 0.02 左右"
    ),
    "non-saturating-loss-keeps-gradient": "d_pretrain_steps >= 50（判别器已经很自信）",
}
TEXT_ZH = {
    "Mean of the real data N(mean, std)": "真实数据 N(mean, std) 的均值",
    "Standard deviation of the real data": "真实数据的标准差",
    "Generator loss used for training: -log D(G(z)) or log(1 - D(G(z)))": (
        "训练所用的生成器损失：-log D(G(z)) 或 log(1 - D(G(z)))"
    ),
    "Training steps (one D step and one G step each)": "训练步数（每步各更新一次 D 和 G）",
    "Adam learning rate for both networks": "两个网络的 Adam 学习率",
    "Discriminator-only steps before the gradient comparison": "比较梯度前只训练判别器的步数",
    "Generator loss gradients against a confident discriminator": (
        "面对自信的判别器时生成器损失的梯度"
    ),
    "generator loss": "生成器损失",
    "gradient norm": "梯度范数",
    "mean D(G(z))": "D(G(z)) 均值",
    "-log D(G(z)) (non-saturating)": "-log D(G(z))（非饱和）",
    "log(1 - D(G(z))) (minimax)": "log(1 - D(G(z)))（极小极大）",
    "Real vs generated samples (density)": "真实样本与生成样本（密度）",
    "x": "x",
    "density": "密度",
    "Generated mean and std during training": "训练中生成样本的均值和标准差",
    "step": "步数",
    "value": "值",
    "real": "真实",
    "generated": "生成",
    "generated mean": "生成均值",
    "generated std": "生成标准差",
    "target mean": "目标均值",
}


class Params(BaseModel):
    target_mean: float = Field(
        3.0, ge=-5.0, le=5.0, description="Mean of the real data N(mean, std)"
    )
    target_std: float = Field(
        0.5, ge=0.1, le=2.0, description="Standard deviation of the real data"
    )
    generator_loss: Literal["non-saturating", "minimax"] = Field(
        "non-saturating",
        description="Generator loss used for training: -log D(G(z)) or log(1 - D(G(z)))",
    )
    steps: int = Field(
        300, ge=10, le=1500, description="Training steps (one D step and one G step each)"
    )
    lr: float = Field(0.01, ge=1e-4, le=0.05, description="Adam learning rate for both networks")
    d_pretrain_steps: int = Field(
        100, ge=0, le=500, description="Discriminator-only steps before the gradient comparison"
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    batch = 64

    def make_g() -> nn.Module:
        return nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1)).to(device)

    def make_d() -> nn.Module:
        return nn.Sequential(nn.Linear(1, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1)).to(device)

    def real(n: int) -> torch.Tensor:
        return torch.randn(n, 1).to(device) * params.target_std + params.target_mean

    def d_step(g: nn.Module, d: nn.Module, opt: torch.optim.Optimizer) -> float:
        opt.zero_grad()
        fake = g(torch.randn(batch, 1).to(device)).detach()
        logits_real, logits_fake = d(real(batch)), d(fake)
        # Binary cross-entropy: real -> 1, fake -> 0 (D outputs logits; sigmoid is inside the loss).
        loss = F.binary_cross_entropy_with_logits(
            logits_real, torch.ones_like(logits_real)
        ) + F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))
        loss.backward()
        opt.step()
        return float(loss.item())

    def g_loss(d: nn.Module, fake: torch.Tensor, kind: str) -> torch.Tensor:
        logits = d(fake)
        if kind == "non-saturating":
            return F.softplus(-logits).mean()  # -log sigmoid(l) = -log D(G(z))
        return -F.softplus(logits).mean()  # log(1 - sigmoid(l)) = -softplus(l): minimized by G

    ctx.progress(0.05, "gradient comparison")
    g0, d0 = make_g(), make_d()
    opt_d0 = torch.optim.Adam(d0.parameters(), lr=params.lr)
    for _ in range(params.d_pretrain_steps):
        d_step(g0, d0, opt_d0)
    z = torch.randn(1024, 1).to(device)
    with torch.no_grad():
        d_of_fake = float(torch.sigmoid(d0(g0(z))).mean().item())
    norms = {}
    for kind in ("non-saturating", "minimax"):
        g0.zero_grad()
        g_loss(d0, g0(z), kind).backward()
        norms[kind] = float(torch.sqrt(sum((p.grad**2).sum() for p in g0.parameters())).item())
    grad_ratio = norms["non-saturating"] / max(norms["minimax"], 1e-30)

    ctx.progress(0.2, "adversarial training")
    g, d = make_g(), make_d()
    opt_g = torch.optim.Adam(g.parameters(), lr=params.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=params.lr, betas=(0.5, 0.999))
    curve_x, curve_mean, curve_std, d_losses = [], [], [], []
    for step in range(params.steps):
        d_losses.append(d_step(g, d, opt_d))
        opt_g.zero_grad()
        g_loss(d, g(torch.randn(batch, 1).to(device)), params.generator_loss).backward()
        opt_g.step()
        if step % 20 == 0 or step == params.steps - 1:
            with torch.no_grad():
                sample = g(torch.randn(2048, 1).to(device))
            curve_x.append(float(step + 1))
            curve_mean.append(float(sample.mean().item()))
            curve_std.append(float(sample.std().item()))
        if step % 100 == 0:
            ctx.progress(0.2 + 0.75 * step / params.steps, "adversarial training")

    with torch.no_grad():
        final = g(torch.randn(4096, 1).to(device)).squeeze(1)
        d_real = float(torch.sigmoid(d(real(4096))).mean().item())
        d_fake = float(torch.sigmoid(d(final.unsqueeze(1))).mean().item())
    gen_mean, gen_std = float(final.mean().item()), float(final.std().item())
    mean_ok = abs(gen_mean - params.target_mean) < 0.3

    lo, hi = params.target_mean - 4 * params.target_std, params.target_mean + 4 * params.target_std
    edges = torch.linspace(lo, hi, 31, device=device)
    centers = [float(v) for v in ((edges[1:] + edges[:-1]) / 2).tolist()]
    width = float((edges[1] - edges[0]).item())

    def density(t: torch.Tensor) -> list[float]:
        counts = torch.histc(t.clamp(lo, hi), bins=30, min=lo, max=hi)
        return [float(v) for v in (counts / (t.numel() * width)).tolist()]

    charts = [
        Chart(
            id="histogram",
            title="Real vs generated samples (density)",
            x_label="x",
            y_label="density",
            series=[
                Series(name="real", x=centers, y=density(real(4096).squeeze(1))),
                Series(name="generated", x=centers, y=density(final)),
            ],
        ),
        Chart(
            id="moments",
            title="Generated mean and std during training",
            x_label="step",
            y_label="value",
            series=[
                Series(name="generated mean", x=curve_x, y=curve_mean),
                Series(name="generated std", x=curve_x, y=curve_std),
                Series(name="target mean", x=curve_x, y=[params.target_mean] * len(curve_x)),
            ],
        ),
    ]
    table = Table(
        title="Generator loss gradients against a confident discriminator",
        columns=["generator loss", "gradient norm", "mean D(G(z))"],
        rows=[
            ["-log D(G(z)) (non-saturating)", norms["non-saturating"], d_of_fake],
            ["log(1 - D(G(z))) (minimax)", norms["minimax"], d_of_fake],
        ],
    )
    claims = [
        Claim(
            id="generator-matches-target-mean",
            text=CLAIMS["generator-matches-target-mean"],
            passed=bool(mean_ok),
            values={
                "generated_mean": gen_mean,
                "generated_std": gen_std,
                "target_mean": params.target_mean,
                "target_std": params.target_std,
            },
        ),
        Claim(
            id="non-saturating-loss-keeps-gradient",
            text=CLAIMS["non-saturating-loss-keeps-gradient"],
            passed=bool(grad_ratio >= 10),
            values={
                "ratio": grad_ratio,
                "mean_D_of_fake": d_of_fake,
                "d_pretrain_steps": params.d_pretrain_steps,
            },
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"生成均值 {gen_mean:.2f}（目标 {params.target_mean:g}），标准差 {gen_std:.2f}（目标 "
            f"{params.target_std:g}）；D 最终在真实样本上为 {d_real:.2f}，在生成样本上为 "
            f"{d_fake:.2f}。面对预训练的 D，非饱和与极小极大损失的梯度比：{grad_ratio:.1f}。"
        ),
        summary=(
            f"Generated mean {gen_mean:.2f} (target {params.target_mean:g}), std {gen_std:.2f} "
            f"(target {params.target_std:g}); D ends at {d_real:.2f} on real, {d_fake:.2f} on "
            f"fake. Non-saturating/minimax gradient ratio against a pretrained D: {grad_ratio:.1f}."
        ),
        metrics={
            "generated_mean": gen_mean,
            "generated_std": gen_std,
            "final_D_real": d_real,
            "final_D_fake": d_fake,
            "final_D_loss": d_losses[-1],
            "gradient_ratio": grad_ratio,
        },
        tables=[table],
        charts=charts,
        claims=claims,
    )
