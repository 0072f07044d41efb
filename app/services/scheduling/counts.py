"""Cards left today: the stage's counts, per deck, and next card with counts in one read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    case,
    func,
    select,
)
from sqlmodel import Session, col

from app.db import read_rows
from app.models.card import Card
from app.models.review import (
    FSRS_LEARNING,
    FSRS_RELEARNING,
    FSRS_REVIEW,
    LearnerSettings,
    ReviewState,
)
from app.services.scheduling import interview
from app.services.scheduling.clock import SYSTEM_CLOCK, Clock, FixedClock
from app.services.scheduling.learner import load_settings
from app.services.scheduling.queue import (
    NEW_CANDIDATES,
    STARTED,
    Today,
    choose,
    new_limit,
    read_today,
    unseen_count,
    unseen_head,
)
from app.services.scheduling.results import NextCard, QueueCounts
from app.services.scheduling.states import NOW, USER_ID, fsrs_state_in, not_buried


def queue_counts(session: Session, user_id: int, *, clock: Clock = SYSTEM_CLOCK) -> QueueCounts:
    """Cards left today: learning (due before the day ends), reviews due (within the
    daily review limit) and new (within the daily new limit)."""
    today = read_today(session, user_id, load_settings(session, user_id), clock.now())
    _rows, new_available = _new_today(session, user_id, today)
    return _counts(session, user_id, today, new_available)


def next_with_counts(
    session: Session,
    user_id: int,
    *,
    settings: LearnerSettings | None = None,
    last: tuple[str, str] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    deck: str | None = None,
) -> tuple[NextCard | None, QueueCounts]:
    """next_card and queue_counts at one instant, sharing their reads (the learner's
    settings, the day's answer counts, the new cards). Pass `settings` and `last` (the
    card and deck just answered) when the caller has them already (e.g. from a grade).
    Read-only."""
    settings = settings if settings is not None else load_settings(session, user_id)
    today = read_today(session, user_id, settings, clock.now())
    if deck is not None:
        shown = choose(session, user_id, today, True, None, last, deck=deck)
        return shown, _deck_queue_counts(session, user_id, today, deck)
    new_rows, new_available = _new_today(session, user_id, today)
    shown = choose(session, user_id, today, True, new_rows, last)
    return shown, _counts(session, user_id, today, new_available)


def _new_today(session: Session, user_id: int, today: Today) -> tuple[list[Any], int]:
    """(next_card's new candidates, how many new cards are left today)."""
    left = max(0, new_limit(today) - today.introduced)
    if not left:
        return [], 0
    order = today.settings.new_card_order
    head = unseen_head(session, user_id, today.now, order, min(left, NEW_CANDIDATES))
    if len(head) < min(left, NEW_CANDIDATES):
        return head, len(head)  # every unseen card is in the head
    return head, min(left, unseen_count(session, user_id, today.now))


# One pass over the learner's states due today for both counts.
_DUE_TODAY_COUNTS = (
    select(
        func.count(case((fsrs_state_in(FSRS_LEARNING, FSRS_RELEARNING), 1))),
        func.count(case((col(ReviewState.fsrs_state) == FSRS_REVIEW, 1))),
    )
    .select_from(ReviewState)
    .join(Card, col(Card.id) == col(ReviewState.card_id))
    .where(
        col(ReviewState.user_id) == USER_ID,
        col(ReviewState.suspended).is_(False),
        not_buried(NOW),
        col(Card.status) == "active",
        fsrs_state_in(FSRS_LEARNING, FSRS_RELEARNING, FSRS_REVIEW),
        col(ReviewState.due) < bindparam("day_end"),
    )
)


def _counts(session: Session, user_id: int, today: Today, new_available: int) -> QueueCounts:
    settings, now = today.settings, today.now
    learning, due = read_rows(
        session, _DUE_TODAY_COUNTS, {"user_id": user_id, "now": now, "day_end": today.day_end}
    ).one()
    if interview.active(settings, now):
        due = len(interview.review_candidates(session, settings, now, today.reviews_done))
    review_left = max(0, min(int(due), settings.reviews_per_day - today.reviews_done))
    return QueueCounts(learning=int(learning), review=review_left, new=new_available)


_STATES_BY_DECK = (
    select(
        Card.deck,
        func.count(case((fsrs_state_in(FSRS_LEARNING, FSRS_RELEARNING), 1))),
        func.count(
            case((and_(col(ReviewState.fsrs_state) == FSRS_REVIEW, col(ReviewState.due) <= NOW), 1))
        ),
    )
    .select_from(ReviewState)
    .join(Card, col(Card.id) == col(ReviewState.card_id))
    .where(
        col(ReviewState.user_id) == USER_ID,
        col(ReviewState.suspended).is_(False),
        not_buried(NOW),
        col(Card.status) == "active",
        fsrs_state_in(FSRS_LEARNING, FSRS_RELEARNING, FSRS_REVIEW),
        col(ReviewState.due) < bindparam("day_end"),
    )
    .group_by(Card.deck)
)
_UNSEEN_BY_DECK = (
    select(Card.deck, func.count())
    .where(col(Card.status) == "active", ~STARTED)
    .group_by(Card.deck)
)


def deck_counts(
    session: Session, user_id: int, *, clock: Clock = SYSTEM_CLOCK
) -> dict[str, QueueCounts]:
    """Per deck (its own cards, not sub-decks): learning cards due today, reviews due
    now, unseen cards (new ones are also capped by the day's new limit). Two queries."""
    settings = load_settings(session, user_id)
    today = read_today(session, user_id, settings, clock.now())
    params = {"user_id": user_id, "now": today.now, "day_end": today.day_end}
    counts: dict[str, list[int]] = {}
    for deck, learning, due in read_rows(session, _STATES_BY_DECK, params).all():
        counts.setdefault(deck, [0, 0, 0])[:2] = [int(learning), int(due)]
    for deck, unseen in read_rows(session, _UNSEEN_BY_DECK, params).all():
        counts.setdefault(deck, [0, 0, 0])[2] = int(unseen)
    new_left = max(0, new_limit(today) - today.introduced)
    return {
        deck: QueueCounts(learning=learn, review=due, new=min(new, new_left))
        for deck, (learn, due, new) in counts.items()
    }


def _deck_queue_counts(session: Session, user_id: int, today: Today, deck: str) -> QueueCounts:
    """The stage's counts while studying one deck (and its sub-decks)."""
    per_deck = deck_counts(session, user_id, clock=FixedClock(today.now))
    mine = [c for d, c in per_deck.items() if d == deck or d.startswith(deck + "/")]
    new_left = max(0, new_limit(today) - today.introduced)
    reviews_left = max(0, today.settings.reviews_per_day - today.reviews_done)
    return QueueCounts(
        learning=sum(c.learning for c in mine),
        review=min(reviews_left, sum(c.review for c in mine)),
        new=min(new_left, sum(c.new for c in mine)),
    )
