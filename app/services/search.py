"""The deck browser's queries: tags with counts, mastery per deck, and full-text search
over questions and answers.

Search ranks with the engine's full-text index (``search_index``: SQLite FTS5 or a
PostgreSQL tsvector, Chinese as character bigrams), which the importer keeps in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from app.models.card import Card, CardTag
from app.services import search_index
from app.services.scheduling import service as scheduler

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
        .join(Card, Card.id == CardTag.card_id)
        .where(Card.status == "active")
        .group_by(CardTag.tag)
        .order_by(func.count().desc(), CardTag.tag)
    ).all()
    return [TagCount(tag, int(n)) for tag, n in rows]


def cards_with_tag(session: Session, tag: str) -> list[tuple[str, str, str, str]]:
    """(id, title, deck, difficulty) of active cards carrying `tag`, by deck then title."""
    rows = session.execute(
        select(Card.id, Card.title, Card.deck, Card.difficulty)
        .join(CardTag, CardTag.card_id == Card.id)
        .where(CardTag.tag == tag, Card.status == "active")
        .order_by(Card.deck, Card.title)
    ).all()
    return [tuple(r) for r in rows]


def mastery_by_deck(session: Session, user_id: int) -> dict[str, scheduler.DeckRecall]:
    """The learner's predicted recall now, per deck (the scheduler's figures)."""
    report = scheduler.predicted_recall(session, user_id)
    return {d.deck: d for d in report.decks}


def terms_of(query: str) -> list[str]:
    return search_index.query_terms(query)


def search(
    session: Session, query: str, lang: str = "en", *, limit: int = MAX_RESULTS
) -> list[SearchHit]:
    """Active cards whose text (title, question, answer, any language) holds every term
    of ``query`` (each as a word prefix), best ranked first; one hit per card: its
    ``lang`` text when that matched, else its best-ranked language."""
    terms = terms_of(query)
    found = search_index.matches(session, terms, limit * 4)
    best: dict[str, search_index.Match] = {}
    order: list[str] = []
    for match in found:
        held = best.get(match.card_id)
        if held is None:
            order.append(match.card_id)
            best[match.card_id] = match
        elif match.lang == lang and held.lang != lang:
            best[match.card_id] = match
    return [
        SearchHit(m.card_id, m.title, m.deck, m.lang, snippet(m.text, terms))
        for m in (best[card_id] for card_id in order[:limit])
    ]


def snippet(text: str, terms: list[str], width: int = 160) -> str:
    """About `width` characters of `text` around the first term found (plain text)."""
    lowered = text.lower()
    found = [i for i in (lowered.find(t) for t in terms) if i >= 0]
    start = max(0, min(found) - width // 3) if found else 0
    piece = text[start : start + width].strip()
    return ("…" if start > 0 else "") + piece + ("…" if start + width < len(text) else "")
