"""Label smoothing bounds the logit gap; hard labels let it grow without limit."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Label smoothing bounds the logit gap"
TITLE_ZH = "标签平滑限制了 logit 差距"
DESCRIPTION = (
    "Fits free logits for a batch of examples by gradient descent on cross-entropy, with hard "
    "one-hot targets and with label-smoothed targets, and tracks the gap between the true "
    "class's logit and the others'."
)
DESCRIPTION_ZH = (
    "对一批样本直接用梯度下降优化 logits 的交叉熵，分别用 one-hot 硬标签和平滑后的标签，"
    "跟踪正确类别的 logit 与其他类别 logit 的差距。"
)
CLAIMS = {
    "smoothed-gap-converges-to-bound": (
        "With smoothing epsilon, the logit gap converges to log(1 + K(1 - epsilon)/epsilon) "
        "(within 2%)."
    ),
    "hard-labels-gap-keeps-growing": (
        "With hard labels, the gap is still growing at the end and exceeds the smoothed run's "
        "gap: the loss is only minimised at infinite logits."
    ),
}
CLAIMS_ZH = {
    "smoothed-gap-converges-to-bound": (
        "平滑系数为 epsilon 时，logit 差距收敛到 log(1 + K(1 - epsilon)/epsilon)（误差 2% 以内）。"
    ),
    "hard-labels-gap-keeps-growing": (
        "硬标签时，差距到最后仍在增长并超过平滑时的差距：只有 logit 无穷大时 loss 才最小。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "smoothed-gap-converges-to-bound": "epsilon > 0",
    "hard-labels-gap-keeps-growing": "any setting",
}
CLAIM_SHOWN_WHEN_ZH = {
    "smoothed-gap-converges-to-bound": "epsilon > 0",
    "hard-labels-gap-keeps-growing": "任意设置",
}
TEXT_ZH = {
    "Logit gap (true class minus others)": "logit 差距（正确类别减其他类别）",
    "step": "步数",
    "logit gap": "logit 差距",
    "hard labels": "硬标签",
    "label smoothing": "标签平滑",
    "bound": "上界",
    "Final gap": "最终差距",
    "run": "运行方式",
    "gap": "差距",
    "Smoothing epsilon": "平滑系数 epsilon",
    "Number of classes K": "类别数 K",
}


class Params(BaseModel):
    epsilon: float = Field(0.1, ge=0.0, le=0.5, description="Smoothing epsilon")
    classes: int = Field(10, ge=2, le=100, description="Number of classes K")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import math

    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    k, eps, n, steps = params.classes, params.epsilon, 64, 300
    labels = torch.randint(0, k, (n,)).to(ctx.device)
    start = (0.1 * torch.randn(n, k)).to(ctx.device)

    def fit(smoothing: float) -> list[float]:
        z = start.clone().requires_grad_(True)
        opt = torch.optim.SGD([z], lr=float(k))
        gaps = []
        for _ in range(steps):
            loss = nn.functional.cross_entropy(z, labels, label_smoothing=smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                true = z.gather(1, labels[:, None]).squeeze(1)
                others = (z.sum(1) - true) / (k - 1)
                gaps.append(float((true - others).mean()))
        return gaps

    hard = fit(0.0)
    soft = fit(eps)
    bound = math.log(1 + k * (1 - eps) / eps) if eps > 0 else float("inf")
    soft_ok = eps > 0 and abs(soft[-1] - bound) / bound < 0.02
    growing = hard[-1] > hard[len(hard) // 2] + 0.1 and hard[-1] > soft[-1]

    claims = [
        Claim(
            id="smoothed-gap-converges-to-bound",
            text=CLAIMS["smoothed-gap-converges-to-bound"],
            passed=soft_ok,
            values={"gap": soft[-1], "bound": min(bound, 1e30)},
        ),
        Claim(
            id="hard-labels-gap-keeps-growing",
            text=CLAIMS["hard-labels-gap-keeps-growing"],
            passed=growing,
            values={"gap_half_way": hard[len(hard) // 2], "gap_end": hard[-1]},
        ),
    ]
    xs = list(range(1, steps + 1))
    series = [
        Series(name="hard labels", x=xs, y=hard),
        Series(name="label smoothing", x=xs, y=soft),
    ]
    if eps > 0:
        series.append(Series(name="bound", x=[1, steps], y=[bound, bound]))
    chart = Chart(
        id="gap",
        title="Logit gap (true class minus others)",
        x_label="step",
        y_label="logit gap",
        series=series,
    )
    table = Table(
        title="Final gap",
        columns=["run", "gap"],
        rows=[
            ["hard labels", hard[-1]],
            ["label smoothing", soft[-1]],
            ["bound", min(bound, 1e30)],
        ],
    )
    return DemoResult(
        summary=(
            f"K = {k}, epsilon = {eps:g}: smoothed gap {soft[-1]:.3f} (bound {bound:.3f}); hard "
            f"labels {hard[-1]:.2f} and still growing."
        ),
        summary_zh=(
            f"K = {k}，epsilon = {eps:g}：平滑后差距 {soft[-1]:.3f}（上界 {bound:.3f}）；"
            f"硬标签 {hard[-1]:.2f}，仍在增长。"
        ),
        metrics={"gap_smoothed": soft[-1], "gap_hard": hard[-1], "bound": min(bound, 1e30)},
        tables=[table],
        charts=[chart],
        claims=claims,
    )
