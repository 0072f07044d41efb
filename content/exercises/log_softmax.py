"""Numerically stable log-softmax."""

FUNCTION = "log_softmax"
TITLE = {"en": "Stable log-softmax", "zh": "数值稳定的 log-softmax"}
TASK = {
    "en": "Implement `log_softmax(x, dim=-1)` = x - log(sum(exp(x))) along `dim`; it must stay "
    "finite when one logit is far below the others.",
    "zh": "实现 `log_softmax(x, dim=-1)` = x - log(sum(exp(x)))；当某个 logit 远小于其他值时结果也必须有限。",
}
STARTER = """def log_softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    ...
"""
REFERENCE = """def log_softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    m = x.amax(dim=dim, keepdim=True)
    return x - m - (x - m).exp().sum(dim=dim, keepdim=True).log()
"""
WRONG = [
    """def log_softmax(x, dim=-1):
    z = (x - x.amax(dim=dim, keepdim=True)).exp()
    return (z / z.sum(dim=dim, keepdim=True)).log()
"""
]
HINTS = {
    "en": [
        "Taking log of a softmax underflows to log(0).",
        "Use the log-sum-exp trick with the max.",
    ],
    "zh": ["对 softmax 取 log 会下溢成 log(0)。", "用减去最大值的 log-sum-exp 技巧。"],
}
EXPLANATION = {
    "en": "log softmax(x) = x - m - log sum exp(x - m) with m the max: no exp overflows and no "
    "tiny probability is rounded to zero before the log.",
    "zh": "log softmax(x) = x - m - log sum exp(x - m)，m 为最大值：指数不溢出，也不会先把极小概率舍入为 0 再取 log。",
}
FORBIDDEN = [
    "torch.log_softmax",
    "torch.nn.functional.log_softmax",
    "torch.Tensor.log_softmax",
    "torch.logsumexp",
    "torch.Tensor.logsumexp",
]
GRAD_ARGS = [0]


def cases():
    import torch

    g = torch.Generator().manual_seed(1)
    return [
        ("random logits", (torch.randn(4, 6, generator=g),)),
        ("one logit far below", (torch.tensor([[0.0, -1000.0, 1.0]]),)),
        ("large logits", (torch.randn(2, 5, generator=g) + 500,)),
        ("batch of one", (torch.randn(1, 3, generator=g),)),
    ]
