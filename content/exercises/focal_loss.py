"""Binary focal loss."""

FUNCTION = "focal_loss"
TITLE = {"en": "Focal loss", "zh": "Focal loss"}
TASK = {
    "en": "Implement `focal_loss(logits, targets, alpha=0.25, gamma=2.0)` (binary, mean over elements): "
    "with p_t the probability of the true class and alpha_t = alpha for positives, 1 - alpha for "
    "negatives, loss = -alpha_t (1 - p_t)^gamma log(p_t). Stable for large logits.",
    "zh": "实现二分类 `focal_loss(logits, targets, alpha=0.25, gamma=2.0)`（对元素取均值）：p_t 为真实类别的概率，正样本 alpha_t = alpha，负样本为 1 - alpha，损失 = -alpha_t (1 - p_t)^gamma log(p_t)。对大 logits 要稳定。",
}
STARTER = """def focal_loss(logits, targets, alpha: float = 0.25, gamma: float = 2.0):
    ...
"""
REFERENCE = """def focal_loss(logits, targets, alpha: float = 0.25, gamma: float = 2.0):
    # -log(p_t), computed stably from the logits
    ce = logits.clamp(min=0) - logits * targets + torch.log1p((-logits.abs()).exp())
    p = torch.sigmoid(logits)
    p_t = p * targets + (1 - p) * (1 - targets)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return (alpha_t * (1 - p_t) ** gamma * ce).mean()
"""
WRONG = [
    """def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    ce = logits.clamp(min=0) - logits * targets + torch.log1p((-logits.abs()).exp())
    p = torch.sigmoid(logits)
    p_t = p * targets + (1 - p) * (1 - targets)
    return (alpha * (1 - p_t) ** gamma * ce).mean()
"""
]
HINTS = {
    "en": [
        "alpha weights positives, 1 - alpha weights negatives.",
        "Reuse a stable BCE-with-logits for -log(p_t).",
    ],
    "zh": ["alpha 加权正样本，1 - alpha 加权负样本。", "-log(p_t) 用稳定的带 logits 的 BCE 计算。"],
}
EXPLANATION = {
    "en": "(1 - p_t)^gamma down-weights easy examples; alpha_t rebalances positives against the "
    "many negatives.",
    "zh": "(1 - p_t)^gamma 降低易分样本的权重；alpha_t 平衡少量正样本与大量负样本。",
}
GRAD_ARGS = [0]


def cases():
    import torch

    g = torch.Generator().manual_seed(25)
    return [
        (
            "random",
            (torch.randn(12, generator=g) * 2, torch.randint(0, 2, (12,), generator=g).float()),
        ),
        (
            "large logits",
            (torch.tensor([200.0, -200.0, 30.0, -30.0]), torch.tensor([1.0, 0.0, 0.0, 1.0])),
        ),
        (
            "gamma 0",
            (torch.randn(6, generator=g), torch.randint(0, 2, (6,), generator=g).float()),
            {"gamma": 0.0, "alpha": 0.5},
        ),
    ]
