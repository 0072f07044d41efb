"""Matching on the real cards: a card's own model answer covers most of its key points,
an unrelated card's answer very few (both languages)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.content.render import render_card
from app.services.interview import matching

CARDS = Path(__file__).resolve().parents[3] / "content" / "cards"
SECTION = re.compile(r"^## (\w[\w -]*)\n(.*?)(?=^## |\Z)", re.S | re.M)


def real_cards(lang: str) -> list[tuple[str, list[dict[str, object]]]]:
    out = []
    for path in sorted(CARDS.rglob("*.md")):
        if path.name.endswith(".zh.md") != (lang == "zh"):
            continue
        sections = dict(SECTION.findall(path.read_text()))
        if "Key points" not in sections or "Answer" not in sections:
            continue
        wanted = {k: v for k, v in sections.items() if k in ("Answer", "Key points")}
        card = render_card(lang, path.stem, wanted)
        out.append((re.sub(r"<[^>]+>", " ", card.answer_html), card.key_points))
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_model_answers_cover_their_key_points_and_not_others(lang: str) -> None:
    cards = real_cards(lang)
    if len(cards) < 10:
        pytest.skip("too few real cards with key points")
    own = other = total = 0
    for i, (_answer, points) in enumerate(cards):
        total += len(points)
        own += sum(m.covered for m in matching.match(cards[i][0], points))
        other += sum(m.covered for m in matching.match(cards[(i + 7) % len(cards)][0], points))
    assert own / total >= 0.75, f"own answers cover {own / total:.0%} of key points"
    assert other / total <= 0.10, f"unrelated answers cover {other / total:.0%} of key points"
