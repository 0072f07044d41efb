"""Label-smoothed cross-entropy."""

FUNCTION = "label_smoothing_ce"
TITLE = {"en": "Label-smoothed cross-entropy", "zh": "标签平滑（label smoothing）交叉熵"}
TASK = {
    "en": "Implement `label_smoothing_ce(logits, target, eps)` as PyTorch's "
    "`cross_entropy(label_smoothing=eps)`: the target distribution puts 1 - eps on the true "
    "class plus eps / C on EVERY class; return the mean over the batch. Stable for large logits.",
    "zh": "按 PyTorch `cross_entropy(label_smoothing=eps)` 实现 `label_smoothing_ce(logits, target, eps)`：目标分布在真实类别上为 1 - eps，另外给每个类别（包括真实类）eps / C；返回 batch 均值。对大 logits 要稳定。",
}
STARTER = """def label_smoothing_ce(logits, target, eps: float):
    ...
"""
REFERENCE = """def label_smoothing_ce(logits, target, eps: float):
    m = logits.amax(dim=1, keepdim=True)
    logp = logits - m - (logits - m).exp().sum(dim=1, keepdim=True).log()
    nll = -logp.gather(1, target[:, None]).squeeze(1)
    uniform = -logp.mean(dim=1)
    return ((1 - eps) * nll + eps * uniform).mean()
"""
WRONG = [
    """def label_smoothing_ce(logits, target, eps):
    m = logits.amax(dim=1, keepdim=True)
    logp = logits - m - (logits - m).exp().sum(dim=1, keepdim=True).log()
    c = logits.shape[1]
    q = torch.full_like(logp, eps / (c - 1))
    q.scatter_(1, target[:, None], 1 - eps)
    return -(q * logp).sum(dim=1).mean()
"""
]
HINTS = {
    "en": [
        "Split the loss into (1 - eps) * NLL and eps * the mean of -log p over classes.",
        "PyTorch spreads eps over all C classes, the true one included.",
    ],
    "zh": [
        "把损失拆成 (1 - eps) * NLL 与 eps * 各类别 -log p 的均值。",
        "PyTorch 把 eps 分给全部 C 个类别，包括真实类别。",
    ],
}
EXPLANATION = {
    "en": "Smoothing caps how confident the model is rewarded for being; the loss is a mix of the "
    "usual NLL and the cross-entropy against the uniform distribution.",
    "zh": "标签平滑限制了模型因过度自信获得的奖励；损失是普通 NLL 与对均匀分布的交叉熵的加权和。",
}
FORBIDDEN = [
    "torch.nn.functional.cross_entropy",
    "torch.nn.CrossEntropyLoss",
    "torch.nn.functional.nll_loss",
]
GRAD_ARGS = [0]


def cases():
    import torch

    g = torch.Generator().manual_seed(27)
    return [
        ("eps 0.1", (torch.randn(6, 5, generator=g), torch.randint(0, 5, (6,), generator=g), 0.1)),
        ("large logits", (torch.randn(3, 4, generator=g) * 30 + 800, torch.tensor([0, 3, 1]), 0.2)),
        ("eps 0 is plain CE", (torch.randn(2, 3, generator=g), torch.tensor([2, 0]), 0.0)),
    ]
