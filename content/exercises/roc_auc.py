"""ROC AUC from scores."""

FUNCTION = "roc_auc"
TITLE = {"en": "ROC AUC from scores", "zh": "由得分计算 ROC AUC"}
TASK = {
    "en": "Implement `roc_auc(scores, labels)`: the probability that a random positive scores higher "
    "than a random negative, counting ties as one half. labels are 0/1; both classes are present. "
    "Return a float.",
    "zh": "实现 `roc_auc(scores, labels)`：随机正样本得分高于随机负样本的概率，并列计 0.5。labels 为 0/1，且两类都存在。返回浮点数。",
}
STARTER = """def roc_auc(scores, labels):
    ...
"""
REFERENCE = """def roc_auc(scores, labels):
    pos = scores[labels == 1]
    neg = scores[labels == 0]
    greater = (pos[:, None] > neg[None, :]).double().sum()
    ties = (pos[:, None] == neg[None, :]).double().sum()
    return float((greater + 0.5 * ties) / (pos.numel() * neg.numel()))
"""
WRONG = [
    """def roc_auc(scores, labels):
    pos = scores[labels == 1]
    neg = scores[labels == 0]
    return float((pos[:, None] > neg[None, :]).double().mean())
"""
]
HINTS = {
    "en": [
        "AUC is a pairwise ranking statistic.",
        "A tie between a positive and a negative counts 0.5.",
    ],
    "zh": ["AUC 是一个成对排序统计量。", "正负样本得分并列计 0.5。"],
}
EXPLANATION = {
    "en": "The area under the ROC curve equals the Mann-Whitney statistic; ties sit on a diagonal "
    "segment of the curve, hence one half.",
    "zh": "ROC 曲线下面积等于 Mann-Whitney 统计量；并列对应曲线上的斜线段，所以计一半。",
}


def cases():
    import torch

    g = torch.Generator().manual_seed(29)
    return [
        ("random", (torch.rand(30, generator=g), torch.tensor([0, 1] * 15))),
        (
            "with ties",
            (torch.tensor([0.1, 0.4, 0.4, 0.8, 0.4, 0.9]), torch.tensor([0, 0, 1, 1, 1, 0])),
        ),
        ("perfect", (torch.tensor([0.1, 0.2, 0.8, 0.9]), torch.tensor([0, 0, 1, 1]))),
    ]
