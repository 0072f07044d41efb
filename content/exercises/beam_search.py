"""Beam search over a fixed bigram model."""

FUNCTION = "beam_search"
TITLE = {"en": "Beam search", "zh": "束搜索（beam search）"}
TASK = {
    "en": "Implement `beam_search(start_logp, trans_logp, beam, steps)`: start_logp (V,) holds log "
    "P(first token), trans_logp (V, V) holds log P(next | previous). Keep the `beam` best partial "
    "sequences by total log-probability at each step; after `steps` tokens return `(tokens, score)` "
    "of the best sequence as a list of ints and a float. Ties do not occur in the tests.",
    "zh": "实现 `beam_search(start_logp, trans_logp, beam, steps)`：start_logp (V,) 为首个 token 的对数概率，trans_logp (V, V) 为 log P(下一个 | 上一个)。每一步按总对数概率保留 `beam` 个最佳部分序列；生成 `steps` 个 token 后返回最佳序列的 `(tokens, score)`（整数列表和浮点数）。测试中无并列。",
}
STARTER = """def beam_search(start_logp, trans_logp, beam: int, steps: int):
    ...
"""
REFERENCE = """def beam_search(start_logp, trans_logp, beam: int, steps: int):
    beams = [([int(t)], float(start_logp[t])) for t in range(start_logp.shape[0])]
    beams = sorted(beams, key=lambda b: -b[1])[:beam]
    for _ in range(steps - 1):
        grown = []
        for tokens, score in beams:
            row = trans_logp[tokens[-1]]
            for t in range(row.shape[0]):
                grown.append((tokens + [t], score + float(row[t])))
        beams = sorted(grown, key=lambda b: -b[1])[:beam]
    return beams[0][0], beams[0][1]
"""
WRONG = [
    """def beam_search(start_logp, trans_logp, beam, steps):
    tokens = [int(start_logp.argmax())]
    score = float(start_logp.max())
    for _ in range(steps - 1):
        row = trans_logp[tokens[-1]]
        tokens.append(int(row.argmax()))
        score += float(row.max())
    return tokens, score
"""
]
HINTS = {
    "en": [
        "Expand every beam by every token, then keep the best `beam` overall.",
        "Scores add in log space.",
    ],
    "zh": ["把每个 beam 用每个 token 扩展，再整体保留最好的 `beam` 个。", "对数空间中分数相加。"],
}
EXPLANATION = {
    "en": "Greedy decoding commits to the best first token; a wider beam keeps a slightly worse "
    "prefix alive when it leads to a much better continuation.",
    "zh": "贪心解码一开始就锁定最优的首 token；更宽的 beam 会保留稍差但后续更好的前缀。",
}
ATOL = 1e-4


def cases():
    import torch

    g = torch.Generator().manual_seed(22)
    # Token 0 looks best first but leads only to poor continuations.
    start = torch.log(torch.tensor([0.5, 0.4, 0.1]))
    trans = torch.log(torch.tensor([[0.34, 0.33, 0.33], [0.05, 0.9, 0.05], [0.3, 0.3, 0.4]]))
    rand_start = torch.log_softmax(torch.randn(6, generator=g), dim=0)
    rand_trans = torch.log_softmax(torch.randn(6, 6, generator=g) * 2, dim=1)
    return [
        ("greedy trap, beam 2", (start, trans, 2, 3)),
        ("random model, beam 3", (rand_start, rand_trans, 3, 4)),
        ("beam of one", (rand_start, rand_trans, 1, 3)),
    ]
