"""Focal loss: how much of the loss easy negatives hold under cross-entropy and under focal loss."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Focal loss vs cross-entropy under extreme imbalance"
TITLE_ZH = "极度不平衡下的 focal loss 与交叉熵"
DESCRIPTION = (
    "Draws detector-like scores for a few hard positives and many easy negatives, and measures "
    "which examples the total cross-entropy and the total focal loss (and their gradients) "
    "come from."
)
DESCRIPTION_ZH = (
    "为少量难正样本和大量容易负样本生成类似检测器的分数，测量交叉熵总损失和 focal loss 总损失"
    "（及其梯度）分别来自哪些样本。"
)
CLAIMS = {
    "easy-examples-dominate-ce": (
        "With many easy negatives (p_t > 0.9), those easy examples hold more than half of the "
        "total cross-entropy loss."
    ),
    "focal-shifts-loss-to-hard": (
        "Focal loss -alpha_t (1 - p_t)^gamma log p_t cuts the easy examples' share of the total "
        "loss below 20%."
    ),
    "focal-shifts-gradient-to-hard": (
        "Focal loss multiplies the hard examples' (p_t < 0.5) share of the gradient with respect "
        "to the logits by at least 10 compared with cross-entropy."
    ),
    "modulating-factor-formula": (
        "An example with p_t = 0.9 is down-weighted by (1 - 0.9)^gamma relative to cross-entropy "
        "(100x for gamma = 2), one with p_t = 0.5 only by 0.5^gamma."
    ),
}
CLAIMS_ZH = {
    ("easy-examples-dominate-ce"): (
        "容易负样本很多时（p_t > 0.9），这些容易样本占交叉熵总损失的一半以上。"
    ),
    ("focal-shifts-loss-to-hard"): (
        "focal loss -alpha_t (1 - p_t)^gamma log p_t 把容易样本在总损失中的占比压到 20% 以下。"
    ),
    ("focal-shifts-gradient-to-hard"): (
        "与交叉熵相比，focal loss 把难样本（p_t < 0.5）在对 logit 梯度中的占比提高至少 10 倍。"
    ),
    "modulating-factor-formula": (
        "p_t = 0.9 的样本相对交叉熵被降权 (1 - 0.9)^gamma（gamma = 2 时 100 倍），p_t = 0.5 的"
        "样本只降权 0.5^gamma。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "modulating-factor-formula": "always: it does not depend on the parameters",
    "easy-examples-dominate-ce": "negatives_per_positive >= 100",
    "focal-shifts-loss-to-hard": "gamma >= 2",
    "focal-shifts-gradient-to-hard": "gamma >= 2",
}
CLAIM_SHOWN_WHEN_ZH = {
    "modulating-factor-formula": "总成立：与参数无关",
    "easy-examples-dominate-ce": "negatives_per_positive >= 100",
    "focal-shifts-loss-to-hard": "gamma >= 2",
    "focal-shifts-gradient-to-hard": "gamma >= 2",
}
TEXT_ZH = {
    "Easy negatives per positive": "每个正样本对应的容易负样本数",
    "Focusing parameter gamma": "聚焦参数 gamma",
    "Weight alpha of the positive class": "正类权重 alpha",
    "Positive examples": "正样本数",
    "Share of the total loss and gradient from easy examples": "容易样本在总损失和总梯度中的占比",
    "quantity": "量",
    "share from easy examples": "来自容易样本的占比",
    "cross-entropy": "交叉熵",
    "focal loss": "focal loss",
    "Loss per example vs p_t": "单个样本的损失随 p_t 的变化",
    "p_t": "p_t",
    "loss": "损失",
    "Where the loss comes from": "损失来自哪里",
    "group": "分组",
}


class Params(BaseModel):
    negatives_per_positive: int = Field(
        1000, ge=1, le=5000, description="Easy negatives per positive"
    )
    gamma: float = Field(2.0, ge=0.0, le=5.0, description="Focusing parameter gamma")
    alpha: float = Field(0.25, ge=0.01, le=0.99, description="Weight alpha of the positive class")
    positives: int = Field(20, ge=5, le=100, description="Positive examples")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    n_pos, n_neg = params.positives, params.positives * params.negatives_per_positive
    # Positives are hard (logit around 0); negatives are mostly easy (logit around -4.5).
    logits = torch.cat([torch.randn(n_pos) * 1.5, torch.randn(n_neg) - 4.5]).to(ctx.device)
    target = torch.cat([torch.ones(n_pos), torch.zeros(n_neg)]).to(ctx.device)
    logits.requires_grad_(True)

    def losses(gamma: float, alpha: float | None):  # type: ignore[no-untyped-def]
        p = torch.sigmoid(logits)
        p_t = torch.where(target == 1, p, 1 - p)
        ce = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
        weight = (1 - p_t) ** gamma
        if alpha is not None:
            weight = weight * torch.where(target == 1, alpha, 1 - alpha)
        return weight * ce, p_t

    ce, p_t = losses(0.0, None)
    fl, _ = losses(params.gamma, params.alpha)
    easy = (p_t > 0.9).detach()
    hard = (p_t < 0.5).detach()
    (grad_ce,) = torch.autograd.grad(ce.sum(), logits)
    (grad_fl,) = torch.autograd.grad(fl.sum(), logits)
    share = lambda v, m: float(v[m].abs().sum() / v.abs().sum())  # noqa: E731
    ce_easy, fl_easy = share(ce.detach(), easy), share(fl.detach(), easy)
    g_ce_hard, g_fl_hard = share(grad_ce, hard), share(grad_fl, hard)
    factor_09 = 0.1**params.gamma
    grid = [i / 50 for i in range(1, 50)]
    import math

    chart_curve = Chart(
        id="loss-vs-pt",
        title="Loss per example vs p_t",
        x_label="p_t",
        y_label="loss",
        series=[
            Series(name="cross-entropy", x=grid, y=[-math.log(q) for q in grid]),
            Series(
                name="focal loss",
                x=grid,
                y=[-((1 - q) ** params.gamma) * math.log(q) for q in grid],
            ),
        ],
    )
    chart_share = Chart(
        id="easy-share",
        title="Share of the total loss and gradient from easy examples",
        kind="bar",
        x_label="quantity",
        y_label="share from easy examples",
        categories=["loss", "gradient"],
        series=[
            Series(name="cross-entropy", x=[0, 1], y=[ce_easy, 1 - g_ce_hard]),
            Series(name="focal loss", x=[0, 1], y=[fl_easy, 1 - g_fl_hard]),
        ],
    )
    table = Table(
        title="Where the loss comes from",
        columns=["group", "cross-entropy", "focal loss"],
        rows=[
            ["easy examples (p_t > 0.9): loss share", ce_easy, fl_easy],
            ["hard examples (p_t < 0.5): gradient share", g_ce_hard, g_fl_hard],
        ],
    )
    claims = [
        Claim(
            id="easy-examples-dominate-ce",
            text=CLAIMS["easy-examples-dominate-ce"],
            passed=ce_easy > 0.5,
            values={"easy_share_ce": ce_easy, "easy_fraction": float(easy.float().mean())},
        ),
        Claim(
            id="focal-shifts-loss-to-hard",
            text=CLAIMS["focal-shifts-loss-to-hard"],
            passed=fl_easy < 0.2,
            values={"easy_share_focal": fl_easy},
        ),
        Claim(
            id="focal-shifts-gradient-to-hard",
            text=CLAIMS["focal-shifts-gradient-to-hard"],
            passed=g_fl_hard > 10 * g_ce_hard,
            values={"hard_grad_share_focal": g_fl_hard, "hard_grad_share_ce": g_ce_hard},
        ),
        Claim(
            id="modulating-factor-formula",
            text=CLAIMS["modulating-factor-formula"],
            passed=abs(factor_09 - (1 - 0.9) ** params.gamma) < 1e-12
            and (params.gamma == 0 or factor_09 < 0.5**params.gamma),
            values={"factor_at_0.9": factor_09, "factor_at_0.5": 0.5**params.gamma},
        ),
    ]
    return DemoResult(
        summary=f"{n_pos} positives, {n_neg} negatives: easy examples hold {ce_easy:.0%} of the "
        "cross-entropy "
        f"and {fl_easy:.0%} of the focal loss (gamma={params.gamma}); hard examples give "
        f"{g_fl_hard:.0%} "
        "of the "
        f"focal-loss gradient vs {g_ce_hard:.0%} under cross-entropy.",
        summary_zh=f"{n_pos} 个正样本、{n_neg} 个负样本：容易样本占交叉熵的 {ce_easy:.0%}、focal "
        "loss "
        f"的 {fl_easy:.0%}"
        f"（gamma={params.gamma}）；难样本贡献 focal loss 梯度的 {g_fl_hard:.0%}，交叉熵下"
        f"只有 {g_ce_hard:.0%}。",
        metrics={
            "easy_share_ce": ce_easy,
            "easy_share_focal": fl_easy,
            "hard_grad_share_ce": g_ce_hard,
            "hard_grad_share_focal": g_fl_hard,
        },
        tables=[table],
        charts=[chart_curve, chart_share],
        claims=claims,
    )
