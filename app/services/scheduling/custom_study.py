"""Custom study "review ahead" (Anki's "Review ahead"): review now the cards due in the
next N days, as if they were due today.

Unlike cram, an answer here is an ordinary review: graded with `service.grade` (no
`kind`), it is logged as kind "review" and moves the card's schedule, FSRS taking
the shorter time since the last review into account (an early review raises
stability less). Only Review-state cards come (learning cards already come back the
same day in the ordinary queue); suspended, buried and retired cards never do.

A session is named by its start (`since`): a card answered since then does not come
again, even when its new due date is still within the N days.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, or_, select
from sqlmodel import Session, col

from app.db import read_rows
from app.models.card import Card
from app.models.review import FSRS_REVIEW, ReviewLog, ReviewState
from app.services.scheduling.clock import SYSTEM_CLOCK, Clock
from app.services.scheduling.day import day_start, local_day
from app.services.scheduling.service import SchedulingError, load_settings

MAX_AHEAD_DAYS = 9999  # Anki's spin box goes as far
AHEAD_BATCH = 200  # cards read per call: the page shows one and counts the rest

_ANSWERED_SINCE = exists().where(
    col(ReviewLog.user_id) == bindparam("user_id"),
    col(ReviewLog.card_id) == col(ReviewState.card_id),
    col(ReviewLog.reviewed_at) >= bindparam("since"),
)
_AHEAD = (
    select(ReviewState.card_id, Card.deck)
    .join(Card, col(Card.id) == col(ReviewState.card_id))
    .where(
        col(ReviewState.user_id) == bindparam("user_id"),
        col(ReviewState.fsrs_state) == FSRS_REVIEW,
        col(ReviewState.due) < bindparam("horizon"),
        col(ReviewState.suspended).is_(False),
        or_(
            col(ReviewState.buried_until).is_(None),
            col(ReviewState.buried_until) <= bindparam("now"),
        ),
        col(Card.status) == "active",
        ~_ANSWERED_SINCE,
    )
    .order_by(col(ReviewState.due), col(ReviewState.card_id))
)


def check_days(days: int) -> int:
    """`days` when it is a review-ahead span Anki would take, else a SchedulingError."""
    if not 1 <= days <= MAX_AHEAD_DAYS:
        raise SchedulingError(f"review ahead 1 to {MAX_AHEAD_DAYS} days, not {days}")
    return days


def ahead_horizon(session: Session, user_id: int, days: int, now: datetime) -> datetime:
    """The end (exclusive) of the learner day `days` days after today: a card due before
    it is "due in the next `days` days" (Anki's ``prop:due<=days``)."""
    settings = load_settings(session, user_id)
    tz, hour = settings.time_zone, settings.day_rollover_hour
    return day_start(local_day(now, tz, hour) + timedelta(days=days + 1), tz, hour)


def in_scope(deck: str | None) -> Any:
    """A condition on Card.deck: `deck` and its sub-decks, or every deck when None."""
    if deck is None:
        return col(Card.deck).is_not(None)
    return or_(col(Card.deck) == deck, col(Card.deck).startswith(deck + "/", autoescape=True))


def review_ahead_ids(
    session: Session,
    user_id: int,
    *,
    days: int,
    since: datetime,
    deck: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> list[str]:
    """The cards left in a review-ahead session started at `since`: Review-state cards
    due within `days` days (overdue ones too) of `deck` and its sub-decks (all decks when
    None), not answered since `since`, earliest due first. At most AHEAD_BATCH. Read-only."""
    check_days(days)
    now = clock.now()
    horizon = ahead_horizon(session, user_id, days, now)
    statement = _AHEAD.where(in_scope(deck)).limit(AHEAD_BATCH)
    params = {"user_id": user_id, "horizon": horizon, "now": now, "since": since}
    return [row.card_id for row in read_rows(session, statement, params).all()]
