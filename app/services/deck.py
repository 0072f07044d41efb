"""Read-only views of the deck for pages and the API."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from app.models import Card, CardAlias, CardTag, CardTranslation

DEFAULT_LANG = "en"


@dataclass(frozen=True)
class DeckSummary:
    path: str
    card_count: int


@dataclass(frozen=True)
class CardSummary:
    id: str
    title: str
    deck: str
    difficulty: str


@dataclass
class CardView:
    card: Card
    text: CardTranslation
    lang: str
    languages: list[str]
    tags: list[str] = field(default_factory=list)


def list_decks(session: Session) -> list[DeckSummary]:
    """Every deck with active cards, with its card count, ordered by path."""
    rows = session.exec(
        select(Card.deck, func.count())
        .where(Card.status == "active")
        .group_by(Card.deck)
        .order_by(Card.deck)
    ).all()
    return [DeckSummary(path=deck, card_count=count) for deck, count in rows]


def list_cards(session: Session, deck: str | None = None) -> list[CardSummary]:
    """Active cards in a deck and its sub-decks (all decks when None), by deck then title."""
    query = select(Card).where(Card.status == "active")
    if deck:
        query = query.where(or_(col(Card.deck) == deck, col(Card.deck).startswith(deck + "/")))
    cards = session.exec(query.order_by(Card.deck, Card.title)).all()
    return [CardSummary(c.id, c.title, c.deck, c.difficulty) for c in cards]


def resolve_alias(session: Session, card_id: str) -> str | None:
    """The current id for a former id, or None."""
    alias = session.get(CardAlias, card_id)
    return alias.card_id if alias else None


def get_card(session: Session, card_id: str) -> Card | None:
    """A card that is not a draft (retired cards too: links keep working), or None."""
    card = session.get(Card, card_id)
    return None if card is None or card.status == "draft" else card


def get_card_view(session: Session, card_id: str, lang: str = DEFAULT_LANG) -> CardView | None:
    """A card with its text in `lang` (falling back to the default language), or None.

    Retired cards are still shown: links and history keep working.
    """
    card = session.get(Card, card_id)
    if card is None or card.status == "draft":
        return None
    texts = {
        t.lang: t
        for t in session.exec(select(CardTranslation).where(CardTranslation.card_id == card_id))
    }
    if not texts:
        return None
    chosen = (
        lang if lang in texts else (DEFAULT_LANG if DEFAULT_LANG in texts else next(iter(texts)))
    )
    tags = session.exec(
        select(CardTag.tag).where(CardTag.card_id == card_id).order_by(CardTag.tag)
    ).all()
    languages = sorted(texts, key=lambda code: (code != DEFAULT_LANG, code))
    return CardView(
        card=card, text=texts[chosen], lang=chosen, languages=languages, tags=list(tags)
    )
