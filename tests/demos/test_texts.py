"""Demo texts are read statically (ast), never by importing the demo module."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.demos.texts import DemoTextError, demo_texts, parse_texts, read_texts

CONTENT = Path(__file__).resolve().parents[2] / "content"

SOURCE = """
import torch  # never executed: a web process must not import it
TITLE = "Gain"
DESCRIPTION = "Shows a gain."
TITLE_ZH = "增益"
CLAIMS = {"a": "A holds.", "b": "B holds."}
CLAIMS_ZH = {"a": "A 成立。"}
CLAIM_SHOWN_WHEN = {"b": "gain >= 2"}
TEXT_ZH = {"loss": "损失"}
"""


def test_texts_fall_back_to_english_per_string() -> None:
    texts = parse_texts(SOURCE, Path("gain.py"))
    zh = texts.local("zh")
    assert zh.title == "增益"
    assert zh.description == "Shows a gain."
    assert zh.claims == {"a": "A 成立。", "b": "B holds."}
    assert zh.shown_when == {"b": "gain >= 2"}
    assert zh.translate("loss") == "损失" and zh.translate("step") == "step"
    assert texts.local("en").claims["a"] == "A holds."
    assert texts.missing_zh() == [
        "description_zh", "CLAIMS_ZH['b']", "CLAIM_SHOWN_WHEN['a']", "CLAIM_SHOWN_WHEN_ZH['b']"
    ]  # fmt: skip


def test_a_computed_constant_is_named_with_file_and_line() -> None:
    with pytest.raises(DemoTextError, match=r"gain.py:2: CLAIMS_ZH is not a literal dict"):
        parse_texts('X = 1\nCLAIMS_ZH = {"a": str(1)}\n', Path("gain.py"))
    with pytest.raises(DemoTextError, match=r"gain.py:1: TEXT_ZH must be a literal dict"):
        parse_texts("TEXT_ZH = {'a': 1}\n", Path("gain.py"))


def test_unknown_or_odd_demo_names_give_none(tmp_path: Path) -> None:
    assert demo_texts(CONTENT, "no_such_demo", "zh") is None
    assert demo_texts(CONTENT, "../../etc/passwd", "zh") is None


def test_every_seeded_demo_parses_and_its_claim_ids_match() -> None:
    for path in sorted((CONTENT / "demos").glob("[!_]*.py")):
        texts = read_texts(path)
        assert texts.claims, path
        for name in ("claims_zh", "shown_when", "shown_when_zh"):
            extra = set(getattr(texts, name)) - set(texts.claims)
            assert not extra, f"{path}: {name} names unknown claims {extra}"
