"""Binary cross-entropy with logits."""

FUNCTION = "bce_with_logits"
TITLE = {"en": "Binary cross-entropy with logits", "zh": "带 logits 的二元交叉熵"}
TASK = {
    "en": "Implement `bce_with_logits(z, y)`: the mean of -[y log sigmoid(z) + (1 - y) log(1 - "
    "sigmoid(z))], stable for |z| up to 1000.",
    "zh": "实现 `bce_with_logits(z, y)`：返回 -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))] 的均值，|z| 到 1000 时也要稳定。",
}
STARTER = """def bce_with_logits(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    ...
"""
REFERENCE = """def bce_with_logits(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # max(z, 0) - z*y + log(1 + exp(-|z|))
    return (z.clamp(min=0) - z * y + torch.log1p((-z.abs()).exp())).mean()
"""
WRONG = [
    """def bce_with_logits(z, y):
    p = torch.sigmoid(z)
    return -(y * p.log() + (1 - y) * (1 - p).log()).mean()
"""
]
HINTS = {
    "en": [
        "sigmoid(z) rounds to exactly 1 for large z.",
        "Rewrite with max(z, 0) and log1p(exp(-|z|)).",
    ],
    "zh": ["z 很大时 sigmoid(z) 会被舍入成 1。", "改写为 max(z, 0) 与 log1p(exp(-|z|))。"],
}
EXPLANATION = {
    "en": "max(z,0) - z*y + log1p(exp(-|z|)) is the same loss with no exp of a large positive "
    "number and no log of zero.",
    "zh": "max(z,0) - z*y + log1p(exp(-|z|)) 是同一个损失，但不会对大正数取指数，也不会对 0 取对数。",
}
FORBIDDEN = [
    "torch.nn.functional.binary_cross_entropy_with_logits",
    "torch.nn.functional.binary_cross_entropy",
    "torch.nn.BCEWithLogitsLoss",
    "torch.nn.functional.softplus",
]
GRAD_ARGS = [0]


def cases():
    import torch

    g = torch.Generator().manual_seed(3)
    return [
        ("random", (torch.randn(10, generator=g), torch.randint(0, 2, (10,), generator=g).float())),
        (
            "large logits",
            (torch.tensor([1000.0, -1000.0, 40.0, -40.0]), torch.tensor([0.0, 1.0, 0.0, 1.0])),
        ),
        ("soft labels", (torch.randn(2, 3, generator=g), torch.rand(2, 3, generator=g))),
        ("batch of one", (torch.tensor([0.3]), torch.tensor([1.0]))),
    ]
