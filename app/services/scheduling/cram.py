"""Custom study: raise today's new-card limit, cram a deck or a tag."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    and_,
    exists,
    or_,
    select,
)
from sqlmodel import Session

from app.models.card import Card, CardTag
from app.models.review import (
    ReviewLog,
    ReviewState,
)
from app.services.scheduling.clock import SYSTEM_CLOCK, Clock
from app.services.scheduling.day import local_day
from app.services.scheduling.learner import config_for, load_settings, lock_learner
from app.services.scheduling.queue import present
from app.services.scheduling.results import NextCard, SchedulingError
from app.services.scheduling.states import recall_fn


def raise_new_limit(session: Session, user_id: int, by: int, *, clock: Clock = SYSTEM_CLOCK) -> int:
    """Custom study (Anki's "increase today's new card limit"): `by` more new cards
    today only. Returns today's new limit."""
    if not 1 <= by <= 9999:
        raise SchedulingError(f"raise the new-card limit by 1 to 9999, not {by}")
    settings = lock_learner(session, user_id)
    now = clock.now()
    local = local_day(now, settings.time_zone, settings.day_rollover_hour)
    settings.extra_new = (settings.extra_new if settings.extra_new_day == local else 0) + by
    settings.extra_new_day = local
    session.add(settings)
    session.flush()
    return settings.new_per_day + settings.extra_new


def next_cram_card(
    session: Session,
    user_id: int,
    *,
    deck: str | None = None,
    tag: str | None = None,
    since: datetime,
    clock: Clock = SYSTEM_CLOCK,
) -> NextCard | None:
    """Custom study: the next card of one deck or tag, now, whatever its due date:
    cards not crammed since `since` (the session's start), lowest predicted recall
    first (unstudied first). Grade it with kind="cram": logged, schedule untouched."""
    if (deck is None) == (tag is None):
        raise SchedulingError("custom study takes exactly one of deck or tag")
    settings = load_settings(session, user_id)
    now = clock.now()
    recall = recall_fn(config_for(settings))
    crammed = exists().where(
        ReviewLog.user_id == user_id,  # type: ignore[arg-type]
        ReviewLog.card_id == Card.id,  # type: ignore[arg-type]
        ReviewLog.kind == "cram",  # type: ignore[arg-type]
        ReviewLog.reviewed_at >= since,  # type: ignore[arg-type]
    )
    q = (
        select(Card.id, Card.deck, ReviewState.stability, ReviewState.last_review_at)
        .select_from(Card)
        .outerjoin(
            ReviewState,
            and_(ReviewState.card_id == Card.id, ReviewState.user_id == user_id),  # type: ignore[arg-type]
        )
        .where(
            Card.status == "active",
            ~crammed,
            or_(ReviewState.suspended.is_(None), ReviewState.suspended.is_(False)),  # type: ignore[attr-defined]
        )
    )
    if deck is not None:
        q = q.where(Card.deck == deck)
    else:
        q = q.where(exists().where(CardTag.card_id == Card.id, CardTag.tag == tag))  # type: ignore[arg-type]
    rows = session.execute(q).all()
    if not rows:
        return None
    best = min(rows, key=lambda r: (recall(r.stability, r.last_review_at, now), r.id))
    return present(session, user_id, settings, best.id, "cram", now, True)
