"""Triplet loss: most random triplets are already easy, so mining decides what is learned."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Triplet loss and hard-negative mining"
TITLE_ZH = "三元组损失与难负样本挖掘"
DESCRIPTION = (
    "Embeds a batch of items from several classes (clusters with the chosen separation), computes "
    "the triplet loss max(0, d(a, p) - d(a, n) + margin) over random triplets and over batch-hard "
    "triplets, and counts how many give any gradient."
)
DESCRIPTION_ZH = (
    "把来自多个类别的一批样本嵌入（按所选间隔形成簇），分别在随机三元组和批内最难三元组上计算"
    "三元组损失 max(0, d(a, p) - d(a, n) + margin)，统计有多少能产生梯度。"
)
CLAIMS = {
    "random-triplets-mostly-easy": (
        "More than 80% of random triplets already satisfy the margin: they have zero loss and "
        "contribute no gradient."
    ),
    "batch-hard-finds-active-triplets": (
        "Batch-hard mining (farthest positive, closest negative per anchor) gives a non-zero loss "
        "for at least three times as large a share of anchors as random sampling."
    ),
    "zero-loss-needs-margin": (
        "With margin 0 the triplet loss is zero as soon as positives are merely closer than "
        "negatives, so fewer triplets stay active than with the margin."
    ),
}
CLAIMS_ZH = {
    "random-triplets-mostly-easy": "超过 80% 的随机三元组已经满足间隔：损失为零，不贡献梯度。",
    "batch-hard-finds-active-triplets": (
        "批内最难挖掘（每个锚点取最远的正样本、最近的负样本）让损失非零的锚点比例至少是随机采"
        "样的三倍。"
    ),
    ("zero-loss-needs-margin"): (
        "间隔为 0 时，只要正样本比负样本近一点损失就为零，所以仍有损失的三元组比有间隔时少。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "batch-hard-finds-active-triplets": (
        "separation between about 1 and 8 with margin <= 2 (the defaults: 4 and 0.5)"
    ),
    "zero-loss-needs-margin": (
        "margin > 0 with separation below about 8 (classes far apart leave no triplet active "
        "either way)"
    ),
    "random-triplets-mostly-easy": "separation >= 3",
}
CLAIM_SHOWN_WHEN_ZH = {
    "batch-hard-finds-active-triplets": (
        "separation 大约在 1 到 8 之间且 margin <= 2（默认 4 和 0.5）"
    ),
    "zero-loss-needs-margin": (
        "margin > 0 且 separation 小于约 8（类别相距太远时两种情况都没有活跃三元组）"
    ),
    "random-triplets-mostly-easy": "separation >= 3",
}
TEXT_ZH = {
    "Distance between class centres": "类中心之间的距离",
    "Margin of the triplet loss": "三元组损失的间隔",
    "Classes in the batch": "批内类别数",
    "Items per class": "每类样本数",
    "Share of triplets with non-zero loss": "损失非零的三元组比例",
    "sampling": "采样方式",
    "active share": "有效比例",
    "active triplets": "有效三元组",
    "Triplet statistics": "三元组统计",
    "mean loss": "平均损失",
}


class Params(BaseModel):
    separation: float = Field(4.0, ge=0.5, le=10.0, description="Distance between class centres")
    margin: float = Field(0.5, ge=0.0, le=3.0, description="Margin of the triplet loss")
    classes: int = Field(8, ge=2, le=32, description="Classes in the batch")
    per_class: int = Field(8, ge=2, le=32, description="Items per class")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    k, m, dim = params.classes, params.per_class, 16
    centres = torch.randn(k, dim)
    centres = centres / centres.norm(dim=1, keepdim=True) * params.separation / 2**0.5
    labels = torch.arange(k).repeat_interleave(m)
    x = (centres[labels] + 0.5 * torch.randn(k * m, dim)).to(ctx.device)
    labels = labels.to(ctx.device)
    dist = torch.cdist(x, x)
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(k * m, dtype=torch.bool, device=dist.device)

    def random_triplets(margin: float):  # type: ignore[no-untyped-def]
        gen = torch.Generator().manual_seed(ctx.seed + 1)
        n = k * m
        losses = []
        for a in range(n):
            pos = ((same[a] & ~eye[a]).nonzero().flatten()).tolist()
            neg = ((~same[a]).nonzero().flatten()).tolist()
            for _ in range(20):
                p = pos[int(torch.randint(len(pos), (1,), generator=gen))]
                q = neg[int(torch.randint(len(neg), (1,), generator=gen))]
                losses.append(max(0.0, float(dist[a, p] - dist[a, q]) + margin))
        return torch.tensor(losses)

    def batch_hard(margin: float):  # type: ignore[no-untyped-def]
        hardest_pos = dist.masked_fill(~same | eye, float("-inf")).max(1).values
        hardest_neg = dist.masked_fill(same, float("inf")).min(1).values
        return (hardest_pos - hardest_neg + margin).clamp(min=0)

    rand, hard = random_triplets(params.margin), batch_hard(params.margin)
    rand0 = random_triplets(0.0)
    active = lambda v: float((v > 0).float().mean())  # noqa: E731
    a_rand, a_hard, a_rand0 = active(rand), active(hard), active(rand0)
    chart = Chart(
        id="active",
        title="Share of triplets with non-zero loss",
        kind="bar",
        x_label="sampling",
        y_label="active share",
        categories=["random", "batch-hard", "random, margin 0"],
        series=[Series(name="active triplets", x=[0.0, 1.0, 2.0], y=[a_rand, a_hard, a_rand0])],
    )
    table = Table(
        title="Triplet statistics",
        columns=["sampling", "active share", "mean loss"],
        rows=[
            ["random", a_rand, float(rand.mean())],
            ["batch-hard", a_hard, float(hard.mean())],
            ["random, margin 0", a_rand0, float(rand0.mean())],
        ],
    )
    claims = [
        Claim(
            id="random-triplets-mostly-easy",
            text=CLAIMS["random-triplets-mostly-easy"],
            passed=a_rand < 0.2,
            values={"active_random": a_rand},
        ),
        Claim(
            id="batch-hard-finds-active-triplets",
            text=CLAIMS["batch-hard-finds-active-triplets"],
            passed=a_hard >= 3 * a_rand and a_hard > 0,
            values={"active_batch_hard": a_hard, "active_random": a_rand},
        ),
        Claim(
            id="zero-loss-needs-margin",
            text=CLAIMS["zero-loss-needs-margin"],
            passed=params.margin > 0 and a_rand0 < a_rand,
            values={"active_margin0": a_rand0, "active_margin": a_rand},
        ),
    ]
    return DemoResult(
        summary=f"Separation {params.separation}, margin {params.margin}: {a_rand:.1%} of random "
        "triplets "
        "and "
        f"{a_hard:.1%} of batch-hard triplets have non-zero loss ({a_rand0:.1%} of random "
        "ones with margin 0).",
        summary_zh=f"间隔 {params.separation}、margin {params.margin}：随机三元组中 {a_rand:.1%}、"
        "批"
        "内"
        "最难三元组中 "
        f"{a_hard:.1%} 的损失非零（margin 为 0 时随机三元组中为 {a_rand0:.1%}）。",
        metrics={
            "active_random": a_rand,
            "active_batch_hard": a_hard,
            "active_random_margin0": a_rand0,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
