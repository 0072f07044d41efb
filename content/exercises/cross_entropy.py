"""Cross-entropy from logits."""

FUNCTION = "cross_entropy"
TITLE = {"en": "Cross-entropy from logits", "zh": "由 logits 计算交叉熵"}
TASK = {
    "en": "Implement `cross_entropy(logits, target)`: the mean over the batch of "
    "-log softmax(logits)[target], for logits (N, C) and integer targets (N,). Stable for "
    "large logits.",
    "zh": "实现 `cross_entropy(logits, target)`：logits 形状 (N, C)，target 为 (N,) 的整数类别，返回 batch 上 -log softmax(logits)[target] 的均值；对大 logits 保持数值稳定。",
}
STARTER = """def cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    ...
"""
REFERENCE = """def cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    m = logits.amax(dim=1, keepdim=True)
    lse = m.squeeze(1) + (logits - m).exp().sum(dim=1).log()
    picked = logits.gather(1, target.unsqueeze(1)).squeeze(1)
    return (lse - picked).mean()
"""
WRONG = [
    """def cross_entropy(logits, target):
    p = logits.exp() / logits.exp().sum(dim=1, keepdim=True)
    return -p.gather(1, target.unsqueeze(1)).log().mean()
"""
]
HINTS = {
    "en": ["CE = logsumexp(z) - z[target].", "Pick the target logit with `gather`."],
    "zh": ["交叉熵 = logsumexp(z) - z[target]。", "用 `gather` 取出目标类的 logit。"],
}
EXPLANATION = {
    "en": "Writing the loss as logsumexp minus the target logit never forms a probability, so "
    "it neither overflows nor takes log(0).",
    "zh": "把损失写成 logsumexp 减去目标 logit，不显式计算概率，既不溢出也不会 log(0)。",
}
FORBIDDEN = [
    "torch.nn.functional.cross_entropy",
    "torch.nn.functional.nll_loss",
    "torch.nn.functional.log_softmax",
    "torch.log_softmax",
    "torch.Tensor.log_softmax",
    "torch.nn.CrossEntropyLoss",
]
GRAD_ARGS = [0]


def cases():
    import torch

    g = torch.Generator().manual_seed(2)
    return [
        ("random", (torch.randn(8, 5, generator=g), torch.randint(0, 5, (8,), generator=g))),
        ("large logits", (torch.randn(4, 3, generator=g) * 50 + 900, torch.tensor([0, 1, 2, 0]))),
        ("batch of one", (torch.randn(1, 4, generator=g), torch.tensor([3]))),
    ]
