"""One Adam step with bias correction."""

FUNCTION = "adam_step"
TITLE = {"en": "Adam with bias correction", "zh": "带偏差修正的 Adam"}
TASK = {
    "en": "Implement `adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)` "
    "for step t (1-based): update the moments, correct their bias, take the step. Return "
    "`(param, m, v)`.",
    "zh": "实现 `adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)`，t 从 1 开始：更新一阶、二阶矩，做偏差修正，再更新参数。返回 `(param, m, v)`。",
}
STARTER = """def adam_step(param, grad, m, v, t: int, lr: float = 1e-3, beta1: float = 0.9,
              beta2: float = 0.999, eps: float = 1e-8):
    ...
"""
REFERENCE = """def adam_step(param, grad, m, v, t: int, lr: float = 1e-3, beta1: float = 0.9,
              beta2: float = 0.999, eps: float = 1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return param - lr * m_hat / (v_hat.sqrt() + eps), m, v
"""
WRONG = [
    """def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    return param - lr * m / (v.sqrt() + eps), m, v
"""
]
HINTS = {
    "en": ["m and v start at zero, so early averages are too small.", "Divide by 1 - beta^t."],
    "zh": ["m 和 v 从 0 开始，早期的平均值偏小。", "除以 1 - beta^t。"],
}
EXPLANATION = {
    "en": "At step 1 the corrected step is lr * sign(g) (about); without correction it is "
    "lr * 0.1 / sqrt(0.001), over 3x too large.",
    "zh": "第 1 步修正后的步长约为 lr * sign(g)；不修正时是 lr * 0.1 / sqrt(0.001)，大了 3 倍多。",
}
FORBIDDEN = ["torch.optim.Adam", "torch.optim.AdamW", "torch.optim.adam.adam"]
ATOL = 1e-6


def cases():
    import torch

    g = torch.Generator().manual_seed(17)
    p, gr = torch.randn(6, generator=g), torch.randn(6, generator=g)
    m, v = torch.randn(6, generator=g) * 0.1, torch.rand(6, generator=g) * 0.01
    return [
        ("step 1", (p, gr, torch.zeros(6), torch.zeros(6), 1)),
        ("step 10", (p, gr, m, v, 10), {"lr": 0.01}),
        ("step 1000", (p, gr, m, v, 1000)),
    ]
