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


def terms(text: str) -> set[str]:
    """The normalised terms of a text: canonical synonyms, English stems, numbers, and
    bigrams of Chinese characters (single characters for a run of one)."""
    folded = " " + _fold(text) + " "
    for pattern, canon in _SYNONYM_PATTERNS:
        folded = pattern.sub(f" {canon} ", folded)
    found = set(_CANON_RE.findall(folded))
    rest = _CANON_RE.sub(" ", folded)
    for token in _TOKEN_RE.findall(rest):
        if _CJK_RE.match(token):
            if len(token) == 1:
                if token not in CJK_STOP:
                    found.add(token)
                continue
            for i in range(len(token) - 1):
                pair = token[i : i + 2]
                if not (pair[0] in CJK_STOP or pair[1] in CJK_STOP):
                    found.add(pair)
        elif token not in STOPWORDS and (len(token) > 1 or token.isdigit()):
            found.add(stem(token))
    return found


@dataclass(frozen=True)
class PointMatch:
    index: int
    covered: bool
    score: float  # share of the key point's terms found in the answer
    matched: tuple[str, ...]


def match_point(answer_terms: set[str], point: str, keywords: Sequence[str] = ()) -> float:
    """Share of `point`'s terms in the answer; with `keywords`, 1.0 when any keyword
    (all of its terms) is in the answer, else the plain share."""
    for keyword in keywords:
        wanted = terms(keyword)
        if wanted and wanted <= answer_terms:
            return 1.0
    wanted = terms(point)
    if not wanted:
        return 0.0
    return len(wanted & answer_terms) / len(wanted)


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
    written in either language is recognised. An empty answer covers nothing."""
    answer_terms = terms(answer or "")
    others = [list(alt) for alt in alternates if len(alt) == len(points)]
    out = []
    for i, point in enumerate(points):
        best = 0.0
        for version in [point, *(alt[i] for alt in others)]:
            text = str(version.get("text", ""))
            raw_keywords = version.get("keywords") or []
            keywords = [str(k) for k in raw_keywords] if isinstance(raw_keywords, list) else []
            best = max(best, match_point(answer_terms, text, keywords) if answer_terms else 0.0)
        matched = tuple(sorted(terms(str(point.get("text", ""))) & answer_terms))
        out.append(PointMatch(i, best >= threshold and best > 0, round(best, 3), matched))
    return out
