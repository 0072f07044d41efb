"""SGD with momentum, as torch.optim.SGD."""

FUNCTION = "sgd_momentum_step"
TITLE = {"en": "SGD with momentum", "zh": "带动量（momentum）的 SGD"}
TASK = {
    "en": "Implement one step `sgd_momentum_step(param, grad, buf, lr, momentum, weight_decay=0.0)` "
    "as torch.optim.SGD does: g = grad + weight_decay * param; buf = momentum * buf + g (buf is "
    "None at the first step: then buf = g); param = param - lr * buf. Return `(param, buf)`.",
    "zh": "按 torch.optim.SGD 实现一步 `sgd_momentum_step(param, grad, buf, lr, momentum, weight_decay=0.0)`：g = grad + weight_decay * param；buf = momentum * buf + g（第一步 buf 为 None，此时 buf = g）；param = param - lr * buf。返回 `(param, buf)`。",
}
STARTER = """def sgd_momentum_step(param, grad, buf, lr: float, momentum: float, weight_decay: float = 0.0):
    ...
"""
REFERENCE = """def sgd_momentum_step(param, grad, buf, lr: float, momentum: float, weight_decay: float = 0.0):
    g = grad + weight_decay * param
    buf = g.clone() if buf is None else momentum * buf + g
    return param - lr * buf, buf
"""
WRONG = [
    """def sgd_momentum_step(param, grad, buf, lr, momentum, weight_decay=0.0):
    g = grad + weight_decay * param
    if buf is None:
        buf = torch.zeros_like(g)
    buf = momentum * buf + (1 - momentum) * g
    return param - lr * buf, buf
"""
]
HINTS = {
    "en": [
        "PyTorch does not damp the gradient by (1 - momentum).",
        "The first buffer is the gradient itself.",
    ],
    "zh": ["PyTorch 不会把梯度乘以 (1 - momentum)。", "第一步的缓冲就是梯度本身。"],
}
EXPLANATION = {
    "en": "The buffer is a running sum of past gradients with decay `momentum`; along a constant "
    "gradient the step grows towards lr / (1 - momentum) times the gradient.",
    "zh": "缓冲是以 `momentum` 衰减的历史梯度之和；梯度恒定时步长趋近 lr / (1 - momentum) 倍梯度。",
}
FORBIDDEN = ["torch.optim.SGD", "torch.optim.sgd.sgd"]


def cases():
    import torch

    g = torch.Generator().manual_seed(16)
    p, gr, b = torch.randn(5, generator=g), torch.randn(5, generator=g), torch.randn(5, generator=g)
    return [
        ("first step", (p, gr, None, 0.1, 0.9)),
        ("later step", (p, gr, b, 0.1, 0.9)),
        ("weight decay", (p, gr, b, 0.05, 0.5), {"weight_decay": 0.01}),
    ]
