"""What nn.Dropout does in train mode and in eval mode, and why survivors are rescaled."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Dropout in train and eval mode"
DESCRIPTION = (
    "Passes the same batch through a dropout layer and through a small ReLU network with "
    "dropout, in train mode (random masks) and eval mode (identity), with inverted dropout "
    "(PyTorch's rescaling by 1/(1-p)) or without any rescaling."
)
CLAIMS = {
    "train-random-eval-deterministic": (
        "In train mode two forward passes of the same input give different outputs (a new random "
        "mask each time); in eval mode they are identical."
    ),
    "expected-activation-preserved": (
        "With the configured scaling, the mean activation after dropout in train mode matches the "
        "eval-mode mean within 2%, so the next layer sees the same scale at train and test time."
    ),
    "eval-is-not-mc-average": (
        "For a ReLU network, the eval-mode output differs by more than 1% from the average of 200 "
        "train-mode passes: eval mode is a cheap approximation of averaging over masks, not the "
        "exact ensemble average."
    ),
}
TITLE_ZH = "训练与评估模式下的 Dropout"
DESCRIPTION_ZH = (
    "让同一批数据通过一个 dropout 层和一个带 dropout 的小型 ReLU 网络，分别在训练模式（随机掩码）"
    "和评估模式（恒等）下，使用反向 dropout（PyTorch 按 1/(1-p) 缩放）或不缩放。"
)
CLAIMS_ZH = {
    "train-random-eval-deterministic": (
        "训练模式下同一输入的两次前向传播输出不同（每次新的随机掩码）；评估模式下完全相同。"
    ),
    "expected-activation-preserved": (
        "在所设缩放下，训练模式 dropout 后的平均激活与评估模式的均值相差不超过 2%，下一层在训练和"
        "测试时看到相同的尺度。"
    ),
    "eval-is-not-mc-average": (
        "对 ReLU 网络，评估模式的输出与 200 次训练模式前向的平均相差超过 1%：评估模式是对掩码平均"
        "的廉价近似，而不是精确的集成平均。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "train-random-eval-deterministic": "p > 0",
    "expected-activation-preserved": "scaling inverted (the default)",
    "eval-is-not-mc-average": "p >= 0.2 (the ReLU network is non-linear in the mask)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "train-random-eval-deterministic": "p > 0",
    "expected-activation-preserved": "scaling 为 inverted（默认）",
    "eval-is-not-mc-average": "p >= 0.2（ReLU 网络对掩码是非线性的）",
}
TEXT_ZH = {
    "Drop probability": "丢弃概率",
    "inverted: survivors x 1/(1-p) in training (PyTorch); none: no rescaling anywhere": (
        "inverted：训练时保留的单元乘以 1/(1-p)（PyTorch 的做法）；none：任何时候都不缩放"
    ),
    "Units in the dropout layer": "dropout 层的单元数",
    "Dropout layer on the same batch": "同一批数据上的 dropout 层",
    "mode": "模式",
    "mean activation": "平均激活值",
    "fraction non-zero": "非零比例",
    "same output on a second pass": "第二次前向输出是否相同",
    "train": "训练",
    "eval": "评估",
    "Mean activation after dropout": "dropout 后的平均激活值",
    "Gap between the running average of train passes and the eval output": (
        "训练模式多次前向的平均与 eval 输出之差"
    ),
    "train-mode passes averaged": "平均的训练模式前向次数",
    "relative mean |difference|": "相对平均 |差异|",
    "mean": "均值",
    "gap": "差距",
}


class Params(BaseModel):
    p: float = Field(0.5, ge=0.0, le=0.9, description="Drop probability")
    scaling: Literal["inverted", "none"] = Field(
        "inverted",
        description=(
            "inverted: survivors x 1/(1-p) in training (PyTorch); none: no rescaling anywhere"
        ),
    )
    width: int = Field(256, ge=16, le=1024, description="Units in the dropout layer")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    p = params.p

    def dropout(h: torch.Tensor, training: bool) -> torch.Tensor:
        # Masks are drawn on the CPU from the seed and moved, so every device shows the
        # same numbers; the inverted mask is nn.functional.dropout's own (0 or 1/(1-p)).
        if params.scaling == "inverted":
            if not training:
                return nn.functional.dropout(h, p=p, training=False)
            ones = torch.ones(h.shape, dtype=h.dtype)
            return h * nn.functional.dropout(ones, p=p, training=True).to(h.device)
        if not training or p == 0:
            return h
        return h * (torch.rand(h.shape, dtype=h.dtype) >= p).to(h.dtype).to(h.device)

    # 1) A dropout layer on positive activations.
    h = torch.relu(torch.randn(128, params.width).to(device)) + 0.1
    train_a, train_b = dropout(h, True), dropout(h, True)
    eval_a, eval_b = dropout(h, False), dropout(h, False)
    train_differs = bool((train_a != train_b).any().item())
    eval_same = bool(torch.equal(eval_a, eval_b))
    kept = float((train_a != 0).double().mean().item())
    train_mean = float(train_a.mean().item())
    eval_mean = float(eval_a.mean().item())
    mean_ratio = train_mean / eval_mean

    # 2) A small ReLU network: dropout feeds a nonlinearity, so averaging masks != eval mode.
    ctx.progress(0.3, "Monte Carlo average over masks")
    net_in = nn.Linear(16, params.width).to(device)
    net_mid = nn.Linear(params.width, 64).to(device)
    net_out = nn.Linear(64, 1).to(device)
    x = torch.randn(64, 16).to(device)

    def net(training: bool) -> torch.Tensor:
        z = torch.relu(net_in(x))
        z = torch.relu(net_mid(dropout(z, training)))
        return net_out(z)

    with torch.no_grad():
        eval_out = net(False)
        passes = 200
        mc = torch.zeros_like(eval_out)
        running = []
        for i in range(passes):
            mc += net(True)
            if (i + 1) % 10 == 0:
                avg = mc / (i + 1)
                running.append(
                    float(((avg - eval_out).abs().mean() / eval_out.abs().mean()).item())
                )
        mc /= passes
    gap = float(((mc - eval_out).abs().mean() / eval_out.abs().mean()).item())

    c1 = train_differs and eval_same
    c2 = abs(mean_ratio - 1.0) <= 0.02
    c3 = gap > 0.01

    return DemoResult(
        summary_zh=(
            f"p={p:g}，scaling={params.scaling}：一次训练前向保留了 {kept:.1%} 的单元；训练/评估平"
            f"均激活之比 {mean_ratio:.3f}；eval 输出与 {passes} 次训练前向的平均相差 {gap:.2%}。"
        ),
        summary=(
            f"p={p:g}, scaling={params.scaling}: {kept:.1%} of units kept in a training pass; "
            "train/eval mean "
            f"activation ratio {mean_ratio:.3f}; eval output vs average of {passes} train passes "
            f"differs by {gap:.2%}."
        ),
        metrics={
            "kept_fraction": kept,
            "train_mean_activation": train_mean,
            "eval_mean_activation": eval_mean,
            "train_over_eval_mean": mean_ratio,
            "eval_vs_mc_relative_gap": gap,
        },
        tables=[
            Table(
                title="Dropout layer on the same batch",
                columns=[
                    "mode",
                    "mean activation",
                    "fraction non-zero",
                    "same output on a second pass",
                ],
                rows=[
                    ["train", train_mean, kept, not train_differs],
                    ["eval", eval_mean, float((eval_a != 0).double().mean().item()), eval_same],
                ],
            )
        ],
        charts=[
            Chart(
                id="mean-activation",
                title="Mean activation after dropout",
                kind="bar",
                y_label="mean activation",
                categories=["train mode", "eval mode"],
                series=[Series(name="mean", x=[0.0, 1.0], y=[train_mean, eval_mean])],
            ),
            Chart(
                id="mc-gap",
                title="Gap between the running average of train passes and the eval output",
                x_label="train-mode passes averaged",
                y_label="relative mean |difference|",
                series=[
                    Series(
                        name="gap", x=[float(10 * (i + 1)) for i in range(len(running))], y=running
                    )
                ],
            ),
        ],
        claims=[
            Claim(
                id="train-random-eval-deterministic",
                text=CLAIMS["train-random-eval-deterministic"],
                passed=bool(c1),
                values={"train_passes_differ": train_differs, "eval_passes_identical": eval_same},
            ),
            Claim(
                id="expected-activation-preserved",
                text=CLAIMS["expected-activation-preserved"],
                passed=bool(c2),
                values={"train_over_eval_mean": mean_ratio},
            ),
            Claim(
                id="eval-is-not-mc-average",
                text=CLAIMS["eval-is-not-mc-average"],
                passed=bool(c3),
                values={"relative_gap": gap, "passes": passes},
            ),
        ],
    )
