"""A LoRA linear layer."""

FUNCTION = "lora_linear"
TITLE = {"en": "LoRA linear layer", "zh": "LoRA 线性层"}
TASK = {
    "en": "Implement `lora_linear(x, weight, bias, lora_a, lora_b, alpha)`: a frozen linear layer "
    "x @ weight.T + bias (weight (out, in)) plus a low-rank update with lora_a (r, in) and "
    "lora_b (out, r), scaled by alpha / r.",
    "zh": "实现 `lora_linear(x, weight, bias, lora_a, lora_b, alpha)`：冻结的线性层 x @ weight.T + bias（weight 为 (out, in)）加上由 lora_a (r, in) 和 lora_b (out, r) 构成的低秩更新，缩放系数为 alpha / r。",
}
STARTER = """def lora_linear(x, weight, bias, lora_a, lora_b, alpha: float):
    ...
"""
REFERENCE = """def lora_linear(x, weight, bias, lora_a, lora_b, alpha: float):
    r = lora_a.shape[0]
    return x @ weight.T + bias + (alpha / r) * (x @ lora_a.T) @ lora_b.T
"""
WRONG = [
    """def lora_linear(x, weight, bias, lora_a, lora_b, alpha):
    return x @ weight.T + bias + alpha * (x @ lora_a.T) @ lora_b.T
"""
]
HINTS = {
    "en": [
        "The rank r is lora_a's first dimension.",
        "Never form the full (out, in) update: go through the r-dim bottleneck.",
    ],
    "zh": ["秩 r 是 lora_a 的第一维。", "不要构造完整的 (out, in) 更新，经过 r 维瓶颈计算。"],
}
EXPLANATION = {
    "en": "Scaling by alpha / r keeps the update's size stable when r changes; B starts at zero in "
    "training so the layer starts as the frozen one.",
    "zh": "按 alpha / r 缩放，使改变 r 时更新幅度保持稳定；训练时 B 初始化为 0，层的初始行为与冻结层相同。",
}
GRAD_ARGS = [3, 4]


def cases():
    import torch

    g = torch.Generator().manual_seed(26)

    def case(n, i, o, r):
        return (
            torch.randn(n, i, generator=g),
            torch.randn(o, i, generator=g),
            torch.randn(o, generator=g),
            torch.randn(r, i, generator=g),
            torch.randn(o, r, generator=g),
        )

    return [
        ("rank 4", (*case(3, 8, 5, 4), 8.0)),
        ("rank 1, batch of one", (*case(1, 6, 2, 1), 2.0)),
        ("zero B", (*case(2, 4, 3, 2)[:4], torch.zeros(3, 2), 16.0)),
    ]
