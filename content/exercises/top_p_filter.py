"""Top-p (nucleus) filtering for sampling."""

FUNCTION = "top_p_probs"
TITLE = {"en": "Top-p (nucleus) sampling distribution", "zh": "top-p（nucleus）采样分布"}
TASK = {
    "en": "Implement `top_p_probs(logits, p)` for logits (B, V): keep the smallest set of most likely "
    "tokens whose probabilities sum to at least p (always at least the top token), zero the rest, "
    "renormalise. No ties in the tests.",
    "zh": "实现 `top_p_probs(logits, p)`，logits 为 (B, V)：保留概率之和至少为 p 的最小高概率 token 集合（至少保留最可能的一个），其余置 0 并重新归一化。测试中没有并列值。",
}
STARTER = """def top_p_probs(logits, p: float):
    ...
"""
REFERENCE = """def top_p_probs(logits, p: float):
    probs = torch.softmax(logits, dim=-1)
    sorted_p, order = probs.sort(dim=-1, descending=True)
    before = sorted_p.cumsum(dim=-1) - sorted_p  # mass of the tokens ranked above
    keep_sorted = before < p
    keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
    kept = probs * keep
    return kept / kept.sum(dim=-1, keepdim=True)
"""
WRONG = [
    """def top_p_probs(logits, p):
    probs = torch.softmax(logits, dim=-1)
    sorted_p, order = probs.sort(dim=-1, descending=True)
    keep_sorted = sorted_p.cumsum(dim=-1) <= p
    keep_sorted[..., 0] = True
    keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
    kept = probs * keep
    return kept / kept.sum(dim=-1, keepdim=True)
"""
]
HINTS = {
    "en": [
        "Sort descending and take the cumulative sum.",
        "Keep a token when the mass ranked ABOVE it is still below p.",
    ],
    "zh": ["降序排序后求累积和。", "当排在它之前的概率和仍小于 p 时保留该 token。"],
}
EXPLANATION = {
    "en": "The token that crosses p belongs to the nucleus; a cumsum <= p test drops it and can "
    "leave less than p of the mass.",
    "zh": "跨过 p 的那个 token 属于核集合；用 cumsum <= p 判断会把它丢掉，保留的概率可能不足 p。",
}


def cases():
    import torch

    g = torch.Generator().manual_seed(21)
    return [
        ("p = 0.9", (torch.randn(2, 10, generator=g) * 2, 0.9)),
        ("p = 0.5", (torch.randn(3, 6, generator=g) * 2, 0.5)),
        ("peaked, batch of one", (torch.tensor([[5.0, 1.0, 0.5, 0.0]]), 0.3)),
    ]
