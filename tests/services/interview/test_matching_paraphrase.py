"""Paraphrases and Chinese answers get their credit; bare keyword lists do not; the
learner sees which of their own words matched each point."""

from __future__ import annotations

import re
from pathlib import Path

from app.content.render import render_card
from app.services.interview import matching

CARDS = Path(__file__).resolve().parents[3] / "content" / "cards" / "optimization"
SECTION = re.compile(r"^## (\w[\w -]*)\n(.*?)(?=^## |\Z)", re.S | re.M)


def key_points(name: str, lang: str) -> list[dict[str, object]]:
    sections = dict(SECTION.findall((CARDS / name).read_text()))
    return render_card(lang, "x", {"Key points": sections["Key points"]}).key_points


RMSPROP = key_points("rmsprop.md", "en")
MOMENTUM_ZH = key_points("momentum.zh.md", "zh")

# Covers all five RMSprop points in the learner's own words (no formula, no "EMA").
RMSPROP_PARAPHRASE = (
    "RMSprop keeps a running average of the squared gradients for every weight separately, "
    "and divides each step by the square root of that average, so every parameter moves by "
    "roughly the learning rate no matter how large or small its gradients are. That acts like "
    "a diagonal preconditioner, which matters when different parameters see gradients of very "
    "different scales. Unlike Adagrad, whose accumulated sum only grows so the steps shrink "
    "towards zero, the decay factor forgets old gradients. Adam is basically RMSprop plus "
    "momentum on the first moment, with bias correction."
)
MOMENTUM_ZH_ANSWER = (
    "动量法维护一个速度 v,每步 v = βv + g,再用 θ -= ηv 更新,相当于对过去的梯度做指数加权累加。"
    "在条件数很大的病态问题上,一致的方向会不断累积加速,来回震荡的方向会互相抵消。"
    "在恒定的坡度上,有效步长最多放大到 η/(1-β)。对二次函数,调好的 heavy ball 收敛需要 O(√κ) 步,"
    "而梯度下降要 O(κ) 步。它还能平滑小批量梯度的噪声,但 β 太接近 1 会冲过头,一般取 0.9。"
)
STUFFED_EN = (
    "RMSprop EMA squared gradient per-parameter step size normalize preconditioning diagonal "
    "Adagrad forgetting alpha Adam momentum bias correction first moment epsilon"
)
STUFFED_ZH = (
    "动量 速度 指数加权 梯度 病态 累积 震荡 抵消 有效步长 heavy-ball 收敛率 噪声 小批量 冲过头 0.9"
)


def share(answer: str, points: list[dict[str, object]]) -> float:
    found = matching.match(answer, points)
    return sum(m.covered for m in found) / len(found)


def test_a_paraphrase_covering_every_rmsprop_point_is_credited() -> None:
    assert share(RMSPROP_PARAPHRASE, RMSPROP) == 1.0


def test_a_correct_chinese_momentum_answer_is_credited() -> None:
    assert share(MOMENTUM_ZH_ANSWER, MOMENTUM_ZH) >= 0.8


def test_stuffed_keywords_without_explanation_stay_under_40_percent() -> None:
    assert share(STUFFED_EN, RMSPROP) < 0.4
    assert share(STUFFED_ZH, MOMENTUM_ZH) < 0.4
    # The same keywords, one per line, are no better.
    assert share(STUFFED_EN.replace(" ", "\n"), RMSPROP) < 0.4


def test_terse_notes_with_relations_still_count() -> None:
    notes = "per-parameter EMA of g^2; step = lr * g / sqrt(s + eps), element-wise"
    assert matching.match(notes, RMSPROP)[0].covered


def test_the_learner_sees_their_own_matched_words() -> None:
    found = matching.match(RMSPROP_PARAPHRASE, RMSPROP)
    assert "running average" in found[0].words and "squared" in found[0].words
    assert all(word in RMSPROP_PARAPHRASE for m in found for word in m.words)
    assert "preconditioner" in found[2].words
    assert "forgets" in found[3].words
    zh = matching.match(MOMENTUM_ZH_ANSWER, MOMENTUM_ZH)
    assert "速度" in zh[0].words and "指数加权" in zh[0].words
    assert all(word in MOMENTUM_ZH_ANSWER for m in zh for word in m.words)
