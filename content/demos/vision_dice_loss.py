"""Dice on a small foreground: accuracy misleads, Dice equals F1, and its gradient is balanced."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Dice loss vs cross-entropy on a small foreground"
TITLE_ZH = "小前景上的 Dice 损失与交叉熵"
DESCRIPTION = (
    "Segments a disk in a 64x64 image: scores an all-background prediction by pixel accuracy "
    "and Dice, checks Dice against F1, and splits the gradient of BCE and of soft Dice between "
    "foreground and background pixels."
)
DESCRIPTION_ZH = (
    "在 64x64 图像中分割一个圆盘：用像素准确率和 Dice 评价全背景预测，验证 Dice 等于 F1，并把"
    " BCE 和 soft Dice 的梯度拆分到前景和背景像素上。"
)
CLAIMS = {
    "accuracy-misleads-on-small-foreground": (
        "Predicting background everywhere scores pixel accuracy above 95% but Dice 0."
    ),
    ("dice-equals-f1"): (
        "Hard Dice 2|P and G| / (|P| + |G|) equals F1 = 2PR / (P + R) on the same masks."
    ),
    "dice-gradient-balanced": (
        "At a uniform prediction p = 0.1, foreground pixels receive more than 40% of the soft Dice "
        "gradient but under 15% of the BCE gradient."
    ),
}
CLAIMS_ZH = {
    "accuracy-misleads-on-small-foreground": "全部预测为背景时像素准确率超过 95%，但 Dice 为 0。",
    "dice-equals-f1": "在同一对掩码上，硬 Dice 2|P 交 G| / (|P| + |G|) 等于 F1 = 2PR / (P + R)。",
    "dice-gradient-balanced": (
        "在均匀预测 p = 0.1 时，前景像素得到 soft Dice 梯度的 40% 以上，却只得到 BCE 梯度的不"
        "到 15%。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "dice-equals-f1": "always: it does not depend on the parameters",
    "accuracy-misleads-on-small-foreground": "radius <= 8 (foreground under 5% of the image)",
    "dice-gradient-balanced": "radius <= 5",
}
CLAIM_SHOWN_WHEN_ZH = {
    "dice-equals-f1": "总成立：与参数无关",
    "accuracy-misleads-on-small-foreground": "radius <= 8（前景不到图像的 5%）",
    "dice-gradient-balanced": "radius <= 5",
}
TEXT_ZH = {
    "Radius of the foreground disk in pixels": "前景圆盘的半径（像素）",
    "Pixels the imperfect prediction shifts the disk by": "不完美预测中圆盘偏移的像素数",
    "Share of the gradient on foreground pixels": "前景像素得到的梯度占比",
    "loss": "损失",
    "foreground share": "前景占比",
    "gradient": "梯度",
    "Scores": "评分",
    "prediction": "预测",
    "pixel accuracy": "像素准确率",
    "Dice": "Dice",
    "F1": "F1",
}


class Params(BaseModel):
    radius: int = Field(4, ge=2, le=30, description="Radius of the foreground disk in pixels")
    shift: int = Field(
        2, ge=0, le=10, description="Pixels the imperfect prediction shifts the disk by"
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    n = 64
    yy, xx = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    disk = lambda cx: ((yy - 32) ** 2 + (xx - cx) ** 2 <= params.radius**2).float()  # noqa: E731
    truth = disk(32).to(ctx.device)
    shifted = disk(32 + params.shift).to(ctx.device)
    background = torch.zeros_like(truth)

    def scores(pred):  # type: ignore[no-untyped-def]
        tp = float((pred * truth).sum())
        fp = float((pred * (1 - truth)).sum())
        fn = float(((1 - pred) * truth).sum())
        acc = float((pred == truth).float().mean())
        dice = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else 1.0
        precision = tp / (tp + fp) if tp + fp > 0 else 0.0
        recall = tp / (tp + fn) if tp + fn > 0 else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
        return acc, dice, f1

    acc_bg, dice_bg, f1_bg = scores(background)
    acc_sh, dice_sh, f1_sh = scores(shifted)

    logits = (
        torch.full((n, n), float(torch.logit(torch.tensor(0.1))))
        .to(ctx.device)
        .requires_grad_(True)
    )
    p = torch.sigmoid(logits)
    bce = torch.nn.functional.binary_cross_entropy(p, truth, reduction="sum")
    soft_dice = 1 - 2 * (p * truth).sum() / (p.sum() + truth.sum())
    (g_bce,) = torch.autograd.grad(bce, logits, retain_graph=True)
    (g_dice,) = torch.autograd.grad(soft_dice, logits)
    fg = truth.bool()
    share = lambda g: float(g[fg].abs().sum() / g.abs().sum())  # noqa: E731
    bce_fg, dice_fg = share(g_bce), share(g_dice)
    fg_fraction = float(truth.mean())
    chart = Chart(
        id="gradient-share",
        title="Share of the gradient on foreground pixels",
        kind="bar",
        x_label="loss",
        y_label="foreground share",
        categories=["BCE", "soft Dice"],
        series=[Series(name="gradient", x=[0, 1], y=[bce_fg, dice_fg])],
    )
    table = Table(
        title="Scores",
        columns=["prediction", "pixel accuracy", "Dice", "F1"],
        rows=[
            ["all background", acc_bg, dice_bg, f1_bg],
            [f"disk shifted by {params.shift}px", acc_sh, dice_sh, f1_sh],
        ],
    )
    claims = [
        Claim(
            id="accuracy-misleads-on-small-foreground",
            text=CLAIMS["accuracy-misleads-on-small-foreground"],
            passed=acc_bg > 0.95 and dice_bg == 0.0,
            values={"accuracy": acc_bg, "dice": dice_bg, "foreground_fraction": fg_fraction},
        ),
        Claim(
            id="dice-equals-f1",
            text=CLAIMS["dice-equals-f1"],
            passed=abs(dice_sh - f1_sh) < 1e-9,
            values={"dice": dice_sh, "f1": f1_sh},
        ),
        Claim(
            id="dice-gradient-balanced",
            text=CLAIMS["dice-gradient-balanced"],
            passed=dice_fg > 0.4 and bce_fg < 0.15,
            values={"dice_fg_share": dice_fg, "bce_fg_share": bce_fg},
        ),
    ]
    return DemoResult(
        summary=f"Foreground {fg_fraction:.1%} of pixels: all-background scores accuracy "
        f"{acc_bg:.3f}, "
        f"Dice {dice_bg:.2f}; "
        f"foreground pixels get {dice_fg:.0%} of the Dice gradient and {bce_fg:.0%} of the "
        "BCE gradient.",
        summary_zh=f"前景占像素的 {fg_fraction:.1%}：全背景预测的准确率 {acc_bg:.3f}、Dice "
        f"{dice_bg:.2f}；"
        f"前景像素得到 Dice 梯度的 {dice_fg:.0%}、BCE 梯度的 {bce_fg:.0%}。",
        metrics={
            "foreground_fraction": fg_fraction,
            "accuracy_all_background": acc_bg,
            "dice_shifted": dice_sh,
            "dice_fg_grad_share": dice_fg,
            "bce_fg_grad_share": bce_fg,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
