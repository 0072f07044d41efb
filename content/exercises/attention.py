"""Scaled dot-product attention with a mask."""

FUNCTION = "attention"
TITLE = {"en": "Scaled dot-product attention with a mask", "zh": "带掩码的缩放点积注意力"}
TASK = {
    "en": "Implement `attention(q, k, v, mask=None)` for q (..., Tq, d), k and v (..., Tk, d): "
    "softmax(q k^T / sqrt(d)) v. `mask` is boolean, broadcastable to (..., Tq, Tk); False means "
    "the query may NOT attend to that key.",
    "zh": "实现 `attention(q, k, v, mask=None)`：q 为 (..., Tq, d)，k、v 为 (..., Tk, d)，计算 softmax(q k^T / sqrt(d)) v。`mask` 为布尔张量，可广播到 (..., Tq, Tk)，False 表示该查询不能关注该键。",
}
STARTER = """def attention(q, k, v, mask=None):
    ...
"""
REFERENCE = """def attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v
"""
WRONG = [
    """def attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    return torch.softmax(scores, dim=-1) @ v
""",
    """def attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v
""",
]
HINTS = {
    "en": [
        "Fill masked scores with -inf before the softmax.",
        "Scale by 1 / sqrt(d), d the key dimension.",
    ],
    "zh": ["在 softmax 之前把被掩码的分数填成 -inf。", "除以 sqrt(d)，d 为键的维度。"],
}
EXPLANATION = {
    "en": "-inf scores get exactly zero weight after the softmax, so masked keys (future tokens, "
    "padding) contribute nothing; the 1/sqrt(d) keeps the score variance near 1.",
    "zh": "分数为 -inf 的位置 softmax 后权重恰为 0，被掩码的键（未来 token、padding）不起作用；1/sqrt(d) 让分数方差保持在 1 附近。",
}
FORBIDDEN = [
    "torch.nn.functional.scaled_dot_product_attention",
    "torch.nn.functional.multi_head_attention_forward",
    "torch.nn.MultiheadAttention",
]
GRAD_ARGS = [0, 1, 2]


def cases():
    import torch

    g = torch.Generator().manual_seed(10)
    t = 5
    causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
    return [
        (
            "no mask",
            (
                torch.randn(2, 4, 8, generator=g),
                torch.randn(2, 6, 8, generator=g),
                torch.randn(2, 6, 8, generator=g),
            ),
        ),
        (
            "causal mask",
            (
                torch.randn(2, t, 16, generator=g),
                torch.randn(2, t, 16, generator=g),
                torch.randn(2, t, 16, generator=g),
                causal,
            ),
        ),
        (
            "padding mask, batch of one",
            (
                torch.randn(1, 3, 4, generator=g),
                torch.randn(1, 4, 4, generator=g),
                torch.randn(1, 4, 4, generator=g),
                torch.tensor([[[True, True, False, False]]]),
            ),
        ),
    ]
