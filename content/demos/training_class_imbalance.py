"""Class imbalance: accuracy misleads, and reweighting or moving the threshold recovers recall."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Class imbalance: reweighting vs threshold moving"
TITLE_ZH = "类别不平衡：重加权与移动阈值"
DESCRIPTION = (
    "Fits a logistic regression to two overlapping Gaussian classes with a rare positive class, "
    "plainly and with class weights, and compares accuracy and minority recall at threshold 0.5 "
    "and at a threshold moved to the class prior."
)
DESCRIPTION_ZH = (
    "在两个重叠的高斯类别上拟合逻辑回归，正类很少：分别不加权和按类别加权，比较阈值 0.5 和移到"
    "类别先验的阈值下的准确率和少数类召回率。"
)
CLAIMS = {
    "plain-model-misses-minority": (
        "The unweighted model at threshold 0.5 recalls fewer than half of the minority class."
    ),
    "constant-predictor-has-high-accuracy": (
        "Always predicting the majority class scores accuracy equal to the majority share "
        "(at least 0.9 here) while recalling no positive."
    ),
    "reweighting-recovers-recall": (
        "Weighting the loss by inverse class frequency raises minority recall above 0.7."
    ),
    "threshold-moving-recovers-recall": (
        "Keeping the unweighted model but moving the threshold to the positive class's prior "
        "also raises minority recall above 0.7."
    ),
}
CLAIMS_ZH = {
    "plain-model-misses-minority": "不加权的模型在阈值 0.5 下召回的少数类不到一半。",
    "constant-predictor-has-high-accuracy": (
        "总是预测多数类的准确率等于多数类占比（这里至少 0.9），却一个正例都召回不了。"
    ),
    "reweighting-recovers-recall": "按类别频率的倒数给 loss 加权，少数类召回率升到 0.7 以上。",
    "threshold-moving-recovers-recall": (
        "不加权的模型把阈值移到正类的先验概率，少数类召回率也升到 0.7 以上。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "plain-model-misses-minority": "positive share <= 0.1",
    "constant-predictor-has-high-accuracy": "positive share <= 0.1",
    "reweighting-recovers-recall": "any positive share",
    "threshold-moving-recovers-recall": "any positive share",
}
CLAIM_SHOWN_WHEN_ZH = {
    "plain-model-misses-minority": "正类占比 <= 0.1",
    "constant-predictor-has-high-accuracy": "正类占比 <= 0.1",
    "reweighting-recovers-recall": "任意正类占比",
    "threshold-moving-recovers-recall": "任意正类占比",
}
TEXT_ZH = {
    "Minority recall and accuracy": "少数类召回率与准确率",
    "model": "模型",
    "score": "分数",
    "minority recall": "少数类召回率",
    "accuracy": "准确率",
    "always majority": "总是预测多数类",
    "unweighted, threshold 0.5": "不加权，阈值 0.5",
    "class-weighted, threshold 0.5": "类别加权，阈值 0.5",
    "unweighted, threshold at prior": "不加权，阈值取先验",
    "Results": "结果",
    "precision": "精确率",
    "Share of positive (minority) samples": "正类（少数类）样本占比",
    "Distance between the class means": "两类均值之间的距离",
}


class Params(BaseModel):
    positive_share: float = Field(
        0.05, ge=0.01, le=0.5, description="Share of positive (minority) samples"
    )
    separation: float = Field(2.0, ge=0.5, le=5.0, description="Distance between the class means")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    n = 4000
    y = (torch.rand(n) < params.positive_share).float()
    x = torch.randn(n, 2)
    x[:, 0] += params.separation * y
    x, y = x.to(ctx.device), y.to(ctx.device)
    prior = float(y.mean())

    def fit(weighted: bool) -> torch.Tensor:
        w = torch.zeros(2, device=ctx.device, requires_grad=True)
        b = torch.zeros(1, device=ctx.device, requires_grad=True)
        pos_weight = torch.tensor([(1 - prior) / prior], device=ctx.device) if weighted else None
        opt = torch.optim.LBFGS([w, b], max_iter=100)

        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(
                x @ w + b, y, pos_weight=pos_weight
            )
            loss.backward()
            return loss

        opt.step(closure)
        return torch.sigmoid(x @ w + b).detach()

    def scores(pred: torch.Tensor) -> tuple[float, float, float]:
        tp = float((pred * y).sum())
        recall = tp / max(float(y.sum()), 1.0)
        precision = tp / max(float(pred.sum()), 1.0)
        accuracy = float((pred == y).float().mean())
        return recall, precision, accuracy

    p_plain = fit(False)
    p_weighted = fit(True)
    rows = {
        "always majority": scores(torch.zeros_like(y)),
        "unweighted, threshold 0.5": scores((p_plain > 0.5).float()),
        "class-weighted, threshold 0.5": scores((p_weighted > 0.5).float()),
        "unweighted, threshold at prior": scores((p_plain > prior).float()),
    }
    majority_acc = rows["always majority"][2]
    claims = [
        Claim(
            id="plain-model-misses-minority",
            text=CLAIMS["plain-model-misses-minority"],
            passed=rows["unweighted, threshold 0.5"][0] < 0.5,
            values={"recall": rows["unweighted, threshold 0.5"][0]},
        ),
        Claim(
            id="constant-predictor-has-high-accuracy",
            text=CLAIMS["constant-predictor-has-high-accuracy"],
            passed=majority_acc >= 0.9 and abs(majority_acc - (1 - prior)) < 1e-6,
            values={"accuracy": majority_acc, "majority_share": 1 - prior},
        ),
        Claim(
            id="reweighting-recovers-recall",
            text=CLAIMS["reweighting-recovers-recall"],
            passed=rows["class-weighted, threshold 0.5"][0] > 0.7,
            values={"recall": rows["class-weighted, threshold 0.5"][0]},
        ),
        Claim(
            id="threshold-moving-recovers-recall",
            text=CLAIMS["threshold-moving-recovers-recall"],
            passed=rows["unweighted, threshold at prior"][0] > 0.7,
            values={"recall": rows["unweighted, threshold at prior"][0], "threshold": prior},
        ),
    ]
    names = list(rows)
    chart = Chart(
        id="recall-accuracy",
        title="Minority recall and accuracy",
        kind="bar",
        x_label="model",
        y_label="score",
        categories=names,
        series=[
            Series(name="minority recall", x=[0, 1, 2, 3], y=[rows[k][0] for k in names]),
            Series(name="accuracy", x=[0, 1, 2, 3], y=[rows[k][2] for k in names]),
        ],
    )
    table = Table(
        title="Results",
        columns=["model", "minority recall", "precision", "accuracy"],
        rows=[[k, *rows[k]] for k in names],
    )
    plain_r = rows["unweighted, threshold 0.5"][0]
    weighted_r = rows["class-weighted, threshold 0.5"][0]
    moved_r = rows["unweighted, threshold at prior"][0]
    return DemoResult(
        summary=(
            f"{prior:.1%} positives: minority recall {plain_r:.2f} unweighted, {weighted_r:.2f} "
            f"class-weighted, {moved_r:.2f} with the threshold at the prior; always-majority "
            f"accuracy {majority_acc:.3f}."
        ),
        summary_zh=(
            f"正类占 {prior:.1%}：少数类召回率不加权 {plain_r:.2f}，类别加权 {weighted_r:.2f}，"
            f"阈值取先验 {moved_r:.2f}；总是预测多数类的准确率 {majority_acc:.3f}。"
        ),
        metrics={
            "recall_unweighted": plain_r,
            "recall_weighted": weighted_r,
            "recall_threshold_moved": moved_r,
            "majority_accuracy": majority_acc,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
