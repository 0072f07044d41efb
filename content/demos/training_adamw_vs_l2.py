"""Adam + L2 penalty vs AdamW's decoupled weight decay, on coordinates with different gradient sca"
"les."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "AdamW vs Adam + L2: who gets decayed"
TITLE_ZH = "AdamW 与 Adam + L2：谁被衰减了"
DESCRIPTION = (
    "Weights start at 1 and receive pure noise gradients (no signal), some coordinates with "
    "large noise and some with small. Adam with an L2 term in the gradient and AdamW with "
    "decoupled decay run with the same learning rate and decay coefficient; the demo compares "
    "how much of each group's weight survives."
)
DESCRIPTION_ZH = (
    "权重初始为 1，只接收纯噪声梯度（没有信号），一部分坐标噪声大、一部分噪声小。"
    "把 L2 项加进梯度的 Adam 和解耦权重衰减的 AdamW 用相同的学习率和衰减系数训练，"
    "比较每组权重各剩下多少。"
)
CLAIMS = {
    "l2-in-adam-spares-large-gradient-weights": (
        "With Adam + L2, the weights with large gradient noise keep at least 3x more of their "
        "magnitude than the weights with small noise: the penalty is divided by sqrt(v)."
    ),
    "adamw-decays-uniformly": (
        "With AdamW, both groups end within 25% of each other and near (1 - lr * wd)^T, "
        "whatever their gradient scale."
    ),
}
CLAIMS_ZH = {
    "l2-in-adam-spares-large-gradient-weights": (
        "Adam + L2 时，梯度噪声大的权重保留的幅度至少是噪声小的 3 倍：惩罚项被 sqrt(v) 除掉了。"
    ),
    "adamw-decays-uniformly": (
        "AdamW 时，两组最终相差不到 25%，都接近 (1 - lr * wd)^T，与梯度尺度无关。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "l2-in-adam-spares-large-gradient-weights": "noise ratio >= 10",
    "adamw-decays-uniformly": "any noise ratio",
}
CLAIM_SHOWN_WHEN_ZH = {
    "l2-in-adam-spares-large-gradient-weights": "噪声比 >= 10",
    "adamw-decays-uniformly": "任意噪声比",
}
TEXT_ZH = {
    "Mean |w| over training": "训练过程中的平均 |w|",
    "step": "步数",
    "mean |w|": "平均 |w|",
    "Adam + L2, large-noise weights": "Adam + L2，大噪声权重",
    "Adam + L2, small-noise weights": "Adam + L2，小噪声权重",
    "AdamW, large-noise weights": "AdamW，大噪声权重",
    "AdamW, small-noise weights": "AdamW，小噪声权重",
    "Final mean |w|": "最终平均 |w|",
    "optimizer": "优化器",
    "large-noise weights": "大噪声权重",
    "small-noise weights": "小噪声权重",
    "ratio large / small": "比值 大 / 小",
    "Ratio of gradient noise between the two groups": "两组梯度噪声之比",
    "Weight decay coefficient": "权重衰减系数",
    "Steps": "步数",
}


class Params(BaseModel):
    noise_ratio: float = Field(
        100.0, ge=1.0, le=1000.0, description="Ratio of gradient noise between the two groups"
    )
    weight_decay: float = Field(0.1, ge=0.0, le=1.0, description="Weight decay coefficient")
    steps: int = Field(300, ge=50, le=2000, description="Steps")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    n, lr, wd = 256, 1e-2, params.weight_decay
    scale = torch.ones(2 * n)
    scale[:n] = params.noise_ratio * 0.01  # large-noise group
    scale[n:] = 0.01
    noise = [torch.randn(2 * n) * scale for _ in range(params.steps)]

    def train(decoupled: bool) -> tuple[list[float], list[float]]:
        w = torch.ones(2 * n, requires_grad=True)
        if decoupled:
            opt = torch.optim.AdamW([w], lr=lr, weight_decay=wd)
        else:
            opt = torch.optim.Adam([w], lr=lr, weight_decay=wd)  # adds wd * w to the gradient
        big, small = [], []
        for g in noise:
            w.grad = g.clone()
            opt.step()
            big.append(float(w.detach()[:n].abs().mean()))
            small.append(float(w.detach()[n:].abs().mean()))
        return big, small

    ctx.progress(0.3, "Adam + L2")
    l2_big, l2_small = train(False)
    ctx.progress(0.6, "AdamW")
    aw_big, aw_small = train(True)
    l2_ratio = l2_big[-1] / max(l2_small[-1], 1e-12)
    aw_ratio = aw_big[-1] / max(aw_small[-1], 1e-12)
    expected = (1 - lr * wd) ** params.steps
    aw_near = all(abs(v - expected) / expected < 0.5 for v in (aw_big[-1], aw_small[-1]))

    claims = [
        Claim(
            id="l2-in-adam-spares-large-gradient-weights",
            text=CLAIMS["l2-in-adam-spares-large-gradient-weights"],
            passed=l2_ratio >= 3.0,
            values={"ratio_large_over_small": l2_ratio},
        ),
        Claim(
            id="adamw-decays-uniformly",
            text=CLAIMS["adamw-decays-uniformly"],
            passed=abs(aw_ratio - 1) <= 0.25 and aw_near,
            values={"ratio_large_over_small": aw_ratio, "expected_decay": expected},
        ),
    ]
    steps = list(range(1, params.steps + 1))
    chart = Chart(
        id="weight-magnitude",
        title="Mean |w| over training",
        x_label="step",
        y_label="mean |w|",
        series=[
            Series(name="Adam + L2, large-noise weights", x=steps, y=l2_big),
            Series(name="Adam + L2, small-noise weights", x=steps, y=l2_small),
            Series(name="AdamW, large-noise weights", x=steps, y=aw_big),
            Series(name="AdamW, small-noise weights", x=steps, y=aw_small),
        ],
    )
    table = Table(
        title="Final mean |w|",
        columns=["optimizer", "large-noise weights", "small-noise weights", "ratio large / small"],
        rows=[
            ["Adam + L2", l2_big[-1], l2_small[-1], l2_ratio],
            ["AdamW", aw_big[-1], aw_small[-1], aw_ratio],
        ],
    )
    return DemoResult(
        summary=(
            f"After {params.steps} steps, Adam + L2 leaves the large-noise weights {l2_ratio:.1f}x "
            f"larger than the small-noise ones; AdamW {aw_ratio:.2f}x (pure decay: "
            f"{expected:.3f})."
        ),
        summary_zh=(
            f"{params.steps} 步之后，Adam + L2 下大噪声权重是小噪声权重的 {l2_ratio:.1f} 倍；"
            f"AdamW 下是 {aw_ratio:.2f} 倍（纯衰减：{expected:.3f}）。"
        ),
        metrics={
            "adam_l2_ratio": l2_ratio,
            "adamw_ratio": aw_ratio,
            "adam_l2_small_noise_final": l2_small[-1],
            "adamw_small_noise_final": aw_small[-1],
            "pure_decay": expected,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
