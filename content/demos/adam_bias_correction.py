"""Adam's first steps with and without bias correction of its moment estimates."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Adam bias correction"
DESCRIPTION = (
    "Feeds the same noisy gradients to torch.optim.Adam and to a hand-written Adam without bias "
    "correction, and compares the moment estimates and step sizes over the first steps."
)
CLAIMS = {
    "corrected-first-step-is-lr": (
        "With bias correction (torch.optim.Adam), the first update of every coordinate has size lr "
        "(within 5%) whatever the gradient's scale, since m_hat / sqrt(v_hat) = g / |g| at step 1."
    ),
    "uncorrected-first-step-off": (
        "Without bias correction the first update is (1 - beta1) / sqrt(1 - beta2) times the "
        "corrected one; with the configured betas that is off by more than 1.5x."
    ),
    "uncorrected-m-biased-to-zero": (
        "Without correction the first-moment estimate after 5 steps is below 60% of the mean "
        "gradient (biased towards its zero initialisation); the corrected m_hat is within 20%."
    ),
}
TITLE_ZH = "Adam 的偏差修正"
DESCRIPTION_ZH = (
    "把同一串带噪声的梯度分别交给 torch.optim.Adam 和一个不做偏差修正的手写 Adam，比较前几步的矩"
    "估计和步长。"
)
CLAIMS_ZH = {
    "corrected-first-step-is-lr": (
        "有偏差修正（torch.optim.Adam）时，无论梯度尺度如何，每个坐标的第一次更新大小都是 lr（误"
        "差 5% 以内），因为第 1 步时 m_hat / sqrt(v_hat) = g / |g|。"
    ),
    "uncorrected-first-step-off": (
        "没有偏差修正时，第一次更新是修正后的 (1 - beta1) / sqrt(1 - beta2) 倍；在所设的 beta 下"
        "偏离超过 1.5 倍。"
    ),
    "uncorrected-m-biased-to-zero": (
        "不修正时，5 步后的一阶矩估计低于平均梯度的 60%（偏向其零初始化）；修正后的 m_hat 误差在 "
        "20% 以内。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "corrected-first-step-is-lr": "eps much smaller than grad_scale (eps <= 1e-3 * grad_scale)",
    "uncorrected-first-step-off": (
        "betas far from (1 - beta1) = sqrt(1 - beta2), e.g. the defaults 0.9 and 0.999 (ratio 3.16)"
    ),
    "uncorrected-m-biased-to-zero": "beta1 >= 0.85 (the default 0.9) and grad_noise <= 0.5",
}
CLAIM_SHOWN_WHEN_ZH = {
    "corrected-first-step-is-lr": "eps 远小于 grad_scale（eps <= 1e-3 * grad_scale）",
    "uncorrected-first-step-off": (
        "(1 - beta1) 与 sqrt(1 - beta2) 相差较大，例如默认的 0.9 和 0.999（比值 3.16）"
    ),
    "uncorrected-m-biased-to-zero": "beta1 >= 0.85（默认 0.9）且 grad_noise <= 0.5",
}
TEXT_ZH = {
    "Decay of the first-moment (mean) estimate": "一阶矩（均值）估计的衰减率",
    "Decay of the second-moment estimate": "二阶矩估计的衰减率",
    "Learning rate": "学习率",
    "Epsilon added to sqrt(v_hat)": "加在 sqrt(v_hat) 上的 epsilon",
    "Mean gradient magnitude": "梯度均值的大小",
    "Gradient noise relative to its mean": "梯度噪声（相对均值）",
    "Number of steps to follow": "跟踪的步数",
    "Mean step size / lr over the first steps": "前几步的平均步长 / lr",
    "step": "步数",
    "with correction": "有校正",
    "without correction": "无校正",
    "m / mean g (raw)": "m / 梯度均值（未校正）",
    "m_hat / mean g": "m_hat / 梯度均值",
    "Mean |update| / lr per step": "每步平均 |更新量| / lr",
    "|update| / lr": "|更新量| / lr",
    "with bias correction": "有偏差校正",
    "without bias correction": "无偏差校正",
}


class Params(BaseModel):
    beta1: float = Field(
        0.9, ge=0.0, le=0.999, description="Decay of the first-moment (mean) estimate"
    )
    beta2: float = Field(
        0.999, ge=0.5, le=0.9999, description="Decay of the second-moment estimate"
    )
    lr: float = Field(0.001, ge=1e-5, le=0.1, description="Learning rate")
    eps: float = Field(1e-8, ge=1e-10, le=1.0, description="Epsilon added to sqrt(v_hat)")
    grad_scale: float = Field(1.0, ge=1e-4, le=1e4, description="Mean gradient magnitude")
    grad_noise: float = Field(
        0.1, ge=0.0, le=2.0, description="Gradient noise relative to its mean"
    )
    steps: int = Field(200, ge=10, le=2000, description="Number of steps to follow")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    d = 64
    gen = torch.Generator().manual_seed(ctx.seed)
    # A fixed mean gradient per coordinate (mixed signs) plus noise; the parameters do not change
    # the gradients, so both optimizers see exactly the same sequence.
    mean_g = (torch.rand(d, generator=gen, dtype=torch.float64) + 0.5) * params.grad_scale
    mean_g = mean_g * torch.where(torch.rand(d, generator=gen) < 0.5, -1.0, 1.0).double()
    grads = [
        (mean_g * (1 + params.grad_noise * torch.randn(d, generator=gen, dtype=torch.float64))).to(
            device
        )
        for _ in range(params.steps)
    ]
    mean_g = mean_g.to(device)

    x = torch.zeros(d, dtype=torch.float64, device=device)
    opt = torch.optim.Adam([x], lr=params.lr, betas=(params.beta1, params.beta2), eps=params.eps)
    m = torch.zeros_like(x)
    v = torch.zeros_like(x)
    x_raw = torch.zeros_like(x)
    corr_steps, raw_steps, m_raw_ratio, m_hat_ratio = [], [], [], []
    for t, g in enumerate(grads, start=1):
        before = x.detach().clone()
        x.grad = g.clone()
        opt.step()
        corr_steps.append(float((x.detach() - before).abs().mean().item()))
        m = params.beta1 * m + (1 - params.beta1) * g
        v = params.beta2 * v + (1 - params.beta2) * g * g
        step = params.lr * m / (v.sqrt() + params.eps)
        x_raw = x_raw - step
        raw_steps.append(float(step.abs().mean().item()))
        m_raw_ratio.append(float((m / mean_g).mean().item()))
        m_hat_ratio.append(float((m / (1 - params.beta1**t) / mean_g).mean().item()))
        if t % 50 == 0:
            ctx.progress(t / params.steps, "stepping")

    first_corr = corr_steps[0] / params.lr
    first_raw = raw_steps[0] / params.lr
    predicted = (1 - params.beta1) / (1 - params.beta2) ** 0.5
    off = (
        max(first_raw / first_corr, first_corr / first_raw)
        if first_raw > 0 and first_corr > 0
        else float("inf")
    )
    c1 = abs(first_corr - 1.0) <= 0.05
    c2 = off > 1.5
    k = min(4, params.steps - 1)
    c3 = m_raw_ratio[k] < 0.6 and abs(m_hat_ratio[k] - 1.0) <= 0.2

    xs = [float(i) for i in range(1, params.steps + 1)]
    return DemoResult(
        summary_zh=(
            f"betas=({params.beta1:g}, {params.beta2:g})：有偏差校正时第一步为 {first_corr:.3g} 倍"
            f" lr，无校正时为 {first_raw:.3g} 倍 lr（理论值 {predicted:.3g}）。"
        ),
        summary=(
            f"betas=({params.beta1:g}, {params.beta2:g}): first step is {first_corr:.3g} x lr with "
            f"bias correction and {first_raw:.3g} x lr without (predicted {predicted:.3g})."
        ),
        metrics={
            "first_step_over_lr_corrected": first_corr,
            "first_step_over_lr_uncorrected": first_raw,
            "predicted_uncorrected_ratio": predicted,
            "m_over_mean_at_step5_uncorrected": m_raw_ratio[k],
            "m_hat_over_mean_at_step5": m_hat_ratio[k],
        },
        tables=[
            Table(
                title="Mean step size / lr over the first steps",
                columns=[
                    "step",
                    "with correction",
                    "without correction",
                    "m / mean g (raw)",
                    "m_hat / mean g",
                ],
                rows=[
                    [
                        t + 1,
                        corr_steps[t] / params.lr,
                        raw_steps[t] / params.lr,
                        m_raw_ratio[t],
                        m_hat_ratio[t],
                    ]
                    for t in (0, 1, 2, 4, 9, 49, 199)
                    if t < params.steps
                ],
            )
        ],
        charts=[
            Chart(
                id="step-size",
                title="Mean |update| / lr per step",
                x_label="step",
                y_label="|update| / lr",
                log_y=True,
                series=[
                    Series(
                        name="with bias correction",
                        x=xs,
                        y=[max(s / params.lr, 1e-12) for s in corr_steps],
                    ),
                    Series(
                        name="without bias correction",
                        x=xs,
                        y=[max(s / params.lr, 1e-12) for s in raw_steps],
                    ),
                ],
            )
        ],
        claims=[
            Claim(
                id="corrected-first-step-is-lr",
                text=CLAIMS["corrected-first-step-is-lr"],
                passed=bool(c1),
                values={"first_step_over_lr": first_corr},
            ),
            Claim(
                id="uncorrected-first-step-off",
                text=CLAIMS["uncorrected-first-step-off"],
                passed=bool(c2),
                values={"uncorrected_over_corrected": min(off, 1e12), "predicted": predicted},
            ),
            Claim(
                id="uncorrected-m-biased-to-zero",
                text=CLAIMS["uncorrected-m-biased-to-zero"],
                passed=bool(c3),
                values={"raw_m_over_mean": m_raw_ratio[k], "m_hat_over_mean": m_hat_ratio[k]},
            ),
        ],
    )
