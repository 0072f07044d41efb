"""model.train() / model.eval() vs torch.no_grad(): two separate switches."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "train() / eval() vs no_grad(): what each switch changes"
TITLE_ZH = "train() / eval() 与 no_grad()：各自改变了什么"
DESCRIPTION = (
    "Runs a model with Dropout and BatchNorm under the four combinations of train/eval mode and "
    "grad/no_grad, and records whether repeated outputs agree, whether the output tracks "
    "gradients, and whether BatchNorm's running statistics move."
)
DESCRIPTION_ZH = (
    "对一个带 Dropout 和 BatchNorm 的模型，在 train/eval 模式与 grad/no_grad 的四种组合下运行，"
    "记录重复输出是否一致、输出是否跟踪梯度、BatchNorm 的 running 统计量是否变化。"
)
CLAIMS = {
    "no-grad-keeps-dropout-active": (
        "In train mode under no_grad, two forward passes on the same input differ: no_grad does "
        "not switch off Dropout."
    ),
    "no-grad-still-updates-running-stats": (
        "In train mode under no_grad, BatchNorm's running mean still changes."
    ),
    "eval-is-deterministic-but-tracks-gradients": (
        "In eval mode, two forward passes agree exactly and, without no_grad, the output still "
        "requires grad: eval() does not stop autograd."
    ),
}
CLAIMS_ZH = {
    "no-grad-keeps-dropout-active": (
        "train 模式下即使在 no_grad 中，同一输入两次前向的结果也不同：no_grad 不会关闭 Dropout。"
    ),
    "no-grad-still-updates-running-stats": (
        "train 模式下即使在 no_grad 中，BatchNorm 的 running mean 仍会改变。"
    ),
    "eval-is-deterministic-but-tracks-gradients": (
        "eval 模式下两次前向结果完全一致；不加 no_grad 时输出仍然 requires grad：eval() 不会停止 a"
        "utograd。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "no-grad-keeps-dropout-active": "dropout > 0",
    "no-grad-still-updates-running-stats": "any setting",
    "eval-is-deterministic-but-tracks-gradients": "any setting",
}
CLAIM_SHOWN_WHEN_ZH = {
    "no-grad-keeps-dropout-active": "dropout > 0",
    "no-grad-still-updates-running-stats": "任意设置",
    "eval-is-deterministic-but-tracks-gradients": "任意设置",
}
TEXT_ZH = {
    "Difference between two forward passes": "两次前向之间的差异",
    "mode": "模式",
    "max abs difference": "最大绝对差",
    "Mode combinations": "模式组合",
    "outputs agree": "输出一致",
    "output requires grad": "输出 requires grad",
    "running mean moved": "running mean 变化",
    "Dropout probability": "Dropout 概率",
}


class Params(BaseModel):
    dropout: float = Field(0.5, ge=0.0, le=0.9, description="Dropout probability")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    # On the CPU whatever ctx.device says: Dropout's masks would otherwise come from the
    # device's random stream, and the numbers would change with the device.
    device = torch.device("cpu")
    torch.manual_seed(ctx.seed)
    model = nn.Sequential(
        nn.Linear(16, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(params.dropout),
        nn.Linear(32, 4),
    ).to(device)  # fmt: skip
    x = (torch.randn(8, 16) + 1.0).to(device)
    bn = model[1]

    rows = []
    results = {}
    for mode in ("train", "eval"):
        for grad in (True, False):
            model.train(mode == "train")
            before = bn.running_mean.clone()
            with torch.set_grad_enabled(grad):
                out1 = model(x)
                out2 = model(x)
            diff = float((out1 - out2).detach().abs().max())
            moved = not torch.equal(before, bn.running_mean)
            name = f"{mode}, {'grad' if grad else 'no_grad'}"
            results[name] = (diff, out1.requires_grad, moved)
            rows.append([name, diff == 0.0, out1.requires_grad, moved])

    train_ng = results["train, no_grad"]
    eval_g = results["eval, grad"]
    claims = [
        Claim(
            id="no-grad-keeps-dropout-active",
            text=CLAIMS["no-grad-keeps-dropout-active"],
            passed=train_ng[0] > 0,
            values={"max_abs_difference": train_ng[0]},
        ),
        Claim(
            id="no-grad-still-updates-running-stats",
            text=CLAIMS["no-grad-still-updates-running-stats"],
            passed=train_ng[2],
        ),
        Claim(
            id="eval-is-deterministic-but-tracks-gradients",
            text=CLAIMS["eval-is-deterministic-but-tracks-gradients"],
            passed=eval_g[0] == 0.0 and eval_g[1] and not eval_g[2],
            values={"max_abs_difference": eval_g[0], "requires_grad": eval_g[1]},
        ),
    ]
    names = list(results)
    chart = Chart(
        id="pass-difference",
        title="Difference between two forward passes",
        kind="bar",
        x_label="mode",
        y_label="max abs difference",
        categories=names,
        series=[
            Series(name="max abs difference", x=[0, 1, 2, 3], y=[results[k][0] for k in names])
        ],
    )
    table = Table(
        title="Mode combinations",
        columns=["mode", "outputs agree", "output requires grad", "running mean moved"],
        rows=rows,
    )
    return DemoResult(
        summary=(
            f"train + no_grad: outputs differ by {train_ng[0]:.3f}, running mean moved: "
            f"{train_ng[2]}; eval: outputs differ by {eval_g[0]:.1e}, requires grad: {eval_g[1]}."
        ),
        summary_zh=(
            f"train + no_grad：两次输出相差 {train_ng[0]:.3f}，running mean 变化：{train_ng[2]}；"
            f"eval：两次输出相差 {eval_g[0]:.1e}，requires grad：{eval_g[1]}。"
        ),
        metrics={"train_no_grad_difference": train_ng[0], "eval_difference": eval_g[0]},
        tables=[table],
        charts=[chart],
        claims=claims,
    )
