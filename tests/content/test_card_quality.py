"""Every card in the repository's ``content/`` is gradeable and reads like an interview.

Two families of checks, each a helper that a test parametrises over every card file, so a
failing card is named by its file:

1. Gradeable: the mock-interview matcher, fed a card's own key points written as a plain
   prose answer (TeX removed), covers at least 80% of them, in each language; an unrelated
   card's answer covers at most 10%. Key points holding a formula carry ``keywords``.
2. Learner-facing: no "the notes", "the seed" or "claim" outside the Answer's
   ``### Evidence`` part, and the spoken Answer (without Evidence) fits in about 90 seconds:
   at most 230 words (Chinese: 450 characters, CJK characters plus words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from app.content.parse import parse_file
from app.content.render import render_card
from app.content.tree import card_files
from app.services.interview.matching import match

CONTENT = Path(__file__).resolve().parents[2] / "content"

MIN_OWN_COVERAGE = 0.8
MAX_UNRELATED_COVERAGE = 0.1
MAX_SPOKEN_WORDS = 230
MAX_SPOKEN_CHARS_ZH = 450

EVIDENCE = re.compile(r"^###\s+(?:Evidence|证据)\s*$", re.MULTILINE)
_DISPLAY_MATH = re.compile(r"\$\$.*?\$\$", re.DOTALL)
_INLINE_MATH = re.compile(r"\$[^$\n]+\$")
_FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
_KEYWORDS_LINE = re.compile(r"^\s+[-*]\s*(?:keywords|关键词)\s*[:：].*$", re.MULTILINE | re.I)
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’.-][A-Za-z0-9]+)*")
_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Provenance words the learner never saw: the seed notes the deck was written from, and
# the demos' "claims" (those belong in the Evidence part, which may name them).
FORBIDDEN = re.compile(r"\bthe\s+notes?\b|\bthe\s+seeds?\b|claim|笔记", re.IGNORECASE)


@dataclass(frozen=True)
class CardText:
    path: Path
    card_id: str
    lang: str
    deck: str  # from the English file (translations carry none)
    title: str
    sections: dict[str, str]  # heading -> Markdown under it

    @property
    def name(self) -> str:
        return str(self.path.relative_to(CONTENT))


TAGS: dict[str, frozenset[str]] = {}  # card id -> its tags (from the English file)


@cache
def all_cards() -> tuple[CardText, ...]:
    found = []
    for path in card_files(CONTENT):
        parsed = parse_file(path)
        assert not parsed.problems, f"{path}: {parsed.problems[0]}"
        meta = parsed.meta
        if "tags" in meta:  # the English file carries them
            TAGS[str(meta["id"])] = frozenset(str(t) for t in meta["tags"] or [])
        found.append(
            CardText(
                path=path,
                card_id=meta["id"],
                lang=meta.get("lang", "en"),
                deck=str(meta.get("deck", "")),
                title=meta["title"],
                sections={name: section.text for name, section in parsed.sections.items()},
            )
        )
    decks = {card.card_id: card.deck for card in found if card.deck}
    return tuple(
        CardText(c.path, c.card_id, c.lang, decks.get(c.card_id, ""), c.title, c.sections)
        for c in found
    )


def by_id_and_lang() -> dict[tuple[str, str], CardText]:
    return {(card.card_id, card.lang): card for card in all_cards()}


def card_param(card: CardText) -> Any:
    return pytest.param(card, id=card.name)


# --- helpers: text the learner sees ------------------------------------------------------


def split_answer(answer: str) -> tuple[str, str]:
    """(the spoken part, the Evidence part) of an Answer section."""
    found = EVIDENCE.search(answer)
    if found is None:
        return answer, ""
    return answer[: found.start()], answer[found.start() :]


def learner_visible(card: CardText) -> str:
    """Title, question, spoken answer, key points (keywords are hidden), pitfalls and
    follow-ups: everything a learner reads except the Answer's Evidence part."""
    parts = [card.title]
    for name, text in card.sections.items():
        if name == "Answer":
            text = split_answer(text)[0]
        elif name == "Key points":
            text = _KEYWORDS_LINE.sub("", text)
        parts.append(text)
    return "\n".join(parts)


def spoken_length(card: CardText) -> int:
    """Words in the spoken Answer (Chinese: CJK characters plus words). A display formula
    is not read out word by word, and an inline one counts as one word."""
    spoken = split_answer(card.sections.get("Answer", ""))[0]
    spoken = _FENCE.sub(" ", _DISPLAY_MATH.sub(" ", spoken))
    spoken = _INLINE_MATH.sub(" x ", spoken)
    spoken = re.sub(r"\[\[([a-z0-9-]+)\]\]", " link ", spoken)
    words = len(_WORD.findall(spoken))
    if card.lang == "zh":
        return words + len(_CJK_CHAR.findall(spoken))
    return words


def forbidden_words(card: CardText) -> list[str]:
    return sorted({m.group(0) for m in FORBIDDEN.finditer(learner_visible(card))})


# --- helpers: matching -------------------------------------------------------------------


def key_points(card: CardText) -> list[dict[str, object]]:
    """The key points as the importer stores them (text and keywords)."""
    sections = {"Question": "q", "Answer": "a", "Key points": card.sections["Key points"]}
    return render_card(card.lang, card.title, sections).key_points


def key_point_sources(card: CardText) -> list[str]:
    """Each top-level key point's Markdown, without its keywords bullet."""
    items: list[list[str]] = []
    for line in card.sections["Key points"].splitlines():
        if re.match(r"^[-*+]\s", line):
            items.append([line[2:]])
        elif items and line.strip() and not _KEYWORDS_LINE.match(line):
            items[-1].append(line.strip())
    return [" ".join(item) for item in items]


def holds_formula(source: str) -> bool:
    return bool(_INLINE_MATH.search(source) or "$$" in source)


def prose_answer(card: CardText) -> str:
    """The card's key points said as a plain answer: TeX dropped, Markdown marks and
    links unwrapped, one sentence per point, each said as a point is said aloud."""
    sentences = []
    for source in key_point_sources(card):
        text = _INLINE_MATH.sub(" ", _DISPLAY_MATH.sub(" ", source))
        text = re.sub(r"\[\[([a-z0-9-]+)\]\]", lambda m: m.group(1).replace("-", " "), text)
        text = re.sub(r"[`*_]", "", text)
        text = " ".join(text.split()).rstrip(" .;:,。；：，")
        text = text.replace("；", "，").replace(";", ",")  # one spoken sentence per point
        # Said as a sentence, as a candidate would: the matcher credits clauses that
        # explain something, not bare keyword lists.
        if card.lang == "zh":
            sentences.append(f"其中一点是：{text}。")
        else:
            sentences.append(f"One point is that {text}.")
    return " ".join(sentences)


def coverage(answer: str, points: list[dict[str, object]], **kwargs: object) -> float:
    found = match(answer, points, **kwargs)  # type: ignore[arg-type]
    return sum(m.covered for m in found) / len(found)


def unrelated_card(card: CardText) -> CardText:
    """A card on another topic in the same language: the next one, in file order, from
    another top-level deck that neither card links to and that shares no tag with it."""
    same_lang = [c for c in all_cards() if c.lang == card.lang and "Key points" in c.sections]
    start = same_lang.index(card)
    top = card.deck.split("/")[0]
    for other in same_lang[start + 1 :] + same_lang[:start]:
        linked = f"[[{other.card_id}]]" in "".join(card.sections.values()) or (
            f"[[{card.card_id}]]" in "".join(other.sections.values())
        )
        shared = TAGS.get(card.card_id, frozenset()) & TAGS.get(other.card_id, frozenset())
        if other.deck.split("/")[0] != top and not linked and not shared:
            return other
    raise AssertionError(f"{card.name}: no unrelated card to compare with")


# --- tests -------------------------------------------------------------------------------

CARDS = [card_param(card) for card in all_cards()]
WITH_KEY_POINTS = [card_param(c) for c in all_cards() if "Key points" in c.sections]


@pytest.mark.parametrize("card", CARDS)
def test_learner_text_names_no_notes_seed_or_claims(card: CardText) -> None:
    assert forbidden_words(card) == [], (
        f"{card.name}: learner-visible text says {forbidden_words(card)}"
    )


@pytest.mark.parametrize("card", CARDS)
def test_spoken_answer_fits_in_ninety_seconds(card: CardText) -> None:
    limit = MAX_SPOKEN_CHARS_ZH if card.lang == "zh" else MAX_SPOKEN_WORDS
    length = spoken_length(card)
    unit = "characters" if card.lang == "zh" else "words"
    assert length <= limit, f"{card.name}: spoken answer is {length} {unit} (at most {limit})"


@pytest.mark.parametrize("card", WITH_KEY_POINTS)
def test_every_formula_key_point_has_keywords(card: CardText) -> None:
    points = key_points(card)
    sources = key_point_sources(card)
    assert len(points) == len(sources), f"{card.name}: key points did not parse as a list"
    missing = [
        src
        for src, p in zip(sources, points, strict=True)
        if holds_formula(src) and not p.get("keywords")
    ]
    assert missing == [], f"{card.name}: formula key points without keywords: {missing}"


@pytest.mark.parametrize("card", WITH_KEY_POINTS)
def test_own_key_points_said_in_prose_are_matched(card: CardText) -> None:
    answer = prose_answer(card)
    points = key_points(card)
    found = match(answer, points)
    missed = [str(points[m.index]["text"]) for m in found if not m.covered]
    share = coverage(answer, points)
    assert share >= MIN_OWN_COVERAGE, f"{card.name}: covers {share:.0%}; missed {missed}"


@pytest.mark.parametrize("card", WITH_KEY_POINTS)
def test_an_unrelated_answer_is_not_matched(card: CardText) -> None:
    other = unrelated_card(card)
    others = [
        key_points(c)
        for (card_id, _lang), c in by_id_and_lang().items()
        if card_id == card.card_id and c is not card and "Key points" in c.sections
    ]
    share = coverage(prose_answer(other), key_points(card), alternates=others)
    assert share <= MAX_UNRELATED_COVERAGE, (
        f"{card.name}: the answer to {other.name} covers {share:.0%} of its key points"
    )


# --- the helpers themselves can fail -----------------------------------------------------


def _card(lang: str = "en", **sections: str) -> CardText:
    names = {"answer": "Answer", "key_points": "Key points", "pitfalls": "Pitfalls"}
    return CardText(
        CONTENT / "cards" / "x.md", "x", lang, "d", "T",
        {"Question": "Q?", **{names[k]: v for k, v in sections.items()}},
    )  # fmt: skip


def test_forbidden_words_are_found_outside_evidence_only() -> None:
    card = _card(
        answer="It is.\n\n### Evidence\nThe demo's claim holds.\n",
        pitfalls="- The notes say it is not. Candidates claimed so.\n",
    )
    assert forbidden_words(card) == ["The notes", "claim"]
    assert forbidden_words(_card(answer="It is.\n\n### Evidence\nclaim\n")) == []


def test_spoken_length_stops_at_evidence_and_counts_chinese_characters() -> None:
    english = _card(answer="One two three $x^2$.\n\n### Evidence\nfour five six\n")
    assert spoken_length(english) == 4
    chinese = _card("zh", answer="梯度消失(vanishing gradient)。\n\n### Evidence\n很多字\n")
    assert spoken_length(chinese) == 4 + 2


def test_prose_answer_drops_tex_and_keywords_bullets() -> None:
    card = _card(key_points="- Sigmoid derivative $\\le 1/4$ at most\n  - keywords: quarter\n- B\n")
    assert (
        prose_answer(card) == "One point is that Sigmoid derivative at most. One point is that B."
    )
    assert holds_formula(key_point_sources(card)[0])
