"""Tuning in practice: a learning-rate sweep and the overfit-a-tiny-batch sanity check."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Learning-rate sweep and overfitting a tiny batch"
DESCRIPTION = (
    "Trains the same small MLP on a synthetic regression task once per learning rate on a log "
    "grid, plots final loss against the learning rate, and checks that the model can drive the "
    "loss on a batch of 16 examples to almost zero."
)
CLAIMS = {
    "best-lr-is-interior": (
        "In the configured sweep, the learning rate with the lowest final training loss is neither "
        "the smallest nor the largest one tried (the sweep brackets the optimum)."
    ),
    "too-large-lr-diverges": (
        "At the largest learning rate of the sweep, training diverges: the final loss is above the "
        "initial loss (or not finite)."
    ),
    "too-small-lr-barely-moves": (
        "At the smallest learning rate of the sweep, the loss after the step budget is still "
        "between 80% and 110% of the initial loss: it neither learns nor diverges."
    ),
    "overfits-tiny-batch": (
        "With the configured width and pipeline, the model drives the training loss on a fixed "
        "batch of 16 examples below 2% of its initial value; failing this means a bug or too "
        "little capacity."
    ),
}
TITLE_ZH = "学习率扫描与过拟合一个小批次"
DESCRIPTION_ZH = (
    "在对数网格上对每个学习率训练同一个小 MLP 做合成回归，画出最终损失随学习率的变化，并检查模型"
    "能否把 16 个样本的批次上的损失压到接近零。"
)
CLAIMS_ZH = {
    "best-lr-is-interior": (
        "在所设扫描中，最终训练损失最低的学习率既不是最小的也不是最大的（扫描覆盖了最优值）。"
    ),
    "too-large-lr-diverges": (
        "在扫描中最大的学习率下训练发散：最终损失高于初始损失（或不是有限值）。"
    ),
    "too-small-lr-barely-moves": (
        "在扫描中最小的学习率下，步数用完后的损失仍在初始损失的 80% 到 110% 之间：既没学到东西也"
        "没发散。"
    ),
    "overfits-tiny-batch": (
        "在所设宽度和流程下，模型把固定的 16 个样本上的训练损失压到初始值的 2% 以下；做不到说明有"
        " bug 或容量不足。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "best-lr-is-interior": "a sweep wide enough to bracket the optimum (the defaults: 1e-4 to 10)",
    "too-large-lr-diverges": "log10_lr_max >= 0.5 for sgd (the default 1)",
    "too-small-lr-barely-moves": "log10_lr_min <= -4 (the default)",
    "overfits-tiny-batch": "pipeline correct with hidden >= 8",
}
CLAIM_SHOWN_WHEN_ZH = {
    "best-lr-is-interior": "扫描范围足够宽，能把最优值夹在中间（默认 1e-4 到 10）",
    "too-large-lr-diverges": "sgd 时 log10_lr_max >= 0.5（默认 1）",
    "too-small-lr-barely-moves": "log10_lr_min <= -4（默认）",
    "overfits-tiny-batch": "pipeline 为 correct 且 hidden >= 8",
}
TEXT_ZH = {
    "Optimizer used in the sweep (Adam's default lr is not universal either)": (
        "扫描所用的优化器（Adam 的默认 lr 也不是万能的）"
    ),
    "log10 of the smallest lr tried": "所试最小 lr 的 log10",
    "log10 of the largest lr tried": "所试最大 lr 的 log10",
    "Number of learning rates on the log grid": "对数网格上的学习率个数",
    "Full-batch steps per learning rate": "每个学习率的全批量步数",
    "Width of the MLP's two hidden layers": "MLP 两个隐藏层的宽度",
    "shuffled-targets: a data-loading bug that re-pairs inputs and targets at random every step": (
        "shuffled-targets：一种数据加载 bug，每步随机重新配对输入和标签"
    ),
    "Learning-rate sweep": "学习率扫描",
    "lr": "lr",
    "final loss": "最终损失",
    "final / initial": "最终 / 初始",
    "diverged": "是否发散",
    "log10 learning rate": "学习率的 log10",
    "final loss (capped at 1e6)": "最终损失（上限 1e6）",
    "Training curves at a few learning rates": "几个学习率下的训练曲线",
    "step": "步数",
    "training loss": "训练损失",
    "initial loss": "初始损失",
    "loss on the 16 examples": "16 个样本上的损失",
}


class Params(BaseModel):
    optimizer: Literal["sgd", "adam"] = Field(
        "sgd", description="Optimizer used in the sweep (Adam's default lr is not universal either)"
    )
    log10_lr_min: float = Field(-4.0, ge=-6.0, le=1.0, description="log10 of the smallest lr tried")
    log10_lr_max: float = Field(1.0, ge=-5.0, le=2.0, description="log10 of the largest lr tried")
    n_lrs: int = Field(11, ge=3, le=15, description="Number of learning rates on the log grid")
    steps: int = Field(100, ge=10, le=200, description="Full-batch steps per learning rate")
    hidden: int = Field(32, ge=1, le=128, description="Width of the MLP's two hidden layers")
    pipeline: Literal["correct", "shuffled-targets"] = Field(
        "correct",
        description=(
            "shuffled-targets: a data-loading bug that re-pairs inputs and targets at random "
            "every step"
        ),
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    gen = torch.Generator().manual_seed(ctx.seed)
    d_in, n = 8, 128

    # Teacher: a random tanh network; targets standardised so the initial loss is about 1.
    x = torch.randn(n, d_in, generator=gen)
    w1 = torch.randn(d_in, 32, generator=gen) / d_in**0.5
    w2 = torch.randn(32, 1, generator=gen) / 32**0.5
    y = torch.tanh(x @ w1) @ w2 + 0.05 * torch.randn(n, 1, generator=gen)
    y = (y - y.mean()) / y.std()
    x, y = x.to(device), y.to(device)

    def make_model(width: int, seed: int) -> nn.Module:
        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Linear(d_in, width),
            nn.ReLU(),
            nn.Linear(width, width),
            nn.ReLU(),
            nn.Linear(width, 1),
        ).to(device)

    def make_opt(model: nn.Module, lr: float) -> torch.optim.Optimizer:
        if params.optimizer == "adam":
            return torch.optim.Adam(model.parameters(), lr=lr)
        return torch.optim.SGD(model.parameters(), lr=lr)

    cap = 1e6

    def train(lr: float) -> tuple[float, float, list[float]]:
        model = make_model(params.hidden, ctx.seed + 1)
        opt = make_opt(model, lr)
        with torch.no_grad():
            initial = float(nn.functional.mse_loss(model(x), y).item())
        curve = []
        for _ in range(params.steps):
            loss = nn.functional.mse_loss(model(x), y)
            value = float(loss.item())
            if not (value < cap):  # also catches NaN
                curve.append(cap)
                break
            curve.append(value)
            opt.zero_grad()
            loss.backward()
            opt.step()
        else:
            with torch.no_grad():
                value = float(nn.functional.mse_loss(model(x), y).item())
            curve.append(value if value < cap else cap)
        return initial, curve[-1], curve

    lo, hi = params.log10_lr_min, max(params.log10_lr_max, params.log10_lr_min)
    lrs = [10 ** (lo + (hi - lo) * i / (params.n_lrs - 1)) for i in range(params.n_lrs)]
    finals, curves = [], []
    initial = 1.0
    for i, lr in enumerate(lrs):
        initial, final, curve = train(lr)
        finals.append(final)
        curves.append(curve)
        ctx.progress(0.8 * (i + 1) / len(lrs), f"lr = {lr:.3g}")
    best = min(range(len(lrs)), key=lambda i: finals[i])
    c1 = 0 < best < len(lrs) - 1
    c2 = finals[-1] > initial
    c3 = 0.8 * initial < finals[0] < 1.1 * initial

    ctx.progress(0.85, "overfitting 16 examples")
    xb, yb = x[:16], y[:16]
    model = make_model(params.hidden, ctx.seed + 2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    tiny_curve = []
    for _ in range(200):
        target = yb[torch.randperm(16, generator=gen)] if params.pipeline != "correct" else yb
        loss = nn.functional.mse_loss(model(xb), target)
        tiny_curve.append(float(loss.item()))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        tiny_final = float(nn.functional.mse_loss(model(xb), yb).item())
    tiny_initial = tiny_curve[0]
    tiny_ratio = tiny_final / tiny_initial if tiny_initial > 0 else 1.0
    c4 = tiny_ratio < 0.02

    def pos(v: float) -> float:
        return min(max(v, 1e-8), cap)

    show = sorted({0, best, len(lrs) - 1, len(lrs) // 2})
    charts = [
        Chart(
            id="loss-vs-lr",
            title=f"Final training loss after {params.steps} steps ({params.optimizer})",
            x_label="log10 learning rate",
            y_label="final loss (capped at 1e6)",
            log_y=True,
            series=[
                Series(
                    name="final loss",
                    x=[lo + (hi - lo) * i / (params.n_lrs - 1) for i in range(params.n_lrs)],
                    y=[pos(v) for v in finals],
                ),
                Series(name="initial loss", x=[lo, hi], y=[pos(initial), pos(initial)]),
            ],
        ),
        Chart(
            id="curves",
            title="Training curves at a few learning rates",
            x_label="step",
            y_label="training loss",
            log_y=True,
            series=[
                Series(
                    name=f"lr = {lrs[i]:.3g}",
                    x=[float(t) for t in range(len(curves[i]))],
                    y=[pos(v) for v in curves[i]],
                )
                for i in show
            ],
        ),
        Chart(
            id="tiny-batch",
            title=f"Overfitting 16 examples (width {params.hidden}, {params.pipeline} pipeline)",
            x_label="step",
            y_label="training loss",
            log_y=True,
            series=[
                Series(
                    name="loss on the 16 examples",
                    x=[float(t) for t in range(len(tiny_curve))],
                    y=[pos(v) for v in tiny_curve],
                )
            ],
        ),
    ]
    table = Table(
        title="Learning-rate sweep",
        columns=["lr", "final loss", "final / initial", "diverged"],
        rows=[
            [lrs[i], pos(finals[i]), pos(finals[i]) / initial, finals[i] > initial]
            for i in range(len(lrs))
        ],
    )
    return DemoResult(
        summary_zh=(
            f"{params.optimizer}：扫描中最好的 lr 为 {lrs[best]:.3g}（损失从 {initial:.3g} 降到 "
            f"{finals[best]:.3g}）；最大的 lr {lrs[-1]:.3g} 最终损失为 {pos(finals[-1]):.3g}；16 "
            f"个样本的小批次被拟合到初始损失的 {100 * tiny_ratio:.2g}%。"
        ),
        summary=(
            f"{params.optimizer}: best lr in the sweep {lrs[best]:.3g} (final loss "
            f"{finals[best]:.3g} from {initial:.3g}); largest lr {lrs[-1]:.3g} ends at "
            f"{pos(finals[-1]):.3g}; the 16-example batch is fitted to {100 * tiny_ratio:.2g}% of "
            f"its initial loss."
        ),
        metrics={
            "best_lr": lrs[best],
            "best_final_loss": pos(finals[best]),
            "initial_loss": initial,
            "smallest_lr_final_loss": pos(finals[0]),
            "largest_lr_final_loss": pos(finals[-1]),
            "tiny_batch_final_over_initial": tiny_ratio,
        },
        tables=[table],
        charts=charts,
        claims=[
            Claim(
                id="best-lr-is-interior",
                text=CLAIMS["best-lr-is-interior"],
                passed=bool(c1),
                values={"best_lr": lrs[best], "lr_min": lrs[0], "lr_max": lrs[-1]},
            ),
            Claim(
                id="too-large-lr-diverges",
                text=CLAIMS["too-large-lr-diverges"],
                passed=bool(c2),
                values={"lr": lrs[-1], "final_loss": pos(finals[-1]), "initial_loss": initial},
            ),
            Claim(
                id="too-small-lr-barely-moves",
                text=CLAIMS["too-small-lr-barely-moves"],
                passed=bool(c3),
                values={"lr": lrs[0], "final_over_initial": pos(finals[0]) / initial},
            ),
            Claim(
                id="overfits-tiny-batch",
                text=CLAIMS["overfits-tiny-batch"],
                passed=bool(c4),
                values={
                    "final_over_initial": tiny_ratio,
                    "hidden": params.hidden,
                    "pipeline": params.pipeline,
                },
            ),
        ],
    )
