"""The deck browser's queries: tags with counts, mastery per deck, and full-text search
over questions and answers.

Search is portable SQL (every term must appear in the title or the plain text of
question and answer, case-insensitively; title hits rank first), so it runs the same on
SQLite and PostgreSQL without an FTS index to keep in step with the importer. The deck
is thousands of cards at most; a LIKE scan over ``card_translation`` stays in the
low milliseconds at that size.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from app.models.card import Card, CardTag, CardTranslation
from app.services.scheduling import service as scheduler

MAX_TERMS = 8
MAX_RESULTS = 50


@dataclass(frozen=True)
class TagCount:
    tag: str
    card_count: int


@dataclass(frozen=True)
class SearchHit:
    card_id: str
    title: str
    deck: str
    lang: str
    snippet: str


def list_tags(session: Session) -> list[TagCount]:
    """Tags of active cards with their card counts, most used first."""
    rows = session.execute(
        select(CardTag.tag, func.count())
        .join(Card, Card.id == CardTag.card_id)  # type: ignore[arg-type]
        .where(Card.status == "active")  # type: ignore[arg-type]
        .group_by(CardTag.tag)
        .order_by(func.count().desc(), CardTag.tag)
    ).all()
    return [TagCount(tag, int(n)) for tag, n in rows]


def cards_with_tag(session: Session, tag: str) -> list[tuple[str, str, str, str]]:
    """(id, title, deck, difficulty) of active cards carrying `tag`, by deck then title."""
    rows = session.execute(
        select(Card.id, Card.title, Card.deck, Card.difficulty)
        .join(CardTag, CardTag.card_id == Card.id)  # type: ignore[arg-type]
        .where(CardTag.tag == tag, Card.status == "active")  # type: ignore[arg-type]
        .order_by(Card.deck, Card.title)
    ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def mastery_by_deck(session: Session, user_id: int) -> dict[str, scheduler.DeckRecall]:
    """The learner's predicted recall now, per deck (the scheduler's figures)."""
    report = scheduler.predicted_recall(session, user_id)
    return {d.deck: d for d in report.decks}


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def terms_of(query: str) -> list[str]:
    return [t for t in query.lower().split() if t][:MAX_TERMS]


def search(
    session: Session, query: str, lang: str = "en", *, limit: int = MAX_RESULTS
) -> list[SearchHit]:
    """Active cards whose title, question or answer contain every word of `query`, in
    any language; one hit per card (its `lang` text when that matched, else the first
    matching language). Title matches first, then by deck and title."""
    terms = terms_of(query)
    if not terms:
        return []
    text = func.lower(CardTranslation.search_text)
    title = func.lower(CardTranslation.title)
    conditions = []
    title_hits = []
    for term in terms:
        pattern = f"%{_escape_like(term)}%"
        conditions.append(or_(text.like(pattern, escape="\\"), title.like(pattern, escape="\\")))
        title_hits.append(title.like(pattern, escape="\\"))
    rows = session.execute(
        select(
            CardTranslation.card_id,
            CardTranslation.lang,
            CardTranslation.title,
            CardTranslation.search_text,
            Card.deck,
            and_(*title_hits).label("in_title")
            if len(title_hits) > 1
            else title_hits[0].label("in_title"),
        )
        .join(Card, Card.id == CardTranslation.card_id)  # type: ignore[arg-type]
        .where(Card.status == "active", *conditions)  # type: ignore[arg-type]
        .order_by(Card.deck, CardTranslation.title)
        .limit(limit * 4)
    ).all()
    best: dict[str, tuple[bool, SearchHit]] = {}
    for card_id, row_lang, row_title, search_text, deck, in_title in rows:
        hit = SearchHit(card_id, row_title, deck, row_lang, snippet(search_text or "", terms))
        held = best.get(card_id)
        if held is None or (row_lang == lang and held[1].lang != lang):
            best[card_id] = (bool(in_title), hit)
    ranked = sorted(best.values(), key=lambda x: (not x[0], x[1].deck, x[1].title))
    return [hit for _, hit in ranked[:limit]]


def snippet(text: str, terms: list[str], width: int = 160) -> str:
    """About `width` characters of `text` around the first term found (plain text)."""
    lowered = text.lower()
    found = [i for i in (lowered.find(t) for t in terms) if i >= 0]
    start = max(0, min(found) - width // 3) if found else 0
    piece = text[start : start + width].strip()
    return ("…" if start > 0 else "") + piece + ("…" if start + width < len(text) else "")
