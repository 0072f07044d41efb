"""Multi-head self-attention."""

FUNCTION = "multi_head_attention"
TITLE = {"en": "Multi-head self-attention", "zh": "多头自注意力"}
TASK = {
    "en": "Implement `multi_head_attention(x, w_q, w_k, w_v, w_o, n_heads, causal)` for x (B, T, D) "
    "and weights (D, D) applied as x @ w: split D into n_heads heads of D / n_heads, attend per "
    "head (causally if `causal`), concatenate the heads and project with w_o.",
    "zh": "实现 `multi_head_attention(x, w_q, w_k, w_v, w_o, n_heads, causal)`：x 为 (B, T, D)，权重 (D, D) 以 x @ w 方式使用；把 D 拆成 n_heads 个 D / n_heads 维的头，逐头做注意力（`causal` 时加因果掩码），拼接后乘 w_o。",
}
STARTER = """def multi_head_attention(x, w_q, w_k, w_v, w_o, n_heads: int, causal: bool):
    ...
"""
REFERENCE = """def multi_head_attention(x, w_q, w_k, w_v, w_o, n_heads: int, causal: bool):
    b, t, d = x.shape
    hd = d // n_heads

    def heads(y):
        return y.reshape(b, t, n_heads, hd).transpose(1, 2)  # (B, H, T, hd)

    q, k, v = heads(x @ w_q), heads(x @ w_k), heads(x @ w_v)
    scores = q @ k.transpose(-2, -1) / math.sqrt(hd)
    if causal:
        keep = torch.tril(torch.ones(t, t, dtype=torch.bool))
        scores = scores.masked_fill(~keep, float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v
    return out.transpose(1, 2).reshape(b, t, d) @ w_o
"""
WRONG = [
    """def multi_head_attention(x, w_q, w_k, w_v, w_o, n_heads, causal):
    b, t, d = x.shape
    hd = d // n_heads
    q, k, v = [(x @ w).reshape(b, n_heads, t, hd) for w in (w_q, w_k, w_v)]
    scores = q @ k.transpose(-2, -1) / math.sqrt(hd)
    if causal:
        keep = torch.tril(torch.ones(t, t, dtype=torch.bool))
        scores = scores.masked_fill(~keep, float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v
    return out.reshape(b, t, d) @ w_o
"""
]
HINTS = {
    "en": [
        "Reshape to (B, T, H, hd), then transpose to (B, H, T, hd).",
        "Undo the transpose before merging the heads.",
    ],
    "zh": ["先 reshape 为 (B, T, H, hd)，再转置成 (B, H, T, hd)。", "合并各头之前先把转置还原。"],
}
EXPLANATION = {
    "en": "Heads split the feature dimension, never the time dimension: reshaping straight to "
    "(B, H, T, hd) mixes tokens across positions.",
    "zh": "多头拆分的是特征维而不是时间维：直接 reshape 成 (B, H, T, hd) 会把不同位置的 token 混在一起。",
}
FORBIDDEN = [
    "torch.nn.functional.scaled_dot_product_attention",
    "torch.nn.functional.multi_head_attention_forward",
    "torch.nn.MultiheadAttention",
]
GRAD_ARGS = [0]
ATOL = 1e-4


def cases():
    import torch

    g = torch.Generator().manual_seed(11)

    def case(b, t, d):
        s = d**-0.5
        return (
            torch.randn(b, t, d, generator=g),
            *(torch.randn(d, d, generator=g) * s for _ in range(4)),
        )

    return [
        ("two heads", (*case(2, 5, 8), 2, False)),
        ("four heads, causal", (*case(2, 6, 16), 4, True)),
        ("batch of one, one token", (*case(1, 1, 8), 2, True)),
    ]
