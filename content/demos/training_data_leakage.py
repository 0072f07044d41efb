"""Feature selection before cross-validation leaks the labels: pure noise looks predictive."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Data leakage: feature selection outside the folds"
TITLE_ZH = "数据泄漏：在交叉验证折外做特征选择"
DESCRIPTION = (
    "Labels are random and the features are pure noise. The leaky pipeline picks the features "
    "most correlated with the labels on all data, then cross-validates a nearest-centroid "
    "classifier; the correct pipeline picks them inside each training fold."
)
DESCRIPTION_ZH = (
    "标签是随机的，特征是纯噪声。泄漏的流程先在全部数据上挑出与标签最相关的特征，再对最近质心分类"
    "器做"
    "交叉验证；正确的流程在每个训练折内部挑特征。"
)
CLAIMS = {
    "leaky-pipeline-looks-predictive": (
        "Selecting features on all data before cross-validation reports accuracy above 0.7 on "
        "labels that are pure noise."
    ),
    "proper-pipeline-is-chance": (
        "Selecting features inside each training fold reports accuracy within 0.12 of chance (0.5)."
    ),
}
CLAIMS_ZH = {
    "leaky-pipeline-looks-predictive": (
        "在交叉验证之前用全部数据选特征，在纯噪声标签上报告的准确率高于 0.7。"
    ),
    "proper-pipeline-is-chance": (
        "在每个训练折内部选特征，报告的准确率与随机猜测（0.5）相差不到 0.12。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "leaky-pipeline-looks-predictive": "selected features much fewer than noise features",
    "proper-pipeline-is-chance": "any setting",
}
CLAIM_SHOWN_WHEN_ZH = {
    "leaky-pipeline-looks-predictive": "选出的特征远少于噪声特征",
    "proper-pipeline-is-chance": "任意设置",
}
TEXT_ZH = {
    "Cross-validated accuracy on random labels": "随机标签上的交叉验证准确率",
    "pipeline": "流程",
    "accuracy": "准确率",
    "select on all data (leaky)": "在全部数据上选择（泄漏）",
    "select inside folds": "在折内选择",
    "chance": "随机猜测",
    "Accuracy per fold": "每折的准确率",
    "fold": "折",
    "Noise features": "噪声特征数",
    "Features kept by the selection": "选择保留的特征数",
    "Samples": "样本数",
}


class Params(BaseModel):
    features: int = Field(2000, ge=10, le=5000, description="Noise features")
    selected: int = Field(20, ge=1, le=5000, description="Features kept by the selection")
    samples: int = Field(100, ge=20, le=500, description="Samples")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    n, d = params.samples, params.features
    k = min(params.selected, d)
    x = torch.randn(n, d).to(ctx.device)
    y = (torch.rand(n) < 0.5).long().to(ctx.device)
    folds = torch.randperm(n).chunk(5)

    def select(rows: torch.Tensor) -> torch.Tensor:
        """The k features most correlated (in absolute value) with the labels on these rows."""
        xs, ys = x[rows], y[rows].float()
        xc = xs - xs.mean(0)
        yc = ys - ys.mean()
        corr = (xc * yc[:, None]).sum(0) / (xc.norm(dim=0) * yc.norm() + 1e-12)
        return corr.abs().topk(k).indices

    def centroid_accuracy(train: torch.Tensor, test: torch.Tensor, cols: torch.Tensor) -> float:
        xt = x[train][:, cols]
        c0, c1 = xt[y[train] == 0].mean(0), xt[y[train] == 1].mean(0)
        xe = x[test][:, cols]
        pred = ((xe - c1).norm(dim=1) < (xe - c0).norm(dim=1)).long()
        return float((pred == y[test]).float().mean())

    leaky_cols = select(torch.arange(n))
    leaky, proper = [], []
    for i, test in enumerate(folds):
        train = torch.cat([f for j, f in enumerate(folds) if j != i])
        leaky.append(centroid_accuracy(train, test, leaky_cols))
        proper.append(centroid_accuracy(train, test, select(train)))
    leaky_acc, proper_acc = sum(leaky) / 5, sum(proper) / 5

    claims = [
        Claim(
            id="leaky-pipeline-looks-predictive",
            text=CLAIMS["leaky-pipeline-looks-predictive"],
            passed=leaky_acc > 0.7,
            values={"accuracy": leaky_acc},
        ),
        Claim(
            id="proper-pipeline-is-chance",
            text=CLAIMS["proper-pipeline-is-chance"],
            passed=abs(proper_acc - 0.5) <= 0.12,
            values={"accuracy": proper_acc},
        ),
    ]
    names = ["select on all data (leaky)", "select inside folds", "chance"]
    charts = [
        Chart(
            id="accuracy",
            title="Cross-validated accuracy on random labels",
            kind="bar",
            x_label="pipeline",
            y_label="accuracy",
            categories=names,
            series=[Series(name="accuracy", x=[0, 1, 2], y=[leaky_acc, proper_acc, 0.5])],
        )
    ]
    table = Table(
        title="Accuracy per fold",
        columns=["fold", "select on all data (leaky)", "select inside folds"],
        rows=[[i + 1, a, b] for i, (a, b) in enumerate(zip(leaky, proper, strict=True))],
    )
    return DemoResult(
        summary=(
            f"{n} samples, {d} noise features, keep {k}: leaky CV accuracy {leaky_acc:.2f}, "
            f"proper CV accuracy {proper_acc:.2f} (chance 0.5)."
        ),
        summary_zh=(
            f"{n} 个样本、{d} 个噪声特征、保留 {k} 个：泄漏流程的交叉验证准确率 {leaky_acc:.2f}，"
            f"正确流程 {proper_acc:.2f}（随机猜测 0.5）。"
        ),
        metrics={"accuracy_leaky": leaky_acc, "accuracy_proper": proper_acc},
        tables=[table],
        charts=charts,
        claims=claims,
    )
