"""Inverted dropout."""

FUNCTION = "dropout"
TITLE = {"en": "Inverted dropout", "zh": "反向缩放的 dropout（inverted dropout）"}
TASK = {
    "en": "Implement `dropout(x, p, u, training)`. `u` holds uniform samples in [0, 1) of x's shape; "
    "keep an element where u >= p. In training, scale kept elements so the expectation is "
    "unchanged; in eval return x as it is.",
    "zh": "实现 `dropout(x, p, u, training)`。`u` 是与 x 同形状、[0, 1) 上的均匀样本；u >= p 的元素保留。训练时对保留元素缩放使期望不变；推理时原样返回 x。",
}
STARTER = """def dropout(x, p: float, u, training: bool):
    ...
"""
REFERENCE = """def dropout(x, p: float, u, training: bool):
    if not training or p == 0:
        return x
    keep = (u >= p).to(x.dtype)
    return x * keep / (1 - p)
"""
WRONG = [
    """def dropout(x, p, u, training):
    if not training:
        return x
    return x * (u >= p).to(x.dtype)
""",
    """def dropout(x, p, u, training):
    return x * (u >= p).to(x.dtype) / (1 - p)
""",
]
HINTS = {
    "en": ["Which of train and eval carries the 1 / (1 - p)?", "Eval is the identity."],
    "zh": ["1 / (1 - p) 应该放在训练还是推理？", "推理时是恒等映射。"],
}
EXPLANATION = {
    "en": "Scaling by 1 / (1 - p) at training time keeps E[output] = x, so inference needs no change.",
    "zh": "训练时乘以 1 / (1 - p) 使输出期望等于 x，推理时无需任何改动。",
}
FORBIDDEN = ["torch.nn.functional.dropout", "torch.dropout", "torch.nn.Dropout"]
GRAD_ARGS = [0]


def cases():
    import torch

    g = torch.Generator().manual_seed(6)
    x = torch.randn(4, 5, generator=g)
    u = torch.rand(4, 5, generator=g)
    return [
        ("training p=0.5", (x, 0.5, u, True)),
        ("training p=0.1", (x, 0.1, u, True)),
        ("eval", (x, 0.5, u, False)),
        ("batch of one", (x[:1], 0.3, u[:1], True)),
    ]
