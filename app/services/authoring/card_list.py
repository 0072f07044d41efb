"""The admin's card list and its filters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from app.models.card import Card, CardTag, CardTranslation
from app.services.authoring.serialize import (
    DEFAULT_LANG,
)


@dataclass
class CardFilter:
    q: str = ""
    deck: str = ""
    tag: str = ""
    difficulty: str = ""
    status: str = ""
    missing_translation: str = ""  # a language code, e.g. "zh"
    missing_demo: bool = False
    failing_claims: bool = False


@dataclass
class CardRow:
    id: str
    title: str
    deck: str
    difficulty: str
    status: str
    tags: list[str]
    languages: list[str]
    demo_path: str | None
    failing: bool


@dataclass
class CardList:
    rows: list[CardRow]
    total: int
    counts: dict[str, int] = field(default_factory=dict)  # by status, in the whole deck
    decks: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    failing_known: bool = False


def list_cards(
    session: Session,
    flt: CardFilter,
    *,
    failing_claims: Callable[[Session], set[str]] | None = None,
    limit: int = 500,
) -> CardList:
    query = select(Card)
    if flt.deck:
        query = query.where(
            or_(col(Card.deck) == flt.deck, col(Card.deck).startswith(flt.deck + "/"))
        )
    if flt.difficulty:
        query = query.where(Card.difficulty == flt.difficulty)
    if flt.status:
        query = query.where(Card.status == flt.status)
    if flt.tag:
        query = query.where(col(Card.id).in_(select(CardTag.card_id).where(CardTag.tag == flt.tag)))
    if flt.missing_demo:
        query = query.where(col(Card.demo_path).is_(None))
    if flt.missing_translation:
        query = query.where(
            col(Card.id).not_in(
                select(CardTranslation.card_id).where(
                    CardTranslation.lang == flt.missing_translation
                )
            )
        )
    if flt.q.strip():
        like = f"%{flt.q.strip().lower()}%"
        query = query.where(
            func.lower(Card.title).like(like)
            | func.lower(Card.id).like(like)
            | col(Card.id).in_(
                select(CardTranslation.card_id).where(
                    func.lower(CardTranslation.search_text).like(like)
                )
            )
        )
    failing = failing_claims(session) if failing_claims else set()
    if flt.failing_claims:
        query = query.where(col(Card.id).in_(sorted(failing)))
    cards = session.exec(query.order_by(Card.deck, Card.title)).all()
    ids = [c.id for c in cards[:limit]]
    tags: dict[str, list[str]] = {}
    langs: dict[str, list[str]] = {}
    if ids:
        for card_id, tag in session.exec(
            select(CardTag.card_id, CardTag.tag)
            .where(col(CardTag.card_id).in_(ids))
            .order_by(CardTag.tag)
        ):
            tags.setdefault(card_id, []).append(tag)
        for card_id, lang in session.exec(
            select(CardTranslation.card_id, CardTranslation.lang).where(
                col(CardTranslation.card_id).in_(ids)
            )
        ):
            langs.setdefault(card_id, []).append(lang)
    rows = [
        CardRow(
            c.id,
            c.title,
            c.deck,
            c.difficulty,
            c.status,
            tags.get(c.id, []),
            sorted(langs.get(c.id, []), key=lambda code: (code != DEFAULT_LANG, code)),
            c.demo_path,
            c.id in failing,
        )
        for c in cards[:limit]
    ]
    counts = dict(session.exec(select(Card.status, func.count()).group_by(Card.status)).all())
    decks = list(session.exec(select(Card.deck).distinct().order_by(Card.deck)).all())
    all_tags = list(session.exec(select(CardTag.tag).distinct().order_by(CardTag.tag)).all())
    return CardList(rows, len(cards), counts, decks, all_tags, failing_claims is not None)
