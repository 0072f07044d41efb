"""Greedy decoding, beam search and the exact best sequence on a toy bigram language model."""

# ruff: noqa: E501  (Chinese strings count double width; splitting them hurts reading)

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Greedy vs beam search vs the exact best sequence"
DESCRIPTION = (
    "Decodes a toy bigram language model from many start tokens with greedy search, beam search "
    "and an exact dynamic program, and compares the sequence log-probabilities and, with an "
    "end-of-sequence token, the lengths beam search picks with and without length normalization."
)
TITLE_ZH = "贪心、束搜索与精确最优序列"
DESCRIPTION_ZH = (
    "在一个玩具二元语言模型上，从多个起始 token 分别用贪心、束搜索和精确动态规划解码，比较序列的对数概率；"
    "再加入结束符，比较有无长度归一化时束搜索选出的长度。"
)
CLAIMS = {
    "beam-beats-greedy": (
        "With the configured beam width, beam search finds a sequence at least as likely as "
        "greedy's from every start token, and strictly more likely on at least a quarter of them."
    ),
    "beam-is-not-exact": (
        "Beam search is still a heuristic: from some start tokens it misses the exact most likely "
        "sequence that dynamic programming finds."
    ),
    "unnormalized-beam-prefers-short": (
        "With an end-of-sequence token, beam search ranking by raw log-probability returns "
        "sequences at most half as long as when it ranks by log-probability per token."
    ),
}
CLAIMS_ZH = {
    "beam-beats-greedy": (
        "在所选束宽下，从每个起始 token 出发，束搜索找到的序列都不比贪心差，并且至少四分之一的起点上严格更好。"
    ),
    "beam-is-not-exact": (
        "束搜索仍是启发式：从某些起始 token 出发，它找不到动态规划得到的精确最优序列。"
    ),
    "unnormalized-beam-prefers-short": (
        "有结束符时，按原始对数概率排序的束搜索返回的序列长度不到按每 token 平均对数概率排序时的一半。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "beam-beats-greedy": "beam_width >= 2",
    "beam-is-not-exact": "beam_width small compared with the vocabulary (e.g. <= 4)",
    "unnormalized-beam-prefers-short": "eos_prob >= 0.05",
}
CLAIM_SHOWN_WHEN_ZH = {
    "beam-beats-greedy": "beam_width >= 2",
    "beam-is-not-exact": "束宽相对词表较小（例如 <= 4）",
    "unnormalized-beam-prefers-short": "eos_prob >= 0.05",
}
TEXT_ZH = {
    "Sequence log-probability per start token": "每个起始 token 的序列对数概率",
    "start token": "起始 token",
    "log p(sequence)": "log p（序列）",
    "greedy": "贪心",
    "beam": "束搜索",
    "exact (dynamic programming)": "精确（动态规划）",
    "Mean over start tokens": "对所有起始 token 取平均",
    "decoder": "解码方式",
    "mean log p": "平均 log p",
    "mean gap to exact": "与精确解的平均差距",
    "found the exact best": "找到精确最优的比例",
    "Length of the returned sequence with an end token": "有结束符时返回序列的长度",
    "length": "长度",
    "raw log-probability": "原始对数概率",
    "log-probability per token": "每 token 平均对数概率",
    "Beam width (1 = greedy)": "束宽（1 即贪心）",
    "Vocabulary size of the toy model": "玩具模型的词表大小",
    "Tokens generated after the start token": "起始 token 之后生成的 token 数",
    "Peakedness of the next-token distributions (Dirichlet concentration; smaller = peakier)": (
        "下一个 token 分布的尖锐程度（Dirichlet 集中参数，越小越尖）"
    ),
    "Probability of the end-of-sequence token at each step, in the length experiment": (
        "长度实验中每一步结束符的概率"
    ),
}


class Params(BaseModel):
    beam_width: int = Field(3, ge=1, le=16, description="Beam width (1 = greedy)")
    vocab: int = Field(24, ge=4, le=64, description="Vocabulary size of the toy model")
    length: int = Field(8, ge=2, le=16, description="Tokens generated after the start token")
    concentration: float = Field(
        0.3,
        ge=0.05,
        le=5.0,
        description=(
            "Peakedness of the next-token distributions (Dirichlet concentration; smaller = peakier)"
        ),
    )
    eos_prob: float = Field(
        0.15,
        ge=0.0,
        le=0.5,
        description=(
            "Probability of the end-of-sequence token at each step, in the length experiment"
        ),
    )


def _beam(
    logp, start: int, width: int, steps: int, eos: int | None, normalize: bool
) -> tuple[list[int], float]:
    """Beam search on a bigram table of log-probabilities; finished beams stop at `eos`."""
    beams: list[tuple[list[int], float]] = [([start], 0.0)]
    finished: list[tuple[list[int], float]] = []
    for _ in range(steps):
        candidates = []
        for seq, score in beams:
            row = logp[seq[-1]]
            for tok in range(row.shape[0]):
                candidates.append((seq + [tok], score + float(row[tok])))
        candidates.sort(key=lambda c: -c[1])
        beams = []
        for seq, score in candidates:
            if eos is not None and seq[-1] == eos:
                finished.append((seq, score))
            else:
                beams.append((seq, score))
            if len(beams) == width:
                break
        if not beams:
            break
    pool = finished + beams

    def rank(item: tuple[list[int], float]) -> float:
        return item[1] / (len(item[0]) - 1) if normalize else item[1]

    best = max(pool, key=rank)
    return best[0], best[1]


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    v = params.vocab
    alpha = torch.full((v, v), params.concentration, dtype=torch.float64)
    probs = torch.distributions.Dirichlet(alpha).sample()
    logp = probs.clamp_min(1e-300).log()

    ctx.progress(0.2, "greedy, beam and exact")
    greedy, beam, exact = [], [], []
    for start in range(v):
        g = [start]
        score = 0.0
        for _ in range(params.length):
            nxt = int(logp[g[-1]].argmax())
            score += float(logp[g[-1], nxt])
            g.append(nxt)
        greedy.append(score)
        beam.append(_beam(logp, start, params.beam_width, params.length, None, False)[1])
        # Viterbi: best[t][j] = best log-prob of a length-t continuation ending in j.
        best = logp[start].clone()
        for _ in range(params.length - 1):
            best = (best[:, None] + logp).max(dim=0).values
        exact.append(float(best.max()))

    tol = 1e-9
    never_worse = all(b >= g - tol for b, g in zip(beam, greedy, strict=True))
    strictly = sum(b > g + tol for b, g in zip(beam, greedy, strict=True))
    beam_exact = sum(abs(b - e) < tol for b, e in zip(beam, exact, strict=True))
    greedy_exact = sum(abs(g - e) < tol for g, e in zip(greedy, exact, strict=True))

    ctx.progress(0.6, "length bias with an end token")
    # Same model plus an end token (index v) with fixed probability eos_prob at every step.
    eos = v
    with_eos = torch.cat(
        [probs * (1 - params.eos_prob), torch.full((v, 1), params.eos_prob, dtype=torch.float64)],
        dim=1,
    )
    with_eos = torch.cat([with_eos, torch.full((1, v + 1), 1.0 / (v + 1), dtype=torch.float64)])
    logp_eos = with_eos.clamp_min(1e-300).log()
    max_steps = 12
    raw_len, norm_len = [], []
    for start in range(v):
        seq, _ = _beam(logp_eos, start, max(params.beam_width, 2), max_steps, eos, False)
        raw_len.append(len(seq) - 1)
        seq, _ = _beam(logp_eos, start, max(params.beam_width, 2), max_steps, eos, True)
        norm_len.append(len(seq) - 1)
    mean_raw = sum(raw_len) / v
    mean_norm = sum(norm_len) / v

    def mean(xs: list[float]) -> float:
        return sum(xs) / len(xs)

    ctx.progress(0.9, "summarizing")
    claims = [
        Claim(
            id="beam-beats-greedy",
            text=CLAIMS["beam-beats-greedy"],
            passed=bool(never_worse and strictly >= v / 4),
            values={
                "beam_width": params.beam_width,
                "starts": v,
                "strictly_better": strictly,
                "never_worse": never_worse,
            },
        ),
        Claim(
            id="beam-is-not-exact",
            text=CLAIMS["beam-is-not-exact"],
            passed=bool(beam_exact < v),
            values={"beam_found_exact": beam_exact, "starts": v},
        ),
        Claim(
            id="unnormalized-beam-prefers-short",
            text=CLAIMS["unnormalized-beam-prefers-short"],
            passed=bool(mean_raw <= 0.5 * mean_norm),
            values={"mean_length_raw": mean_raw, "mean_length_normalized": mean_norm},
        ),
    ]
    starts = [float(s) for s in range(v)]
    return DemoResult(
        summary=(
            f"Beam width {params.beam_width}: mean log p greedy {mean(greedy):.2f}, beam "
            f"{mean(beam):.2f}, exact {mean(exact):.2f}; beam better than greedy from {strictly}/"
            f"{v} starts, exact from {beam_exact}/{v}. With an end token: mean length "
            f"{mean_raw:.1f} (raw) vs {mean_norm:.1f} (per token)."
        ),
        summary_zh=(
            f"束宽 {params.beam_width}：平均 log p 贪心 {mean(greedy):.2f}，束搜索 {mean(beam):.2f}，"
            f"精确 {mean(exact):.2f}；{strictly}/{v} 个起点上束搜索优于贪心，{beam_exact}/{v} "
            f"个起点找到精确最优。有结束符时平均长度 {mean_raw:.1f}（原始）对 {mean_norm:.1f}（每 token）。"
        ),
        metrics={
            "mean_logp_greedy": mean(greedy),
            "mean_logp_beam": mean(beam),
            "mean_logp_exact": mean(exact),
            "beam_strictly_better": strictly,
            "beam_found_exact": beam_exact,
            "greedy_found_exact": greedy_exact,
            "mean_length_raw": mean_raw,
            "mean_length_normalized": mean_norm,
        },
        tables=[
            Table(
                title="Mean over start tokens",
                columns=["decoder", "mean log p", "mean gap to exact", "found the exact best"],
                rows=[
                    ["greedy", mean(greedy), mean(exact) - mean(greedy), greedy_exact / v],
                    [
                        f"beam (width {params.beam_width})",
                        mean(beam),
                        mean(exact) - mean(beam),
                        beam_exact / v,
                    ],
                    ["exact (dynamic programming)", mean(exact), 0.0, 1.0],
                ],
            )
        ],
        charts=[
            Chart(
                id="logp",
                title="Sequence log-probability per start token",
                x_label="start token",
                y_label="log p(sequence)",
                series=[
                    Series(name="greedy", x=starts, y=greedy),
                    Series(name="beam", x=starts, y=beam),
                    Series(name="exact (dynamic programming)", x=starts, y=exact),
                ],
            ),
            Chart(
                id="length",
                title="Length of the returned sequence with an end token",
                x_label="start token",
                y_label="length",
                series=[
                    Series(name="raw log-probability", x=starts, y=[float(n) for n in raw_len]),
                    Series(
                        name="log-probability per token", x=starts, y=[float(n) for n in norm_len]
                    ),
                ],
            ),
        ],
        claims=claims,
    )
