"""RMSprop against plain SGD on a quadratic whose coordinates have very different scales."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "RMSprop: per-parameter step sizes"
DESCRIPTION = (
    "Minimises f(x) = 0.5 * (x1^2 + x2^2 / scale_ratio) with torch.optim.SGD at its largest "
    "sensible learning rate and with torch.optim.RMSprop, and compares their per-coordinate steps."
)
CLAIMS = {
    "rmsprop-balances-steps": (
        "After 20 steps, RMSprop's steps on the two coordinates are within 3x of each other even "
        "though their gradients differ by the configured scale ratio, because each step is divided "
        "by a running RMS of that coordinate's own gradient."
    ),
    "rmsprop-beats-sgd-badly-scaled": (
        "After the step budget RMSprop's loss is lower than plain SGD's at lr = 1 / (largest "
        "curvature), which crawls along the low-curvature coordinate."
    ),
    "rmsprop-early-steps-inflated": (
        "Because PyTorch's RMSprop starts its square average at zero and has no bias correction, "
        "its first step is lr / sqrt(1 - alpha) per coordinate, more than 3x the lr."
    ),
}
TITLE_ZH = "RMSprop：逐参数的步长"
DESCRIPTION_ZH = (
    "用最大合理学习率的 torch.optim.SGD 和 torch.optim.RMSprop 最小化 f(x) = 0.5 * (x1^2 + x2^2 /"
    " scale_ratio)，比较两个坐标上的步长。"
)
CLAIMS_ZH = {
    "rmsprop-balances-steps": (
        "20 步后，RMSprop 在两个坐标上的步长相差不超过 3 倍，尽管梯度相差所设的尺度比，因为每一步"
        "都除以该坐标自身梯度的滑动 RMS。"
    ),
    "rmsprop-beats-sgd-badly-scaled": (
        "步数用完后，RMSprop 的损失低于 lr = 1 / (最大曲率) 的普通 SGD，后者在低曲率坐标上爬行。"
    ),
    "rmsprop-early-steps-inflated": (
        "由于 PyTorch 的 RMSprop 的平方平均从零开始且没有偏差修正，它的第一步在每个坐标上是 lr / "
        "sqrt(1 - alpha)，超过 lr 的 3 倍。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "rmsprop-balances-steps": (
        "eps small next to the gradients (eps <= 1e-4, the default 1e-8) and alpha >= 0.9"
    ),
    "rmsprop-beats-sgd-badly-scaled": (
        "scale_ratio >= 100 (the default 1000): SGD then crawls along the flat coordinate"
    ),
    "rmsprop-early-steps-inflated": "alpha >= 0.9 (1 / sqrt(1 - alpha) > 3) and a small eps",
}
CLAIM_SHOWN_WHEN_ZH = {
    "rmsprop-balances-steps": "eps 相对梯度很小（eps <= 1e-4，默认 1e-8）且 alpha >= 0.9",
    "rmsprop-beats-sgd-badly-scaled": (
        "scale_ratio >= 100（默认 1000）：此时 SGD 在平坦坐标上几乎不动"
    ),
    "rmsprop-early-steps-inflated": "alpha >= 0.9（1 / sqrt(1 - alpha) > 3）且 eps 很小",
}
TEXT_ZH = {
    "Curvature ratio between the two coordinates": "两个坐标之间的曲率比",
    "RMSprop learning rate": "RMSprop 学习率",
    "RMSprop smoothing constant for the squared-gradient average": (
        "RMSprop 梯度平方滑动平均的平滑系数"
    ),
    "RMSprop epsilon added to the denominator": "RMSprop 分母中加的 epsilon",
    "Step budget": "步数上限",
    "Size of each optimizer's step per coordinate": "各优化器在每个坐标上的步长",
    "step": "步数",
    "SGD |dx1|": "SGD |dx1|",
    "SGD |dx2|": "SGD |dx2|",
    "RMSprop |dx1|": "RMSprop |dx1|",
    "RMSprop |dx2|": "RMSprop |dx2|",
    "Loss against step": "损失随步数的变化",
    "loss": "损失",
    "SGD lr=1/L": "SGD lr=1/L",
}


class Params(BaseModel):
    scale_ratio: float = Field(
        1000.0, ge=1.0, le=1e6, description="Curvature ratio between the two coordinates"
    )
    lr: float = Field(0.01, ge=1e-4, le=0.5, description="RMSprop learning rate")
    alpha: float = Field(
        0.99,
        ge=0.0,
        le=0.999,
        description="RMSprop smoothing constant for the squared-gradient average",
    )
    eps: float = Field(
        1e-8, ge=1e-10, le=1.0, description="RMSprop epsilon added to the denominator"
    )
    steps: int = Field(300, ge=20, le=3000, description="Step budget")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    curv = torch.tensor([1.0, 1.0 / params.scale_ratio], dtype=torch.float64, device=device)
    start = torch.tensor([1.0, 1.0], dtype=torch.float64, device=device)

    def f(x: torch.Tensor) -> float:
        return float((0.5 * (curv * x * x).sum()).item())

    def optimise(kind: str) -> tuple[list[float], list[list[float]]]:
        x = start.clone()
        opt: torch.optim.Optimizer
        if kind == "sgd":
            opt = torch.optim.SGD([x], lr=1.0 / float(curv.max().item()))
        else:
            opt = torch.optim.RMSprop([x], lr=params.lr, alpha=params.alpha, eps=params.eps)
        losses, steps = [f(x)], []
        for _ in range(params.steps):
            before = x.detach().clone()
            x.grad = curv * x  # exact gradient of f
            opt.step()
            steps.append([float(v) for v in (x.detach() - before).abs().tolist()])
            losses.append(max(f(x), 1e-30))
        return losses, steps

    ctx.progress(0.3, "SGD")
    sgd_losses, sgd_steps = optimise("sgd")
    ctx.progress(0.6, "RMSprop")
    rms_losses, rms_steps = optimise("rmsprop")

    k = 19  # the 20th step
    rms_ratio = max(rms_steps[k]) / max(min(rms_steps[k]), 1e-300)
    sgd_ratio = max(sgd_steps[0]) / max(min(sgd_steps[0]), 1e-300)
    c1 = rms_ratio < 3.0
    c2 = rms_losses[-1] < sgd_losses[-1]
    first = max(rms_steps[0]) / params.lr
    c3 = first > 3.0

    xs = [float(i) for i in range(params.steps + 1)]
    stride = max(1, params.steps // 300)
    idx = list(range(0, params.steps + 1, stride))
    return DemoResult(
        summary_zh=(
            f"曲率比 {params.scale_ratio:g}：{params.steps} 步后 SGD（lr=1）的损失为 "
            f"{sgd_losses[-1]:.3g}，RMSprop（lr={params.lr:g}）的损失为 {rms_losses[-1]:.3g}。第 2"
            f"0 步时 RMSprop 两个坐标的步长比为 {rms_ratio:.3g}（SGD 为 {sgd_ratio:.3g}）。"
        ),
        summary=(
            f"Curvature ratio {params.scale_ratio:g}: after {params.steps} steps SGD (lr=1) loss "
            f"{sgd_losses[-1]:.3g}, RMSprop (lr={params.lr:g}) loss {rms_losses[-1]:.3g}. "
            f"RMSprop's step ratio at step 20 is {rms_ratio:.3g} (SGD's is {sgd_ratio:.3g})."
        ),
        metrics={
            "sgd_final_loss": sgd_losses[-1],
            "rmsprop_final_loss": rms_losses[-1],
            "rmsprop_step_ratio_at_20": min(rms_ratio, 1e12),
            "sgd_step_ratio": min(sgd_ratio, 1e12),
            "rmsprop_first_step_over_lr": first,
        },
        tables=[
            Table(
                title="Size of each optimizer's step per coordinate",
                columns=["step", "SGD |dx1|", "SGD |dx2|", "RMSprop |dx1|", "RMSprop |dx2|"],
                rows=[
                    [i + 1, *sgd_steps[i], *rms_steps[i]] for i in (0, 1, 4, 19) if i < params.steps
                ],
            )
        ],
        charts=[
            Chart(
                id="loss",
                title="Loss against step",
                x_label="step",
                y_label="loss",
                log_y=True,
                series=[
                    Series(
                        name="SGD lr=1/L", x=[xs[i] for i in idx], y=[sgd_losses[i] for i in idx]
                    ),
                    Series(
                        name=f"RMSprop lr={params.lr:g}",
                        x=[xs[i] for i in idx],
                        y=[rms_losses[i] for i in idx],
                    ),
                ],
            )
        ],
        claims=[
            Claim(
                id="rmsprop-balances-steps",
                text=CLAIMS["rmsprop-balances-steps"],
                passed=bool(c1),
                values={
                    "rmsprop_step_ratio": min(rms_ratio, 1e12),
                    "sgd_step_ratio": min(sgd_ratio, 1e12),
                },
            ),
            Claim(
                id="rmsprop-beats-sgd-badly-scaled",
                text=CLAIMS["rmsprop-beats-sgd-badly-scaled"],
                passed=bool(c2),
                values={"rmsprop_final_loss": rms_losses[-1], "sgd_final_loss": sgd_losses[-1]},
            ),
            Claim(
                id="rmsprop-early-steps-inflated",
                text=CLAIMS["rmsprop-early-steps-inflated"],
                passed=bool(c3),
                values={
                    "first_step_over_lr": first,
                    "predicted": 1.0 / (1.0 - params.alpha) ** 0.5,
                },
            ),
        ],
    )
