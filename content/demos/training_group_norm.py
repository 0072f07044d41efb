"""GroupNorm vs BatchNorm at small batch sizes, and GroupNorm's two limits (LayerNorm, InstanceNor"
"m)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "GroupNorm vs BatchNorm with tiny batches"
TITLE_ZH = "小 batch 下的 GroupNorm 与 BatchNorm"
DESCRIPTION = (
    "Normalises a conv feature map with BatchNorm2d and GroupNorm at the chosen batch size: "
    "compares one sample's output when its batch-mates change, BatchNorm's train-vs-eval gap "
    "after warming up its running statistics, and checks that GroupNorm with 1 group or C groups "
    "equals LayerNorm over (C, H, W) or InstanceNorm."
)
DESCRIPTION_ZH = (
    "在给定 batch 大小下用 BatchNorm2d 和 GroupNorm 归一化一个卷积特征图：比较换掉同 batch 其他样"
    "本时"
    "某个样本的输出变化、BatchNorm 在累积 running 统计量后训练与推理输出的差距，并检查 1 组和 C 组"
    "的 "
    "GroupNorm 分别等于在 (C, H, W) 上的 LayerNorm 和 InstanceNorm。"
)
CLAIMS = {
    "groupnorm-independent-of-batch": (
        "GroupNorm's output for a sample does not change when the other samples in the batch "
        "change (max abs difference below 1e-6)."
    ),
    "batchnorm-depends-on-batch": (
        "In training mode, BatchNorm's output for the same sample changes by more than 0.1 when "
        "its batch-mates change."
    ),
    "batchnorm-train-eval-gap": (
        "BatchNorm's training-mode output differs from its eval-mode output (running statistics) "
        "by a mean abs difference above 0.1: batch statistics from tiny batches are noisy."
    ),
    "groupnorm-limits": (
        "GroupNorm with 1 group equals LayerNorm over (C, H, W) and with C groups equals "
        "InstanceNorm (max abs difference below 1e-5)."
    ),
}
CLAIMS_ZH = {
    "groupnorm-independent-of-batch": (
        "同 batch 的其他样本改变时，GroupNorm 对某个样本的输出不变（最大绝对误差小于 1e-6）。"
    ),
    "batchnorm-depends-on-batch": (
        "训练模式下，同 batch 的其他样本改变时，BatchNorm 对同一个样本的输出变化超过 0.1。"
    ),
    "batchnorm-train-eval-gap": (
        "BatchNorm 训练模式的输出与推理模式（running 统计量）的输出平均绝对差超过 0.1："
        "极小 batch 的统计量噪声很大。"
    ),
    "groupnorm-limits": (
        "1 组的 GroupNorm 等于在 (C, H, W) 上的 LayerNorm，C 组的等于 InstanceNorm（最大绝对误差小"
        "于 1e-5）。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "groupnorm-independent-of-batch": "any batch size",
    "batchnorm-depends-on-batch": "any batch size, most at small ones",
    "batchnorm-train-eval-gap": "batch size <= 4",
    "groupnorm-limits": "any setting",
}
CLAIM_SHOWN_WHEN_ZH = {
    "groupnorm-independent-of-batch": "任意 batch 大小",
    "batchnorm-depends-on-batch": "任意 batch 大小，小 batch 时最明显",
    "batchnorm-train-eval-gap": "batch 大小 <= 4",
    "groupnorm-limits": "任意设置",
}
TEXT_ZH = {
    "Change in one sample's output when its batch-mates change": (
        "同 batch 其他样本改变时某个样本输出的变化"
    ),
    "Train-vs-eval gap": "训练与推理输出的差距",
    "norm": "归一化",
    "max abs change": "最大绝对变化",
    "mean abs difference": "平均绝对差",
    "Checks": "检查",
    "check": "检查项",
    "value": "数值",
    "Batch size": "batch 大小",
    "Groups for GroupNorm": "GroupNorm 的组数",
}


class Params(BaseModel):
    batch: int = Field(2, ge=2, le=64, description="Batch size")
    groups: int = Field(8, ge=1, le=32, description="Groups for GroupNorm")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    c, hw = 32, 8
    groups = params.groups if c % params.groups == 0 else 8

    # Feature maps with per-sample scale and offset, as real activations have.
    def draw(n: int) -> torch.Tensor:
        base = torch.randn(n, c, hw, hw)
        return base * (0.5 + torch.rand(n, 1, 1, 1) * 2) + torch.randn(n, 1, 1, 1)

    batch_a = draw(params.batch).to(device)
    batch_b = torch.cat([batch_a[:1], draw(params.batch - 1).to(device)])  # same first sample
    gn = nn.GroupNorm(groups, c).to(device)
    bn = nn.BatchNorm2d(c, momentum=None).to(device)  # cumulative average of batch stats

    with torch.no_grad():
        gn_change = float((gn(batch_a)[0] - gn(batch_b)[0]).abs().max())
        bn.train()
        bn_change = float((bn(batch_a)[0] - bn(batch_b)[0]).abs().max())
        for _ in range(200):  # warm up running statistics on many tiny batches
            bn(draw(params.batch).to(device))
        train_out = bn(batch_a)
        bn.eval()
        eval_out = bn(batch_a)
        gap = float((train_out - eval_out).abs().mean())

        x = draw(4).to(device)
        gn1 = nn.GroupNorm(1, c, affine=False).to(device)(x)
        ln = nn.functional.layer_norm(x, (c, hw, hw))
        gnc = nn.GroupNorm(c, c, affine=False).to(device)(x)
        inorm = nn.InstanceNorm2d(c).to(device)(x)
        limit_err = max(float((gn1 - ln).abs().max()), float((gnc - inorm).abs().max()))

    claims = [
        Claim(
            id="groupnorm-independent-of-batch",
            text=CLAIMS["groupnorm-independent-of-batch"],
            passed=gn_change < 1e-6,
            values={"max_abs_change": gn_change},
        ),
        Claim(
            id="batchnorm-depends-on-batch",
            text=CLAIMS["batchnorm-depends-on-batch"],
            passed=bn_change > 0.1,
            values={"max_abs_change": bn_change},
        ),
        Claim(
            id="batchnorm-train-eval-gap",
            text=CLAIMS["batchnorm-train-eval-gap"],
            passed=gap > 0.1,
            values={"mean_abs_difference": gap},
        ),
        Claim(
            id="groupnorm-limits",
            text=CLAIMS["groupnorm-limits"],
            passed=limit_err < 1e-5,
            values={"max_abs_difference": limit_err},
        ),
    ]
    chart = Chart(
        id="batch-dependence",
        title="Change in one sample's output when its batch-mates change",
        kind="bar",
        x_label="norm",
        y_label="max abs change",
        categories=["GroupNorm", "BatchNorm (train)"],
        series=[Series(name="max abs change", x=[0, 1], y=[gn_change, bn_change])],
    )
    table = Table(
        title="Checks",
        columns=["check", "value"],
        rows=[
            ["GroupNorm change", gn_change],
            ["BatchNorm change", bn_change],
            ["BatchNorm train-vs-eval gap", gap],
            ["GroupNorm limits vs LayerNorm / InstanceNorm", limit_err],
        ],
    )
    return DemoResult(
        summary=(
            f"Batch {params.batch}: swapping batch-mates changes GroupNorm's output by "
            f"{gn_change:.1e} and BatchNorm's by {bn_change:.2f}; BatchNorm train-vs-eval gap "
            f"{gap:.2f}."
        ),
        summary_zh=(
            f"batch 大小 {params.batch}：换掉同 batch 的其他样本，"
            f"GroupNorm 输出变化 {gn_change:.1e}，"
            f"BatchNorm 变化 {bn_change:.2f}；BatchNorm 训练与推理差距 {gap:.2f}。"
        ),
        metrics={
            "groupnorm_change": gn_change,
            "batchnorm_change": bn_change,
            "batchnorm_train_eval_gap": gap,
            "limit_error": limit_err,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
