"""Learning-rate schedules on a noisy quadratic: decaying the rate lowers the noise floor."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "LR schedules: constant vs step vs cosine vs one-cycle"
TITLE_ZH = "学习率调度：常数、阶梯、余弦与 one-cycle"
DESCRIPTION = (
    "Runs SGD with noisy gradients on a quadratic under four schedules with the same peak "
    "rate (constant, step decay, cosine decay to a floor, one-cycle), and checks the cosine "
    "formula against PyTorch's CosineAnnealingLR."
)
DESCRIPTION_ZH = (
    "在二次函数上用带噪声梯度的 SGD，以相同的峰值学习率跑四种调度（常数、阶梯衰减、余弦衰减到下限、"
    "one-cycle），并用 PyTorch 的 CosineAnnealingLR 核对余弦公式。"
)
CLAIMS = {
    "decay-lowers-final-loss": (
        "Cosine decay to the configured floor ends at under half the final loss of the constant "
        "rate: SGD's noise floor is proportional to the learning rate."
    ),
    "cosine-formula-matches-pytorch": (
        "lr_t = lr_min + (lr_max - lr_min)(1 + cos(pi t / T)) / 2 matches "
        "torch.optim.lr_scheduler.CosineAnnealingLR at every step (to 1e-9)."
    ),
}
CLAIMS_ZH = {
    "decay-lowers-final-loss": (
        "余弦衰减到设定下限时，最终 loss 不到常数学习率的一半：SGD 的噪声底与学习率成正比。"
    ),
    "cosine-formula-matches-pytorch": (
        "lr_t = lr_min + (lr_max - lr_min)(1 + cos(pi t / T)) / 2 在每一步都与 "
        "torch.optim.lr_scheduler.CosineAnnealingLR 一致（误差 1e-9 以内）。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "decay-lowers-final-loss": "floor ratio <= 0.2",
    "cosine-formula-matches-pytorch": "any setting",
}
CLAIM_SHOWN_WHEN_ZH = {
    "decay-lowers-final-loss": "下限比例 <= 0.2",
    "cosine-formula-matches-pytorch": "任意设置",
}
TEXT_ZH = {
    "Learning rate by schedule": "各调度的学习率",
    "Loss by schedule": "各调度的 loss",
    "step": "步数",
    "learning rate": "学习率",
    "loss": "loss",
    "constant": "常数",
    "step decay": "阶梯衰减",
    "cosine": "余弦",
    "one-cycle": "one-cycle",
    "Final loss (mean of the last 20 steps)": "最终 loss（最后 20 步的平均）",
    "schedule": "调度",
    "final loss": "最终 loss",
    "Peak learning rate": "峰值学习率",
    "Final learning rate as a fraction of the peak (cosine floor)": (
        "最终学习率占峰值的比例（余弦下限）"
    ),
    "Steps": "步数",
}


class Params(BaseModel):
    lr: float = Field(0.1, ge=0.001, le=0.5, description="Peak learning rate")
    floor_ratio: float = Field(
        0.01,
        ge=0.0,
        le=1.0,
        description="Final learning rate as a fraction of the peak (cosine floor)",
    )
    steps: int = Field(400, ge=50, le=2000, description="Steps")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import math

    import torch

    torch.manual_seed(ctx.seed)
    t_max, peak, floor = params.steps, params.lr, params.lr * params.floor_ratio
    dim = 256
    curvature = torch.linspace(0.5, 2.0, dim).to(ctx.device)
    noise = [torch.randn(dim).to(ctx.device) for _ in range(t_max)]
    start = torch.randn(dim).to(ctx.device) * 3

    def cosine(t: int) -> float:
        return floor + (peak - floor) * (1 + math.cos(math.pi * t / t_max)) / 2

    def one_cycle(t: int) -> float:
        up = int(0.3 * t_max)
        if t < up:
            return peak / 25 + (peak - peak / 25) * t / up
        frac = (t - up) / max(t_max - up, 1)
        return floor + (peak - floor) * (1 + math.cos(math.pi * frac)) / 2

    schedules = {
        "constant": lambda t: peak,
        "step decay": lambda t: peak * 0.1 ** (t // (t_max // 3)),
        "cosine": cosine,
        "one-cycle": one_cycle,
    }
    lrs: dict[str, list[float]] = {}
    losses: dict[str, list[float]] = {}
    for name, sched in schedules.items():
        w = start.clone()
        lrs[name], losses[name] = [], []
        for t in range(t_max):
            lr = sched(t)
            grad = curvature * w + noise[t]  # gradient of sum(c w^2 / 2) plus unit noise
            w = w - lr * grad
            lrs[name].append(lr)
            losses[name].append(float((0.5 * curvature * w * w).sum()))
    final = {k: sum(v[-20:]) / 20 for k, v in losses.items()}

    # PyTorch's scheduler, stepped the same number of times.
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=peak)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t_max, eta_min=floor)
    torch_lrs = []
    for _ in range(t_max):
        torch_lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    cos_err = max(abs(a - b) for a, b in zip(torch_lrs, lrs["cosine"], strict=True))

    claims = [
        Claim(
            id="decay-lowers-final-loss",
            text=CLAIMS["decay-lowers-final-loss"],
            passed=final["cosine"] < 0.5 * final["constant"],
            values={"final_cosine": final["cosine"], "final_constant": final["constant"]},
        ),
        Claim(
            id="cosine-formula-matches-pytorch",
            text=CLAIMS["cosine-formula-matches-pytorch"],
            passed=cos_err < 1e-9,
            values={"max_abs_difference": cos_err},
        ),
    ]
    xs = list(range(1, t_max + 1))
    charts = [
        Chart(
            id="lr",
            title="Learning rate by schedule",
            x_label="step",
            y_label="learning rate",
            series=[Series(name=k, x=xs, y=v) for k, v in lrs.items()],
        ),
        Chart(
            id="loss",
            title="Loss by schedule",
            x_label="step",
            y_label="loss",
            log_y=True,
            series=[Series(name=k, x=xs, y=[max(x, 1e-12) for x in v]) for k, v in losses.items()],
        ),
    ]
    table = Table(
        title="Final loss (mean of the last 20 steps)",
        columns=["schedule", "final loss"],
        rows=[[k, v] for k, v in final.items()],
    )
    return DemoResult(
        summary=(
            "Final loss: "
            + ", ".join(f"{k} {v:.2f}" for k, v in final.items())
            + f"; cosine formula vs PyTorch differs by {cos_err:.1e}."
        ),
        summary_zh=(
            "最终 loss："
            + "，".join(f"{TEXT_ZH[k]} {v:.2f}" for k, v in final.items())
            + f"；余弦公式与 PyTorch 相差 {cos_err:.1e}。"
        ),
        metrics={f"final_loss_{k.replace(' ', '_')}": v for k, v in final.items()},
        tables=[table],
        charts=charts,
        claims=claims,
    )
