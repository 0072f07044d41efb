"""Clipping gradients by their global norm."""

FUNCTION = "clip_grad_norm"
TITLE = {"en": "Clipping by global norm", "zh": "按全局范数裁剪梯度"}
TASK = {
    "en": "Implement `clip_grad_norm(grads, max_norm, eps=1e-6)` for a list of gradient tensors: the "
    "total L2 norm over ALL of them; if it exceeds max_norm, scale every gradient by "
    "max_norm / (total + eps). Return `(clipped_grads, total_norm)`.",
    "zh": "实现 `clip_grad_norm(grads, max_norm, eps=1e-6)`，grads 为梯度张量列表：计算所有梯度合起来的 L2 范数；若超过 max_norm，所有梯度乘以 max_norm / (total + eps)。返回 `(clipped_grads, total_norm)`。",
}
STARTER = """def clip_grad_norm(grads: list, max_norm: float, eps: float = 1e-6):
    ...
"""
REFERENCE = """def clip_grad_norm(grads: list, max_norm: float, eps: float = 1e-6):
    total = torch.sqrt(sum((g.double() ** 2).sum() for g in grads)).float()
    scale = max_norm / (total + eps)
    if scale < 1:
        grads = [g * scale for g in grads]
    return list(grads), total
"""
WRONG = [
    """def clip_grad_norm(grads, max_norm, eps=1e-6):
    out = []
    for g in grads:
        n = g.norm()
        out.append(g * max_norm / (n + eps) if n > max_norm else g)
    return out, torch.sqrt(sum((g ** 2).sum() for g in grads))
"""
]
HINTS = {
    "en": [
        "One norm for all tensors together.",
        "Every tensor gets the same scale, so the direction is kept.",
    ],
    "zh": ["所有张量合起来算一个范数。", "每个张量乘同一个系数，从而保持方向。"],
}
EXPLANATION = {
    "en": "Clipping by the global norm rescales the whole gradient vector, keeping its direction; "
    "per-tensor clipping changes the direction.",
    "zh": "按全局范数裁剪是对整个梯度向量缩放，方向不变；逐张量裁剪会改变方向。",
}
FORBIDDEN = [
    "torch.nn.utils.clip_grad_norm_",
    "torch.nn.utils.clip_grad_value_",
    "torch.nn.utils.get_total_norm",
]


def cases():
    import torch

    g = torch.Generator().manual_seed(18)
    big = [torch.randn(3, 4, generator=g) * 5, torch.randn(4, generator=g) * 0.1]
    small = [torch.randn(2, generator=g) * 0.01, torch.randn(3, generator=g) * 0.01]
    return [
        ("needs clipping", (big, 1.0)),
        ("already small", (small, 1.0)),
        ("one tensor", ([torch.randn(5, generator=g) * 3], 2.0)),
    ]
