"""The queue of exercises to study on their own: the write-the-code exercises whose card
is due for this learner (an exercise review moves its card's FSRS schedule, so they share
one due date), then those the learner has never done, in card order.

Pure reading; the caller passes which card links which exercise (the catalog knows, the
scheduler does not).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.models.card import Card
from app.models.review import ReviewLog, ReviewState

DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class QueuedExercise:
    exercise: str
    card_id: str
    title: str
    due: datetime | None  # None: never done as an exercise and the card is not due
    new: bool


def exercise_queue(
    session: Session,
    user_id: int,
    exercise_of_card: Mapping[str, str],
    now: datetime,
    *,
    limit: int = DEFAULT_LIMIT,
) -> list[QueuedExercise]:
    """Due exercises first (earliest due first), then new ones (never done as an
    exercise), at most ``limit``. Suspended, buried and inactive cards are left out."""
    if not exercise_of_card or limit <= 0:
        return []
    card_ids = list(exercise_of_card)
    cards = {
        card.id: card
        for card in session.exec(
            select(Card).where(col(Card.id).in_(card_ids), Card.status == "active")
        )
    }
    states = {
        row.card_id: row
        for row in session.exec(
            select(ReviewState).where(
                ReviewState.user_id == user_id, col(ReviewState.card_id).in_(card_ids)
            )
        )
    }
    done = set(
        session.exec(
            select(ReviewLog.card_id)
            .where(
                ReviewLog.user_id == user_id,
                ReviewLog.kind == "exercise",
                col(ReviewLog.card_id).in_(card_ids),
            )
            .distinct()
        )
    )
    due: list[QueuedExercise] = []
    new: list[QueuedExercise] = []
    for card_id, card in cards.items():
        state = states.get(card_id)
        if state is not None and (
            state.suspended or (state.buried_until is not None and state.buried_until > now)
        ):
            continue
        name = exercise_of_card[card_id]
        if state is not None and state.due <= now:
            due.append(QueuedExercise(name, card_id, card.title, state.due, card_id not in done))
        elif card_id not in done:
            new.append(QueuedExercise(name, card_id, card.title, None, True))
    due.sort(key=lambda q: (q.due or now, q.card_id))
    new.sort(key=lambda q: (cards[q.card_id].deck, q.card_id))
    return (due + new)[:limit]
