"""An MLP's backward pass by hand."""

FUNCTION = "mlp_backward"
TITLE = {"en": "MLP backward pass by hand", "zh": "手写 MLP 的反向传播"}
TASK = {
    "en": "For y = relu(x @ w1 + b1) @ w2 + b2, implement `mlp_backward(x, w1, b1, w2, b2, dy)` "
    "returning `(dx, dw1, db1, dw2, db2)` given the upstream gradient dy = dL/dy, without autograd.",
    "zh": "对 y = relu(x @ w1 + b1) @ w2 + b2，实现 `mlp_backward(x, w1, b1, w2, b2, dy)`，给定上游梯度 dy = dL/dy，不用自动求导，返回 `(dx, dw1, db1, dw2, db2)`。",
}
STARTER = """def mlp_backward(x, w1, b1, w2, b2, dy):
    ...
"""
REFERENCE = """def mlp_backward(x, w1, b1, w2, b2, dy):
    pre = x @ w1 + b1
    h = pre.clamp(min=0)
    dw2 = h.T @ dy
    db2 = dy.sum(dim=0)
    dh = dy @ w2.T
    dpre = dh * (pre > 0).to(dh.dtype)
    dw1 = x.T @ dpre
    db1 = dpre.sum(dim=0)
    dx = dpre @ w1.T
    return dx, dw1, db1, dw2, db2
"""
WRONG = [
    """def mlp_backward(x, w1, b1, w2, b2, dy):
    h = (x @ w1 + b1).clamp(min=0)
    dh = dy @ w2.T
    return dh @ w1.T, x.T @ dh, dh.sum(0), h.T @ dy, dy.sum(0)
"""
]
HINTS = {
    "en": [
        "Cache the pre-activation in the forward pass.",
        "ReLU passes the gradient only where its input was positive.",
    ],
    "zh": ["前向时保存激活前的值。", "ReLU 只在输入为正的位置传递梯度。"],
}
EXPLANATION = {
    "en": "Chain rule layer by layer: weight gradients are input^T @ upstream, bias gradients sum "
    "over the batch, and the ReLU multiplies by the mask of positive pre-activations.",
    "zh": "逐层链式法则：权重梯度为 输入^T @ 上游梯度，偏置梯度对 batch 求和，ReLU 乘以激活前为正的掩码。",
}
FORBIDDEN = [
    "torch.autograd.grad",
    "torch.Tensor.backward",
    "torch.autograd.backward",
    "torch.func.grad",
    "torch.func.vjp",
]
ATOL = 1e-4


def cases():
    import torch

    g = torch.Generator().manual_seed(7)

    def case(n, d, h, o):
        return (
            torch.randn(n, d, generator=g),
            torch.randn(d, h, generator=g),
            torch.randn(h, generator=g),
            torch.randn(h, o, generator=g),
            torch.randn(o, generator=g),
            torch.randn(n, o, generator=g),
        )

    return [
        ("small", case(5, 4, 6, 3)),
        ("batch of one", case(1, 3, 4, 2)),
        ("wide", case(8, 10, 16, 4)),
    ]
