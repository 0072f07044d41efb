"""One step of incremental decoding with a KV cache."""

FUNCTION = "decode_step"
TITLE = {"en": "Incremental decoding with a KV cache", "zh": "带 KV 缓存的增量解码"}
TASK = {
    "en": "Implement `decode_step(x_t, w_q, w_k, w_v, k_cache, v_cache)` for one new token x_t (B, D), "
    "weights (D, D) used as x @ w, caches (B, T, D) of the previous keys and values (T may be 0). "
    "Return `(out, k_cache, v_cache)`: the new token's single-head attention output (B, D) over "
    "all previous tokens and itself (scaled by 1/sqrt(D)), and the caches with its key and value appended.",
    "zh": "实现 `decode_step(x_t, w_q, w_k, w_v, k_cache, v_cache)`：新 token x_t 形状 (B, D)，权重 (D, D) 以 x @ w 使用，缓存 (B, T, D) 保存之前的键和值（T 可为 0）。返回 `(out, k_cache, v_cache)`：新 token 对之前所有 token 及自身的单头注意力输出 (B, D)（除以 sqrt(D)），以及追加了它的键、值的缓存。",
}
STARTER = """def decode_step(x_t, w_q, w_k, w_v, k_cache, v_cache):
    ...
"""
REFERENCE = """def decode_step(x_t, w_q, w_k, w_v, k_cache, v_cache):
    q = x_t @ w_q
    k_cache = torch.cat([k_cache, (x_t @ w_k)[:, None, :]], dim=1)
    v_cache = torch.cat([v_cache, (x_t @ w_v)[:, None, :]], dim=1)
    scores = (k_cache @ q[:, :, None]).squeeze(-1) / math.sqrt(q.shape[-1])  # (B, T+1)
    weights = torch.softmax(scores, dim=-1)
    out = (weights[:, None, :] @ v_cache).squeeze(1)
    return out, k_cache, v_cache
"""
WRONG = [
    """def decode_step(x_t, w_q, w_k, w_v, k_cache, v_cache):
    q = x_t @ w_q
    scores = (k_cache @ q[:, :, None]).squeeze(-1) / math.sqrt(q.shape[-1])
    out = (torch.softmax(scores, dim=-1)[:, None, :] @ v_cache).squeeze(1)
    k_cache = torch.cat([k_cache, (x_t @ w_k)[:, None, :]], dim=1)
    v_cache = torch.cat([v_cache, (x_t @ w_v)[:, None, :]], dim=1)
    return out, k_cache, v_cache
"""
]
HINTS = {
    "en": [
        "Append the new key and value before attending.",
        "The first step has an empty cache: (B, 0, D).",
    ],
    "zh": ["先追加新的键和值，再做注意力。", "第一步的缓存是空的：(B, 0, D)。"],
}
EXPLANATION = {
    "en": "With the cache, each step computes only the new token's q, k, v; the token must see "
    "itself, so its key and value join the cache before the softmax.",
    "zh": "有了缓存，每步只需计算新 token 的 q、k、v；新 token 必须能看到自己，所以要在 softmax 前把它的键和值加入缓存。",
}
FORBIDDEN = ["torch.nn.functional.scaled_dot_product_attention"]
GRAD_ARGS = [0]


def cases():
    import torch

    g = torch.Generator().manual_seed(13)
    d = 8
    w = [torch.randn(d, d, generator=g) * d**-0.5 for _ in range(3)]
    return [
        (
            "empty cache",
            (torch.randn(2, d, generator=g), *w, torch.zeros(2, 0, d), torch.zeros(2, 0, d)),
        ),
        (
            "three cached tokens",
            (
                torch.randn(2, d, generator=g),
                *w,
                torch.randn(2, 3, d, generator=g),
                torch.randn(2, 3, d, generator=g),
            ),
        ),
        (
            "batch of one",
            (
                torch.randn(1, d, generator=g),
                *w,
                torch.randn(1, 5, d, generator=g),
                torch.randn(1, 5, d, generator=g),
            ),
        ),
    ]
