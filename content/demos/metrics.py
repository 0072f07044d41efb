"""Accuracy, precision, recall, F1, ROC AUC and average precision on imbalanced data."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Classification metrics under class imbalance"
DESCRIPTION = (
    "Scores negatives from N(0, 1) and positives from N(separation, 1) at the configured positive "
    "rate, computes the threshold metrics, ROC AUC and average precision, and repeats the ranking "
    "metrics at a 50% positive rate with the same score distributions."
)
CLAIMS = {
    "accuracy-misleading-imbalanced": (
        "At the configured positive rate, a model that always predicts 'negative' scores at least "
        "90% accuracy while its recall and F1 are 0."
    ),
    "auc-ignores-prevalence-ap-does-not": (
        "With the same score distributions, ROC AUC at the configured positive rate is within 0.02 "
        "of ROC AUC at a 50% rate, while average precision is more than 0.1 lower."
    ),
}
TITLE_ZH = "类别不平衡下的分类指标"
DESCRIPTION_ZH = (
    "负样本分数取自 N(0, 1)，正样本取自 N(separation, 1)，按所设正样本比例计算阈值类指标、ROC AUC"
    " 和平均精度，并在相同分数分布、50% 正样本比例下重算排序类指标。"
)
CLAIMS_ZH = {
    "accuracy-misleading-imbalanced": (
        "在所设正样本比例下，一个永远预测“负”的模型准确率至少 90%，而召回率和 F1 为 0。"
    ),
    "auc-ignores-prevalence-ap-does-not": (
        "分数分布相同时，所设正样本比例下的 ROC AUC 与 50% 比例下相差不超过 0.02，而平均精度低 0."
        "1 以上。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "accuracy-misleading-imbalanced": "positive_rate <= 0.1 (the default 0.02)",
    "auc-ignores-prevalence-ap-does-not": (
        "positive_rate <= 0.1 with separation between about 1 and 3"
    ),
}
CLAIM_SHOWN_WHEN_ZH = {
    "accuracy-misleading-imbalanced": "positive_rate <= 0.1（默认 0.02）",
    "auc-ignores-prevalence-ap-does-not": "positive_rate <= 0.1 且 separation 大约在 1 到 3 之间",
}
TEXT_ZH = {
    "Fraction of positives": "正样本比例",
    "Distance between the score means of the classes": "两类得分均值之间的距离",
    "Predict positive when score >= threshold": "得分 >= 阈值时预测为正",
    "Number of examples": "样本数",
    "Confusion matrix at the threshold": "该阈值下的混淆矩阵",
    "predicted positive": "预测为正",
    "predicted negative": "预测为负",
    "actual positive": "实际为正",
    "actual negative": "实际为负",
    "Metrics": "指标",
    "metric": "指标",
    "this model": "本模型",
    "always 'negative'": "总是预测“负”",
    "accuracy": "准确率",
    "precision": "精确率",
    "recall": "召回率",
    "F1": "F1",
    "ROC AUC": "ROC AUC",
    "average precision": "平均精确率（AP）",
    "ROC curve": "ROC 曲线",
    "false positive rate": "假正率",
    "true positive rate": "真正率",
    "Precision-recall curve": "精确率-召回率曲线",
    "positive rate 0.5": "正样本比例 0.5",
}


class Params(BaseModel):
    positive_rate: float = Field(0.02, ge=0.005, le=0.5, description="Fraction of positives")
    separation: float = Field(
        2.0, ge=0.0, le=5.0, description="Distance between the score means of the classes"
    )
    threshold: float = Field(
        1.5, ge=-3.0, le=8.0, description="Predict positive when score >= threshold"
    )
    n: int = Field(20000, ge=1000, le=200000, description="Number of examples")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    gen = torch.Generator().manual_seed(ctx.seed)

    def sample(rate: float) -> tuple[torch.Tensor, torch.Tensor]:
        n_pos = max(1, round(params.n * rate))
        y = torch.zeros(params.n, dtype=torch.bool)
        y[:n_pos] = True
        s = (
            torch.randn(params.n, generator=gen, dtype=torch.float64)
            + params.separation * y.double()
        )
        return s.to(device), y.to(device)

    def ranking(s: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
        order = torch.argsort(s, descending=True)
        ys = y[order].double()
        tp = torch.cumsum(ys, 0)
        fp = torch.cumsum(1 - ys, 0)
        n_pos, n_neg = float(tp[-1].item()), float(fp[-1].item())
        tpr = torch.cat([torch.zeros(1, device=device, dtype=torch.float64), tp / n_pos])
        fpr = torch.cat([torch.zeros(1, device=device, dtype=torch.float64), fp / n_neg])
        auc = float(torch.trapezoid(tpr, fpr).item())
        precision = tp / (tp + fp)
        # AP: mean of the precision at the rank of each positive (area under the PR step curve).
        ap = float((precision * ys).sum().item() / n_pos)
        return {
            "auc": auc,
            "ap": ap,
            "tpr": tpr,
            "fpr": fpr,
            "precision": precision,
            "recall": tp / n_pos,
        }

    s, y = sample(params.positive_rate)
    pred = s >= params.threshold
    tp = float((pred & y).sum().item())
    fp = float((pred & ~y).sum().item())
    fn = float((~pred & y).sum().item())
    tn = float((~pred & ~y).sum().item())
    acc = (tp + tn) / params.n
    prec = tp / (tp + fp) if tp + fp > 0 else 0.0
    rec = tp / (tp + fn) if tp + fn > 0 else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
    spec = tn / (tn + fp) if tn + fp > 0 else 0.0
    base_acc = (
        fp + tn
    ) / params.n  # always predict negative: every negative right, every positive wrong
    ctx.progress(0.4, "threshold metrics")

    r = ranking(s, y)
    s_bal, y_bal = sample(0.5)
    rb = ranking(s_bal, y_bal)
    ctx.progress(0.8, "ranking metrics")

    c1 = base_acc >= 0.9
    c2 = abs(float(r["auc"]) - float(rb["auc"])) <= 0.02 and float(rb["ap"]) - float(r["ap"]) > 0.1

    def thin(t: torch.Tensor, k: int = 200) -> list[float]:
        stride = max(1, t.numel() // k)
        return [float(v) for v in t[::stride].tolist()]

    return DemoResult(
        summary_zh=(
            f"正样本比例 {params.positive_rate:.1%}：阈值 {params.threshold:g} 时准确率 {acc:.3f}"
            f"，精确率 {prec:.3f}，召回率 {rec:.3f}，F1 {f1:.3f}。ROC AUC {r['auc']:.3f}（均衡时 "
            f"{rb['auc']:.3f}）；平均精确率 {r['ap']:.3f}（均衡时 {rb['ap']:.3f}）。总是预测为负："
            f"准确率 {base_acc:.3f}。"
        ),
        summary=(
            f"Positive rate {params.positive_rate:.1%}: threshold {params.threshold:g} gives "
            f"accuracy {acc:.3f}, "
            f"precision {prec:.3f}, recall {rec:.3f}, F1 {f1:.3f}. ROC AUC {r['auc']:.3f} "
            "(balanced: "
            f"{rb['auc']:.3f}); average precision {r['ap']:.3f} (balanced: {rb['ap']:.3f}). "
            f"Always predicting negative: accuracy {base_acc:.3f}."
        ),
        metrics={
            "accuracy": acc,
            "precision": prec,
            "recall": rec,
            "f1": f1,
            "specificity": spec,
            "roc_auc": float(r["auc"]),
            "average_precision": float(r["ap"]),
            "roc_auc_balanced": float(rb["auc"]),
            "average_precision_balanced": float(rb["ap"]),
            "all_negative_accuracy": base_acc,
        },
        tables=[
            Table(
                title="Confusion matrix at the threshold",
                columns=["", "predicted positive", "predicted negative"],
                rows=[["actual positive", int(tp), int(fn)], ["actual negative", int(fp), int(tn)]],
            ),
            Table(
                title="Metrics",
                columns=["metric", "this model", "always 'negative'"],
                rows=[
                    ["accuracy", acc, base_acc],
                    ["precision", prec, 0.0],
                    ["recall", rec, 0.0],
                    ["F1", f1, 0.0],
                    ["ROC AUC", float(r["auc"]), 0.5],
                    ["average precision", float(r["ap"]), params.positive_rate],
                ],
            ),
        ],
        charts=[
            Chart(
                id="roc",
                title="ROC curve",
                x_label="false positive rate",
                y_label="true positive rate",
                series=[
                    Series(
                        name=f"positive rate {params.positive_rate:g}",
                        x=thin(r["fpr"]),
                        y=thin(r["tpr"]),
                    ),
                    Series(name="positive rate 0.5", x=thin(rb["fpr"]), y=thin(rb["tpr"])),
                ],
            ),
            Chart(
                id="pr",
                title="Precision-recall curve",
                x_label="recall",
                y_label="precision",
                series=[
                    Series(
                        name=f"positive rate {params.positive_rate:g}",
                        x=thin(r["recall"]),
                        y=thin(r["precision"]),
                    ),
                    Series(name="positive rate 0.5", x=thin(rb["recall"]), y=thin(rb["precision"])),
                ],
            ),
        ],
        claims=[
            Claim(
                id="accuracy-misleading-imbalanced",
                text=CLAIMS["accuracy-misleading-imbalanced"],
                passed=bool(c1),
                values={
                    "all_negative_accuracy": base_acc,
                    "all_negative_recall": 0.0,
                    "model_f1": f1,
                },
            ),
            Claim(
                id="auc-ignores-prevalence-ap-does-not",
                text=CLAIMS["auc-ignores-prevalence-ap-does-not"],
                passed=bool(c2),
                values={
                    "roc_auc": float(r["auc"]),
                    "roc_auc_balanced": float(rb["auc"]),
                    "average_precision": float(r["ap"]),
                    "average_precision_balanced": float(rb["ap"]),
                },
            ),
        ],
    )
