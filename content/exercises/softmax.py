"""Numerically stable softmax."""

FUNCTION = "softmax"
TITLE = {"en": "Stable softmax", "zh": "数值稳定的 softmax"}
TASK = {
    "en": "Implement `softmax(x, dim=-1)`: exp(x) / sum(exp(x)) along `dim`, without overflow "
    "for large logits (e.g. 1000).",
    "zh": "实现 `softmax(x, dim=-1)`：沿 `dim` 计算 exp(x) / sum(exp(x))，对很大的 logits（如 1000）也不能溢出。",
}
STARTER = """def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    ...
"""
REFERENCE = """def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    z = x - x.amax(dim=dim, keepdim=True)
    e = z.exp()
    return e / e.sum(dim=dim, keepdim=True)
"""
WRONG = [
    """def softmax(x, dim=-1):
    e = x.exp()
    return e / e.sum(dim=dim, keepdim=True)
"""
]
HINTS = {
    "en": ["softmax(x) = softmax(x - c) for any constant c.", "Subtract the max along `dim`."],
    "zh": ["对任意常数 c，softmax(x) = softmax(x - c)。", "沿 `dim` 减去最大值。"],
}
EXPLANATION = {
    "en": "Subtracting the row max makes the largest exponent exp(0) = 1, so nothing overflows "
    "and the result is unchanged.",
    "zh": "减去每行最大值后最大的指数是 exp(0) = 1，不会溢出，结果不变。",
}
FORBIDDEN = ["torch.softmax", "torch.nn.functional.softmax", "torch.Tensor.softmax"]
GRAD_ARGS = [0]


def cases():
    import torch

    g = torch.Generator().manual_seed(0)
    return [
        ("random logits", (torch.randn(4, 10, generator=g),)),
        ("large logits", (torch.randn(3, 5, generator=g) * 10 + 1000,)),
        ("batch of one", (torch.randn(1, 7, generator=g),)),
        ("along dim 0", (torch.randn(5, 3, generator=g),), {"dim": 0}),
    ]
