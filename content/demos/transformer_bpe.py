"""Subword tokenizers on a toy corpus: BPE merges, WordPiece's score, unigram Viterbi."""

from __future__ import annotations

import math
from collections import Counter
from itertools import combinations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "A tiny BPE, WordPiece and unigram tokenizer"
TITLE_ZH = "极简 BPE、WordPiece 与 unigram 分词器"
DESCRIPTION = (
    "Learns byte-pair-encoding merges on the classic toy corpus (low x5, lower x2, newest x6, "
    "widest x3), encodes an unseen word, compares WordPiece's first merge, segments words with "
    "a unigram model by Viterbi, and tracks sequence length against vocabulary size."
)
DESCRIPTION_ZH = (
    "在经典玩具语料（low x5、lower x2、newest x6、widest x3）上学习 BPE 合并规则，"
    "切分一个没见过的词，比较 WordPiece 的第一次合并，用 unigram 模型做 Viterbi 切分，"
    "并跟踪词表大小与序列长度的关系。"
)
CLAIMS = {
    "bpe-learns-expected-merges": (
        "BPE's first merges are e+s, es+t, est+</w>, l+o, lo+w, n+e, as in Sennrich et al. (2016)."
    ),
    "unseen-word-uses-subwords": (
        "With the chosen number of merges, the unseen word 'lowest' is encoded as the known "
        "subwords low + est</w>, without an unknown token."
    ),
    "wordpiece-prefers-rare-pairs": (
        "WordPiece's score count(ab) / (count(a) count(b)) picks a different first merge (i+d) "
        "than BPE's raw count (e+s)."
    ),
    "more-merges-shorter-sequences": (
        "Each merge adds one vocabulary entry and never lengthens the encoded corpus."
    ),
    "unigram-viterbi-is-optimal": (
        "Viterbi segmentation under a unigram model finds the same segmentation as an "
        "exhaustive search over all segmentations, for every word tried."
    ),
}
CLAIMS_ZH = {
    "bpe-learns-expected-merges": (
        "BPE 的前几次合并是 e+s、es+t、est+</w>、l+o、lo+w、n+e，与 Sennrich 等人（2016）一致。"
    ),
    "unseen-word-uses-subwords": (
        "在所选合并次数下，没见过的词 lowest 被切成已知子词 low + est</w>，不需要未知词符号。"
    ),
    "wordpiece-prefers-rare-pairs": (
        "WordPiece 的打分 count(ab) / (count(a) count(b)) 选出的第一次合并（i+d）"
        "与 BPE 按频次选的（e+s）不同。"
    ),
    "more-merges-shorter-sequences": "每次合并让词表多一项，编码后的语料不会变长。",
    "unigram-viterbi-is-optimal": (
        "在 unigram 模型下，Viterbi 切分与穷举所有切分得到的结果相同，对每个测试词都成立。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "bpe-learns-expected-merges": "num_merges >= 6 (the six merges must be learned)",
    "wordpiece-prefers-rare-pairs": "always: it does not depend on the parameters",
    "more-merges-shorter-sequences": "always: it does not depend on the parameters",
    "unigram-viterbi-is-optimal": "always: it does not depend on the parameters",
    "unseen-word-uses-subwords": "num_merges >= 5",
}
CLAIM_SHOWN_WHEN_ZH = {
    "bpe-learns-expected-merges": "num_merges >= 6（要学到这六次合并）",
    "wordpiece-prefers-rare-pairs": "总成立：与参数无关",
    "more-merges-shorter-sequences": "总成立：与参数无关",
    "unigram-viterbi-is-optimal": "总成立：与参数无关",
    "unseen-word-uses-subwords": "num_merges >= 5 时",
}
TEXT_ZH = {
    "Corpus length vs vocabulary size": "语料长度随词表大小的变化",
    "vocabulary size": "词表大小",
    "tokens in the corpus": "语料中的 token 数",
    "BPE": "BPE",
    "BPE merges in order": "按顺序的 BPE 合并",
    "step": "步",
    "merge": "合并",
    "pair count": "配对频次",
    "Segmentations": "切分结果",
    "word": "词",
    "tokenizer": "分词器",
    "tokens": "token",
    "Number of BPE merges to learn": "要学习的 BPE 合并次数",
}

CORPUS = {"low": 5, "lower": 2, "newest": 6, "widest": 3}
EXPECTED = [("e", "s"), ("es", "t"), ("est", "</w>"), ("l", "o"), ("lo", "w"), ("n", "e")]
END = "</w>"


class Params(BaseModel):
    num_merges: int = Field(10, ge=0, le=30, description="Number of BPE merges to learn")


def _pair_counts(words: dict[tuple[str, ...], int]) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()  # insertion order breaks ties, as in the paper
    for symbols, freq in words.items():
        for pair in zip(symbols, symbols[1:], strict=False):
            counts[pair] += freq
    return counts


def _merge(symbols: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    out: list[str] = []
    i = 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


def learn_bpe(corpus: dict[str, int], num_merges: int):  # type: ignore[no-untyped-def]
    words = {(*w, END): f for w, f in corpus.items()}
    merges, lengths = [], [sum(len(s) * f for s, f in words.items())]
    for _ in range(num_merges):
        counts = _pair_counts(words)
        if not counts:
            break
        best = max(counts, key=lambda p: counts[p])  # first of the ties in insertion order
        merges.append((best, counts[best]))
        words = {_merge(s, best): f for s, f in words.items()}
        lengths.append(sum(len(s) * f for s, f in words.items()))
    return merges, lengths, words


def encode(word: str, merges) -> list[str]:  # type: ignore[no-untyped-def]
    symbols = (*word, END)
    for pair, _ in merges:  # apply merges in the order they were learned
        symbols = _merge(symbols, pair)
    return list(symbols)


def wordpiece_first_merge(corpus: dict[str, int]) -> tuple[str, str]:
    words = {(*w, END): f for w, f in corpus.items()}
    units: Counter[str] = Counter()
    for symbols, freq in words.items():
        for s in symbols:
            units[s] += freq
    pairs = _pair_counts(words)
    return max(pairs, key=lambda p: pairs[p] / (units[p[0]] * units[p[1]]))


def viterbi(word: str, logp: dict[str, float]) -> list[str]:
    best = [0.0] + [-math.inf] * len(word)
    back = [0] * (len(word) + 1)
    for end in range(1, len(word) + 1):
        for start in range(end):
            piece = word[start:end]
            if piece in logp and best[start] + logp[piece] > best[end]:
                best[end], back[end] = best[start] + logp[piece], start
    pieces, end = [], len(word)
    while end > 0:
        pieces.append(word[back[end] : end])
        end = back[end]
    return pieces[::-1]


def exhaustive(word: str, logp: dict[str, float]) -> list[str]:
    best, best_score = [word], -math.inf
    n = len(word)
    for k in range(n):
        for cuts in combinations(range(1, n), k):
            bounds = [0, *cuts, n]
            pieces = [word[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
            if all(p in logp for p in pieces):
                score = sum(logp[p] for p in pieces)
                if score > best_score:
                    best, best_score = pieces, score
    return best


def run(params: Params, ctx: DemoContext) -> DemoResult:
    merges, lengths, _ = learn_bpe(CORPUS, params.num_merges)
    learned = [pair for pair, _ in merges]
    expected_ok = learned[: len(EXPECTED)] == EXPECTED
    lowest = encode("lowest", merges)
    subword_ok = lowest == ["low", "est" + END]
    wp = wordpiece_first_merge(CORPUS)
    bpe_first = learned[0] if learned else ("", "")
    base_vocab = len({c for w in CORPUS for c in w} | {END})
    vocab_sizes = [base_vocab + i for i in range(len(lengths))]
    monotone = all(b <= a for a, b in zip(lengths, lengths[1:], strict=False))

    # A unigram model whose pieces are the characters and every symbol the 20-merge BPE created,
    # each weighted by its count in the corpus at creation: log p(piece) = log(count / total).
    full_merges, _, _ = learn_bpe(CORPUS, 20)
    piece_counts: Counter[str] = Counter()
    for w, f in CORPUS.items():
        for c in w:
            piece_counts[c] += f
    for (left, right), count in full_merges:
        piece = (left + right).replace(END, "")
        if len(piece) > 1:
            piece_counts[piece] = max(piece_counts[piece], count)
    total = sum(piece_counts.values())
    logp = {p: math.log(c / total) for p, c in piece_counts.items()}
    tests = ["lowest", "newer", "widow", "slowest", "tower"]
    tests = [w for w in tests if all(c in logp for c in w)]
    seg = {w: (viterbi(w, logp), exhaustive(w, logp)) for w in tests}
    viterbi_ok = all(a == b for a, b in seg.values())
    ctx.progress(0.9, "summarizing")

    chart = Chart(
        id="length-vs-vocab",
        title="Corpus length vs vocabulary size",
        x_label="vocabulary size",
        y_label="tokens in the corpus",
        series=[
            Series(name="BPE", x=[float(v) for v in vocab_sizes], y=[float(n) for n in lengths])
        ],
    )
    tables = [
        Table(
            title="BPE merges in order",
            columns=["step", "merge", "pair count"],
            rows=[[i + 1, f"{a} + {b}", c] for i, ((a, b), c) in enumerate(merges)],
        ),
        Table(
            title="Segmentations",
            columns=["word", "tokenizer", "tokens"],
            rows=[["lowest", f"BPE ({params.num_merges} merges)", " ".join(lowest)]]
            + [[w, "unigram Viterbi", " ".join(v)] for w, (v, _) in seg.items()],
        ),
    ]
    claims = [
        Claim(
            id="bpe-learns-expected-merges",
            text=CLAIMS["bpe-learns-expected-merges"],
            passed=bool(expected_ok),
            values={"learned": ", ".join("+".join(p) for p in learned[:6])},
        ),
        Claim(
            id="unseen-word-uses-subwords",
            text=CLAIMS["unseen-word-uses-subwords"],
            passed=bool(subword_ok),
            values={"lowest": " ".join(lowest)},
        ),
        Claim(
            id="wordpiece-prefers-rare-pairs",
            text=CLAIMS["wordpiece-prefers-rare-pairs"],
            passed=bool(wp == ("i", "d") and full_merges[0][0] == ("e", "s")),
            values={"wordpiece_first": "+".join(wp), "bpe_first": "+".join(full_merges[0][0])},
        ),
        Claim(
            id="more-merges-shorter-sequences",
            text=CLAIMS["more-merges-shorter-sequences"],
            passed=bool(monotone),
            values={"tokens_before": lengths[0], "tokens_after": lengths[-1]},
        ),
        Claim(
            id="unigram-viterbi-is-optimal",
            text=CLAIMS["unigram-viterbi-is-optimal"],
            passed=bool(viterbi_ok and len(seg) >= 3),
            values={"words": len(seg)},
        ),
    ]
    return DemoResult(
        summary=(
            f"{len(merges)} merges: first {', '.join('+'.join(p) for p in learned[:4]) or 'none'}; "
            f"'lowest' -> {' '.join(lowest)}; corpus {lengths[0]} -> {lengths[-1]} tokens with "
            f"{vocab_sizes[-1]} vocabulary entries. BPE's first merge {'+'.join(bpe_first)}, "
            f"WordPiece's {'+'.join(wp)}."
        ),
        summary_zh=(
            f"{len(merges)} 次合并：'lowest' -> {' '.join(lowest)}；"
            f"语料从 {lengths[0]} 个 token 变为 {lengths[-1]} 个，词表 {vocab_sizes[-1]} 项。"
            f"BPE 第一次合并 {'+'.join(bpe_first)}，"
            f"WordPiece 为 {'+'.join(wp)}。"
        ),
        metrics={
            "merges": len(merges),
            "corpus_tokens_before": lengths[0],
            "corpus_tokens_after": lengths[-1],
            "vocabulary_size": vocab_sizes[-1],
        },
        tables=tables,
        charts=[chart],
        claims=claims,
    )
