"""The order new cards come in, as Anki's "new card gather/sort order" options:

- ``difficulty`` (the default): within each deck easy before medium before hard (then
  the order added), the decks taken in turn, so a newcomer starts on an easy card of
  each topic instead of the hardest card with the smallest id;
- ``added``: the order the cards were published (oldest first), as Anki's "order added";
- ``random``: a fixed shuffle per learner (the same card stays next on a reload).

A card published today is a candidate at once: the order is computed on each request
from the unseen cards, never cached.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from app.models.review import NEW_CARD_ORDERS

__all__ = ["NEW_CARD_ORDERS", "order_new"]
DIFFICULTY_RANK = {"easy": 0, "medium": 1, "hard": 2}


class Unseen(Protocol):
    id: str
    deck: str
    difficulty: str
    created_at: datetime


def _added(card: Any) -> tuple[datetime, str]:
    return (card.created_at, card.id)


def order_new(cards: Sequence[Any], order: str, user_id: int) -> list[Any]:
    """`cards` (rows with id, deck, difficulty, created_at) in the learner's new order."""
    if order == "added":
        return sorted(cards, key=_added)
    if order == "random":
        return sorted(cards, key=lambda c: hashlib.sha256(f"{user_id}:{c.id}".encode()).digest())
    by_deck: dict[str, list[Any]] = defaultdict(list)
    for card in cards:
        by_deck[card.deck].append(card)
    for deck_cards in by_deck.values():
        deck_cards.sort(key=lambda c: (DIFFICULTY_RANK.get(c.difficulty, 1), *_added(c)))
    # Round robin over the decks: the first card of each deck (easiest first), then the
    # second, ...
    ranked = [
        ((position, DIFFICULTY_RANK.get(card.difficulty, 1), deck), card)
        for deck, deck_cards in by_deck.items()
        for position, card in enumerate(deck_cards)
    ]
    ranked.sort(key=lambda item: item[0])
    return [card for _, card in ranked]
