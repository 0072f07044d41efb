"""Key-point matching: which key points a typed answer already covers.

Pure text work, no model: both texts are normalised (NFKC, lowercase, punctuation
dropped, synonyms folded to one canonical term, English words stemmed, runs of Chinese
characters cut into overlapping bigrams), and a key point counts as covered when the
answer holds at least ``THRESHOLD`` of its terms. The shared synonym table folds
abbreviations, spellings and the Chinese names of the same idea together
("bn" = "batchnorm" = "batch normalization" = "批归一化"), so an English answer can cover a
Chinese key point and the other way round. A key point may also carry its own
``keywords`` (a list of strings): then it is covered when one keyword group matches.

The result only pre-ticks the checklist; the learner confirms or corrects it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

THRESHOLD = 0.5  # share of a key point's terms the answer must hold

# Each group is one idea; the first entry names it. Phrases are matched on word
# boundaries (English) or as substrings (Chinese), longest first.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("batchnorm", "bn", "batch normalization", "batch normalisation", "batch norm",
     "批归一化", "批量归一化", "批标准化", "批量标准化"),
    ("layernorm", "ln", "layer normalization", "layer normalisation", "layer norm", "层归一化"),
    ("normalization", "normalisation", "normalize", "normalise", "normalizes", "normalises",
     "normalized", "normalised", "normalizing", "normalising", "归一化", "标准化"),
    ("relu", "rectified linear unit", "rectifier", "线性整流"),
    ("sgd", "stochastic gradient descent", "随机梯度下降"),
    ("gd", "gradient descent", "梯度下降"),
    ("vanishing gradient", "vanishing gradients", "gradients vanish", "gradient vanishes",
     "梯度消失"),
    ("exploding gradient", "exploding gradients", "gradients explode", "梯度爆炸"),
    ("gradient", "gradients", "grad", "梯度"),
    ("learning rate", "lr", "step size", "学习率", "步长"),
    ("overfitting", "overfit", "overfits", "过拟合"),
    ("underfitting", "underfit", "欠拟合"),
    ("regularization", "regularisation", "regularizer", "正则化", "正则"),
    ("weight decay", "权重衰减"),
    ("dropout", "丢弃法", "随机失活"),
    ("saddle point", "saddle points", "saddle", "saddles", "鞍点"),
    ("local minimum", "local minima", "局部极小值", "局部最小值", "局部最优"),
    ("global minimum", "global minima", "全局最小值", "全局最优"),
    ("hessian", "海森矩阵", "海森", "黑塞矩阵"),
    ("eigenvalue", "eigenvalues", "特征值"),
    ("curvature", "曲率"),
    ("noise", "noisy", "噪声", "噪音"),
    ("momentum", "动量"),
    ("loss", "损失", "损失函数"),
    ("attention", "注意力"),
    ("convolution", "conv", "convolutional", "卷积"),
    ("activation", "activations", "激活函数", "激活"),
    ("backpropagation", "backprop", "back propagation", "反向传播"),
    ("chain rule", "链式法则"),
    ("variance", "方差"),
    ("bias", "偏差", "偏置"),
    ("sigmoid", "logistic function", "s型函数"),
    ("cross entropy", "cross-entropy", "交叉熵"),
    ("initialization", "initialisation", "init", "初始化"),
    ("residual connection", "skip connection", "residual", "shortcut", "残差连接", "残差"),
    ("precision", "精确率", "查准率", "精度"),
    ("recall", "召回率", "查全率"),
    ("convergence", "converge", "converges", "收敛"),
    ("generalization", "generalisation", "generalize", "generalise", "泛化"),
    ("training set", "train set", "训练集"),
    ("validation set", "validation", "dev set", "验证集"),
    ("test set", "测试集"),
    ("mini batch", "minibatch", "mini-batch", "小批量"),
    ("batch size", "批大小", "批量大小"),
    ("parameter", "parameters", "params", "参数"),
    ("weight", "weights", "权重"),
    ("layer", "layers", "层"),
    ("distribution", "分布"),
    ("mean", "average", "均值", "平均"),
    ("inference", "eval mode", "test time", "推理"),
    ("training", "train", "训练"),
    ("high dimension", "high dimensional", "high-dimensional", "高维"),
    ("escape", "escapes", "逃离", "逃出"),
    ("slow", "slowly", "slows", "慢", "缓慢"),
    ("plateau", "plateaus", "平台"),
    ("ema", "exponential moving average", "exponentially weighted average",
     "exponentially weighted moving average", "exponentially decaying average",
     "moving average", "running average", "running mean", "decaying average",
     "指数加权平均", "指数移动平均", "指数加权", "滑动平均", "移动平均"),
    ("squared gradient", "squared gradients", "gradient squared", "gradients squared",
     "square of the gradient", "squares of the gradients", "梯度平方", "平方梯度", "梯度的平方"),
    # "Per parameter" (an optimizer's own step for each weight) is not "element-wise"
    # (an operation on matching entries): one group would match RMSprop to tensor ops.
    ("per parameter", "per-parameter", "each parameter", "every parameter", "each weight",
     "every weight", "per weight", "per coordinate", "每个参数", "逐参数"),
    ("element wise", "elementwise", "逐元素"),
    ("precondition", "preconditioner", "preconditioning", "preconditioned", "预条件"),
    ("oscillation", "oscillations", "oscillate", "oscillates", "oscillating", "zigzag",
     "zig-zag", "bounce", "bounces", "震荡", "振荡", "来回"),
    ("accumulate", "accumulates", "accumulated", "accumulating", "build up", "builds up",
     "累积", "累加", "积累"),
    ("velocity", "速度"),
    ("ill conditioned", "ill-conditioned", "poorly conditioned", "condition number",
     "病态", "条件数"),
    ("bias correction", "bias-corrected", "bias corrected", "debias", "偏差修正", "偏差校正"),
    ("first moment", "一阶矩"),
    ("second moment", "二阶矩"),
    ("overshoot", "overshoots", "overshooting", "冲过头", "越过"),
    ("cancel", "cancels", "cancel out", "cancels out", "抵消"),
    ("square root", "sqrt", "root mean square", "rms", "平方根", "均方根"),
)  # fmt: skip

_STOPWORD_TEXT = (
    "a an the and or of to in on at by for with from as is are was were be been being it "
    "its this that these those there their they them than then so such not no but if into "
    "out over under up down can could may might must should would will do does did done "
    "has have had having i you we he she our your my me us which who whom what when where "
    "why how also just very more most less much many each any all some one two per via "
    "e g eg ie etc about because while only both either neither"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# Chinese function characters: a bigram holding one of them carries little meaning.
CJK_STOP = frozenset("的了是在和与及或也就都而一个这那要会让得地着把被对为以从其之中上下")

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
_TOKEN_RE = re.compile(f"[{_CJK}]+|[a-z0-9]+(?:\\.[0-9]+)?")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[$\\{}^_]", " ", text)  # TeX markup around math
    return re.sub(r"[^\w\s.]|(?<!\d)\.|\.(?!\d)", " ", text)


def _phrase_pattern(phrase: str) -> str:
    folded = _fold(phrase).strip()
    words = [re.escape(w) for w in folded.split()]
    body = r"\s+".join(words)
    if _CJK_RE.search(folded):
        return body
    return rf"(?<![a-z0-9]){body}(?:e?s)?(?![a-z0-9])"  # plurals too


def _build_synonyms() -> list[tuple[re.Pattern[str], str]]:
    pairs = []
    for group in SYNONYMS:
        canon = "⟦" + re.sub(r"\W+", "_", group[0]) + "⟧"
        for phrase in group:
            pairs.append((phrase, canon))
    pairs.sort(key=lambda pair: -len(_fold(pair[0]).strip()))
    return [(re.compile(_phrase_pattern(p)), c) for p, c in pairs]


_SYNONYM_PATTERNS = _build_synonyms()
_CANON_RE = re.compile(r"⟦\w+⟧")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English stemmer (plural, -ing, -ed, -ly, -ation): enough that
    "normalizing", "normalized" and "normalizes" meet."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, replacement in (
        ("ational", "ate"), ("ization", "ize"), ("isation", "ize"), ("ation", "ate"),
        ("ies", "y"), ("ing", ""), ("edly", ""), ("ed", ""), ("ly", ""), ("es", ""),
        ("s", ""),
    ):  # fmt: skip
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + replacement
            break
    if word.endswith("ise"):
        word = word[:-3] + "ize"
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # "stopping" -> "stopp" -> "stop"
    return word.rstrip("e") if len(word) > 4 else word


def _analyse(text: str) -> tuple[set[str], list[str]]:
    """(canonical synonyms, English stems and numbers; the leftover Chinese runs)."""
    folded = " " + _fold(text) + " "
    for pattern, canon in _SYNONYM_PATTERNS:
        folded = pattern.sub(f" {canon} ", folded)
    words = set(_CANON_RE.findall(folded))
    rest = _CANON_RE.sub(" ", folded)
    runs = []
    for token in _TOKEN_RE.findall(rest):
        if _CJK_RE.match(token):
            runs.append(token)
        elif token not in STOPWORDS and (len(token) > 1 or token.isdigit()):
            words.add(stem(token))
    return words, runs


def _bigrams(run: str) -> set[str]:
    if len(run) == 1:
        return set() if run in CJK_STOP else {run}
    return {
        run[i : i + 2]
        for i in range(len(run) - 1)
        if not (run[i] in CJK_STOP or run[i + 1] in CJK_STOP)
    }


@lru_cache(maxsize=65536)
def terms(text: str) -> frozenset[str]:
    """The normalised terms of a text: canonical synonyms, English stems, numbers, and
    bigrams of Chinese characters (single characters for a run of one). Cached: the
    same pieces come back for every key point."""
    words, runs = _analyse(text)
    for run in runs:
        words |= _bigrams(run)
    return frozenset(words)


_MATH_RE = re.compile(r"\$\$.*?\$\$|\$[^$]*\$", re.S)
_TEX_COMMAND_RE = re.compile(r"\\[a-zA-Z]+")
CJK_CHAR_WEIGHT = 0.5  # two characters make about one word


def _same_word(wanted: str, found: str) -> bool:
    """Stems of one word family ("precondition" / "preconditioner", "differ" /
    "different"): one a prefix of the other, or the first six letters alike."""
    if wanted.startswith("⟦") or found.startswith("⟦") or not wanted.isalpha():
        return False
    if not found.isalpha():
        return False
    short, long_ = sorted((wanted, found), key=len)
    return (len(short) >= 5 and long_.startswith(short)) or (
        len(short) >= 6 and short[:6] == long_[:6]
    )


@dataclass(frozen=True)
class _Wanted:
    words: frozenset[str]  # English stems and canonical terms of the prose
    chars: tuple[tuple[str, frozenset[str]], ...]  # each Chinese character, its bigrams
    math: frozenset[str]  # terms inside $...$: credited when present, never required


@lru_cache(maxsize=4096)
def _wanted(point: str) -> _Wanted:
    # Math is optional to say aloud: $...$, TeX commands (a key point's plain text keeps
    # "\\eta" without its dollars) and bare numbers are credited, never required.
    prose = _MATH_RE.sub(" ", point)
    math = " ".join(_MATH_RE.findall(point) + _TEX_COMMAND_RE.findall(prose))
    math = _TEX_COMMAND_RE.sub(lambda m: " " + m.group()[1:] + " ", math)
    prose = _TEX_COMMAND_RE.sub(" ", prose)
    words, runs = _analyse(prose)
    numbers = {w for w in words if not w.isalpha() and not w.startswith("⟦")}
    words -= numbers
    chars: list[tuple[str, frozenset[str]]] = []
    for run in runs:
        grams = _bigrams(run)
        for i, char in enumerate(run):
            if char in CJK_STOP:
                continue
            around = {g for g in (run[max(i - 1, 0) : i + 1], run[i : i + 2]) if g in grams}
            chars.append((char, frozenset(around or {char})))
    math_terms = frozenset((terms(math) | numbers) - words)
    return _Wanted(frozenset(words), tuple(chars), math_terms)


class _Answer:
    """An answer's terms, indexed by their first five letters for word-family lookups."""

    def __init__(self, found: frozenset[str] | set[str]) -> None:
        self.terms = frozenset(found)
        self.by_prefix: dict[str, set[str]] = {}
        for term in self.terms:
            if len(term) >= 5 and term.isalpha():
                self.by_prefix.setdefault(term[:5], set()).add(term)

    def family(self, word: str) -> set[str]:
        """The answer's terms that are `word` or of its word family."""
        same = {word} if word in self.terms else set()
        if len(word) >= 5:
            same |= {t for t in self.by_prefix.get(word[:5], ()) if _same_word(word, t)}
        return same


def _share(wanted: _Wanted, answer: _Answer) -> tuple[float, set[str]]:
    """(share of the point covered, the answer terms that covered it)."""
    hit: set[str] = set()
    have = need = 0.0
    for word in wanted.words:
        need += 1
        family = answer.family(word)
        if family:
            have += 1
            hit |= family
    for _char, grams in wanted.chars:
        need += CJK_CHAR_WEIGHT
        covered = grams & answer.terms
        if covered:
            have += CJK_CHAR_WEIGHT
            hit |= covered
    for term in wanted.math:  # a bonus: counts on both sides only when the answer has it
        if term in answer.terms:
            have += 1
            need += 1
            hit.add(term)
    return (have / need if need else 0.0), hit


# --- which parts of an answer count -------------------------------------------------

_CLAUSE_RE = re.compile(r"[.;!?\n。；！？]+(?:\s|$)|[;\n。；！？]")
_RELATION_RE = re.compile(r"[=<>→←≈∝]|->|<-")
EXPLAINED_SHARE = 0.08  # function words per token in a clause that explains something


def clauses(answer: str) -> list[str]:
    return [c for c in _CLAUSE_RE.split(answer or "") if c.strip()]


def explains(clause: str) -> bool:
    """Whether a clause says something (function words or a relation), rather than
    listing keywords: only such clauses count towards key points."""
    if _RELATION_RE.search(clause):
        return True
    folded = _fold(clause)
    function = content = 0.0
    for token in _TOKEN_RE.findall(folded):
        if _CJK_RE.match(token):
            stops = sum(1 for ch in token if ch in CJK_STOP)
            function += stops
            content += (len(token) - stops) * CJK_CHAR_WEIGHT
        elif token in STOPWORDS:
            function += 1
        else:
            content += 1
    return function >= 1 and function / (function + content) >= EXPLAINED_SHARE


_ENGLISH_WORD_RE = re.compile(r"[A-Za-z0-9]+(?:\.[0-9]+)?")


def _build_canon_patterns() -> dict[str, list[re.Pattern[str]]]:
    by_canon: dict[str, list[re.Pattern[str]]] = {}
    for group in SYNONYMS:
        canon = "⟦" + re.sub(r"\W+", "_", group[0]) + "⟧"
        by_canon[canon] = [re.compile(_phrase_pattern(p)) for p in group]
    return by_canon


_CANON_PATTERNS = _build_canon_patterns()


def _spans(clause: str, hit: set[str] | frozenset[str]) -> list[tuple[int, int]]:
    """Where in `clause` the terms in `hit` come from: the synonym phrases of a
    canonical term, the English words of a stem, the Chinese characters of a bigram."""
    spans: list[tuple[int, int]] = []
    folded = _fold(clause)
    if len(folded) == len(clause):  # NFKC kept the positions (it nearly always does)
        for canon in (t for t in hit if t.startswith("⟦")):
            for pattern in _CANON_PATTERNS.get(canon, []):
                spans += [m.span() for m in pattern.finditer(folded)]
    stems = {t for t in hit if not t.startswith("⟦") and not _CJK_RE.match(t)}
    for word in _ENGLISH_WORD_RE.finditer(clause):
        lowered = word.group().lower()
        if lowered in STOPWORDS:
            continue
        root = stem(lowered)
        if root in stems or any(_same_word(t, root) for t in stems):
            spans.append(word.span())
    for piece in (t for t in hit if _CJK_RE.match(t)):
        at = clause.find(piece)
        while at >= 0:
            spans.append((at, at + len(piece)))
            at = clause.find(piece, at + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True)
class PointMatch:
    index: int
    covered: bool
    score: float  # share of the key point found in the answer
    matched: tuple[str, ...]  # the normalised terms that matched
    words: tuple[str, ...] = ()  # the learner's own words that matched, in answer order


def match_point(
    answer_terms: set[str] | frozenset[str], point: str, keywords: Sequence[str] = ()
) -> float:
    """Share of `point` in the answer (its prose terms; Chinese by character; its math
    only as a bonus); with `keywords`, 1.0 when any keyword (all of its terms) is in
    the answer, else the plain share."""
    return _score(_Answer(answer_terms), point, keywords)[0]


def _score(answer: _Answer, point: str, keywords: Sequence[str]) -> tuple[float, set[str]]:
    for keyword in keywords:
        wanted = terms(keyword)
        if wanted and wanted <= answer.terms:
            return 1.0, set(wanted)
    return _share(_wanted(point), answer)


def match(
    answer: str,
    points: Sequence[dict[str, object]],
    *,
    alternates: Iterable[Sequence[dict[str, object]]] = (),
    threshold: float = THRESHOLD,
) -> list[PointMatch]:
    """One PointMatch per key point, in order. `points` are the card's key points
    ({"text": ..., optional "keywords": [...]}) in the interview's language;
    `alternates` the same key points in other languages (same order), so an answer
    written in either language is recognised. An empty answer covers nothing; only
    clauses that explain (not bare keyword lists) count."""
    counted = [c for c in clauses(answer) if explains(c)]
    clause_terms = [terms(c) for c in counted]
    answer_terms: set[str] = set().union(*clause_terms) if clause_terms else set()
    indexed = _Answer(answer_terms)
    others = [list(alt) for alt in alternates if len(alt) == len(points)]
    out = []
    for i, point in enumerate(points):
        best, best_hit = 0.0, set[str]()
        for version in [point, *(alt[i] for alt in others)]:
            text = str(version.get("text", ""))
            raw_keywords = version.get("keywords") or []
            keywords = [str(k) for k in raw_keywords] if isinstance(raw_keywords, list) else []
            if not answer_terms:
                continue
            score, hit = _score(indexed, text, keywords)
            if score > best or (score == best and len(hit) > len(best_hit)):
                best, best_hit = score, hit
        words = tuple(
            clause[start:end]
            for clause, found in zip(counted, clause_terms, strict=True)
            if found & best_hit
            for start, end in _spans(clause, best_hit & found)
        )
        out.append(
            PointMatch(
                i, best >= threshold and best > 0, round(best, 3), tuple(sorted(best_hit)),
                tuple(dict.fromkeys(words)),
            )
        )  # fmt: skip
    return out
