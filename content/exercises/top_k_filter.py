"""Top-k filtering for sampling."""

FUNCTION = "top_k_probs"
TITLE = {"en": "Top-k sampling distribution", "zh": "top-k 采样分布"}
TASK = {
    "en": "Implement `top_k_probs(logits, k, temperature=1.0)` for logits (B, V): the sampling "
    "distribution that keeps the k largest logits (after dividing by the temperature), renormalised; "
    "every other token gets probability 0.",
    "zh": "实现 `top_k_probs(logits, k, temperature=1.0)`，logits 为 (B, V)：先除以温度，只保留最大的 k 个 logit 并重新归一化，其余 token 概率为 0。",
}
STARTER = """def top_k_probs(logits, k: int, temperature: float = 1.0):
    ...
"""
REFERENCE = """def top_k_probs(logits, k: int, temperature: float = 1.0):
    z = logits / temperature
    kth = z.topk(k, dim=-1).values[..., -1:]
    z = z.masked_fill(z < kth, float("-inf"))
    return torch.softmax(z, dim=-1)
"""
WRONG = [
    """def top_k_probs(logits, k, temperature=1.0):
    p = torch.softmax(logits / temperature, dim=-1)
    kth = p.topk(k, dim=-1).values[..., -1:]
    return p.masked_fill(p < kth, 0.0)
"""
]
HINTS = {
    "en": [
        "The k-th largest value is the threshold.",
        "Filter the logits, then take the softmax, so the kept probabilities sum to 1.",
    ],
    "zh": ["第 k 大的值就是阈值。", "先过滤 logits 再做 softmax，保留的概率之和才为 1。"],
}
EXPLANATION = {
    "en": "Setting the other logits to -inf before the softmax removes them and renormalises in one step.",
    "zh": "在 softmax 之前把其余 logit 设为 -inf，一步完成剔除与重新归一化。",
}


def cases():
    import torch

    g = torch.Generator().manual_seed(20)
    return [
        ("k = 3", (torch.randn(2, 10, generator=g), 3)),
        ("k = 1 is greedy", (torch.randn(1, 6, generator=g), 1)),
        ("temperature", (torch.randn(3, 8, generator=g), 4), {"temperature": 0.5}),
    ]
