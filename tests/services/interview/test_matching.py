"""Key-point matching: good, partial and empty answers, in English and Chinese."""

from __future__ import annotations

import pytest

from app.services.interview import matching
from tests.services.interview.conftest import BN_POINTS_EN, BN_POINTS_ZH

EN = [{"text": p} for p in BN_POINTS_EN]
ZH = [{"text": p} for p in BN_POINTS_ZH]

GOOD_EN = (
    "BN normalises every feature across the minibatch and then applies a learned scale "
    "and shift. It makes training less sensitive to initialisation so you can use a "
    "higher LR. At inference it uses running averages of the mean and variance."
)
PARTIAL_EN = "Batch norm normalizes features over the batch, with a learned scale and shift."
GOOD_ZH = (
    "批量归一化在小批量上对每个特征归一化,然后学习缩放和平移;对初始化不那么敏感,可以用更大的学习率;"
    "推理时用均值和方差的滑动平均。"
)
PARTIAL_ZH = "推理的时候用训练时统计的均值和方差的滑动平均。"


def covered(answer: str, points: list[dict[str, object]], **kw: object) -> list[bool]:
    return [m.covered for m in matching.match(answer, points, **kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("answer", "points", "expected"),
    [
        (GOOD_EN, EN, [True, True, True]),
        (PARTIAL_EN, EN, [True, False, False]),
        ("", EN, [False, False, False]),
        ("   \n", EN, [False, False, False]),
        (GOOD_ZH, ZH, [True, True, True]),
        (PARTIAL_ZH, ZH, [False, False, True]),
        ("", ZH, [False, False, False]),
    ],
    ids=["good-en", "partial-en", "empty-en", "blank-en", "good-zh", "partial-zh", "empty-zh"],
)
def test_good_partial_empty(
    answer: str, points: list[dict[str, object]], expected: list[bool]
) -> None:
    assert covered(answer, points) == expected


def test_an_answer_in_the_other_language_counts_through_the_alternates() -> None:
    assert covered(GOOD_EN, ZH, alternates=[EN]) == [True, True, True]
    assert covered(GOOD_ZH, EN, alternates=[ZH]) == [True, True, True]


def test_synonyms_fold_abbreviations_spellings_and_chinese_names() -> None:
    assert matching.terms("BN") == matching.terms("batch normalization")
    assert matching.terms("批归一化") == matching.terms("Batch Norm")
    assert matching.terms("learning rates") & matching.terms("学习率")


def test_normalisation_nfkc_case_punctuation_stemming() -> None:
    assert matching.terms("ＲｅＬＵ!!") == matching.terms("relu")
    assert matching.terms("Stopping early.") == matching.terms("stop early")
    assert matching.stem("gradients") == matching.stem("gradient")


def test_unrelated_answer_covers_nothing() -> None:
    assert covered("Transformers use attention over tokens.", EN) == [False, False, False]


def test_per_point_keywords_cover_the_point() -> None:
    points = [
        {
            "text": "Mentions the Adam optimizer's bias correction",
            "keywords": ["bias correction", "偏差修正"],
        }
    ]
    assert covered("it has a 偏差修正 step", points) == [True]
    assert covered("nothing relevant", points) == [False]
