"""Precision, recall and F1."""

FUNCTION = "precision_recall_f1"
TITLE = {"en": "Precision, recall and F1", "zh": "精确率、召回率与 F1"}
TASK = {
    "en": "Implement `precision_recall_f1(pred, target)` for 0/1 integer tensors of the same shape. "
    "Return three floats; a ratio with a zero denominator is 0.0.",
    "zh": "实现 `precision_recall_f1(pred, target)`，输入为同形状的 0/1 整数张量。返回三个浮点数；分母为 0 的比值记为 0.0。",
}
STARTER = """def precision_recall_f1(pred, target):
    ...
"""
REFERENCE = """def precision_recall_f1(pred, target):
    tp = int(((pred == 1) & (target == 1)).sum())
    fp = int(((pred == 1) & (target == 0)).sum())
    fn = int(((pred == 0) & (target == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return float(precision), float(recall), float(f1)
"""
WRONG = [
    """def precision_recall_f1(pred, target):
    tp = int(((pred == 1) & (target == 1)).sum())
    fp = int(((pred == 1) & (target == 0)).sum())
    fn = int(((pred == 0) & (target == 1)).sum())
    precision = tp / (tp + fn) if tp + fn else 0.0
    recall = tp / (tp + fp) if tp + fp else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
"""
]
HINTS = {
    "en": [
        "Precision asks: of what I flagged, how much was right?",
        "F1 is the harmonic mean of the two.",
    ],
    "zh": ["精确率：我判为正的样本中有多少是对的？", "F1 是两者的调和平均。"],
}
EXPLANATION = {
    "en": "Precision = TP / (TP + FP), recall = TP / (TP + FN); F1 is low when either is low.",
    "zh": "精确率 = TP / (TP + FP)，召回率 = TP / (TP + FN)；任一较低 F1 都会较低。",
}


def cases():
    import torch

    g = torch.Generator().manual_seed(28)
    return [
        (
            "random",
            (torch.randint(0, 2, (20,), generator=g), torch.randint(0, 2, (20,), generator=g)),
        ),
        (
            "many false positives",
            (torch.tensor([1, 1, 1, 1, 0, 0]), torch.tensor([1, 0, 0, 0, 1, 0])),
        ),
        (
            "no positive prediction",
            (torch.zeros(5, dtype=torch.int64), torch.tensor([0, 1, 0, 1, 0])),
        ),
    ]
