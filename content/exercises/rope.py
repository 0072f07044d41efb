"""Rotary position embedding."""

FUNCTION = "rope"
TITLE = {"en": "Rotary position embedding (RoPE)", "zh": "旋转位置编码（RoPE）"}
TASK = {
    "en": "Implement `rope(x, base=10000.0)` for x (B, T, D), D even: rotate each pair of features "
    "(2i, 2i+1) at position t by the angle t * base^(-2i/D), positions starting at 0.",
    "zh": "实现 `rope(x, base=10000.0)`，x 为 (B, T, D)，D 为偶数：把位置 t 上每对特征 (2i, 2i+1) 旋转角度 t * base^(-2i/D)，位置从 0 开始。",
}
STARTER = """def rope(x, base: float = 10000.0):
    ...
"""
REFERENCE = """def rope(x, base: float = 10000.0):
    _, t, d = x.shape
    inv_freq = base ** (-torch.arange(0, d, 2, dtype=x.dtype) / d)  # (D/2,)
    angle = torch.arange(t, dtype=x.dtype)[:, None] * inv_freq[None, :]  # (T, D/2)
    cos, sin = angle.cos(), angle.sin()
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = x1 * cos - x2 * sin
    out[..., 1::2] = x1 * sin + x2 * cos
    return out
"""
WRONG = [
    """def rope(x, base=10000.0):
    _, t, d = x.shape
    inv_freq = base ** (-torch.arange(0, d, 2, dtype=x.dtype) / d)
    angle = torch.arange(t, dtype=x.dtype)[:, None] * inv_freq[None, :]
    cos, sin = angle.cos(), angle.sin()
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = x1 * cos + x2 * sin
    out[..., 1::2] = -x1 * sin + x2 * cos
    return out
"""
]
HINTS = {
    "en": [
        "Pair i has frequency base^(-2i/D).",
        "A rotation by a: (x1 cos a - x2 sin a, x1 sin a + x2 cos a).",
    ],
    "zh": [
        "第 i 对的频率为 base^(-2i/D)。",
        "旋转角度 a：(x1 cos a - x2 sin a, x1 sin a + x2 cos a)。",
    ],
}
EXPLANATION = {
    "en": "Rotating q and k by position-dependent angles makes q·k depend only on the relative "
    "offset; position 0 is left unchanged.",
    "zh": "按位置旋转 q 和 k 后，q·k 只依赖相对位移；位置 0 保持不变。",
}
GRAD_ARGS = [0]


def cases():
    import torch

    g = torch.Generator().manual_seed(12)
    return [
        ("short", (torch.randn(2, 4, 8, generator=g),)),
        ("long sequence", (torch.randn(1, 64, 16, generator=g),)),
        ("other base", (torch.randn(1, 5, 4, generator=g),), {"base": 100.0}),
    ]
