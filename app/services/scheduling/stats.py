"""Statistics: the due forecast, answers per day, true retention, predicted recall."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
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
    FSRS_REVIEW,
    LearnerSettings,
    ReviewLog,
    ReviewState,
)
from app.services.scheduling.clock import SYSTEM_CLOCK, Clock
from app.services.scheduling.day import day_start, local_day
from app.services.scheduling.learner import config_for, load_settings
from app.services.scheduling.results import DeckRecall, RecallReport
from app.services.scheduling.states import USER_ID, recall_fn

_DUE_BEFORE = (
    select(ReviewState.due)
    .join(Card, col(Card.id) == col(ReviewState.card_id))
    .where(
        col(ReviewState.user_id) == USER_ID,
        col(ReviewState.fsrs_state) == FSRS_REVIEW,
        col(ReviewState.due) < bindparam("end"),
        col(ReviewState.suspended).is_(False),
        col(Card.status) == "active",
    )
)


def forecast(
    session: Session,
    user_id: int,
    *,
    days: int = 30,
    settings: LearnerSettings | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> list[tuple[date, int]]:
    """Review-state cards due on each of the next `days` learner days (overdue ones on
    today), suspended and retired cards left out. Pass `settings` when the caller has
    the learner's settings already."""
    settings = settings if settings is not None else load_settings(session, user_id)
    now = clock.now()
    tz, hour = settings.time_zone, settings.day_rollover_hour
    today = local_day(now, tz, hour)
    end = day_start(today + timedelta(days=days), tz, hour)
    rows = read_rows(session, _DUE_BEFORE, {"user_id": user_id, "end": end}).scalars()
    counts: Counter[date] = Counter()
    for due in rows:
        counts[max(today, local_day(due, tz, hour))] += 1
    return [(today + timedelta(days=i), counts[today + timedelta(days=i)]) for i in range(days)]


def reviews_per_day(
    session: Session, user_id: int, *, days: int = 30, clock: Clock = SYSTEM_CLOCK
) -> list[tuple[date, int]]:
    """Answers logged on each of the last `days` learner days (today last), all kinds."""
    settings = load_settings(session, user_id)
    now = clock.now()
    tz, hour = settings.time_zone, settings.day_rollover_hour
    today = local_day(now, tz, hour)
    first = today - timedelta(days=days - 1)
    rows = session.execute(
        select(ReviewLog.reviewed_at).where(
            ReviewLog.user_id == user_id,
            ReviewLog.reviewed_at >= day_start(first, tz, hour),
        )
    ).scalars()
    counts = Counter(local_day(t, tz, hour) for t in rows)
    return [(first + timedelta(days=i), counts[first + timedelta(days=i)]) for i in range(days)]


def true_retention(
    session: Session, user_id: int, *, days: int | None = None, clock: Clock = SYSTEM_CLOCK
) -> tuple[int, float | None]:
    """(reviews, share passed) over answers to Review-state cards (Anki's "true
    retention": learning and relearning steps left out), in the last `days` or ever."""
    conditions: list[Any] = [ReviewLog.user_id == user_id, ReviewLog.kind == "review"]
    if days is not None:
        conditions.append(ReviewLog.reviewed_at >= clock.now() - timedelta(days=days))
    total, passed = session.execute(
        select(func.count(), func.sum(case((col(ReviewLog.rating) > 1, 1), else_=0))).where(
            *conditions
        )
    ).one()
    total = int(total or 0)
    return total, (float(passed or 0) / total if total else None)


def predicted_recall(
    session: Session,
    user_id: int,
    *,
    at: datetime | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> RecallReport:
    """Predicted recall per deck and overall at `at` (default now), if nothing were
    reviewed before then. Active cards only; unstudied cards count as 0 in recall_all."""
    settings = load_settings(session, user_id)
    when = at or clock.now()
    recall = recall_fn(config_for(settings))
    rows = session.execute(
        select(Card.deck, ReviewState.stability, ReviewState.last_review_at)
        .select_from(Card)
        .outerjoin(
            ReviewState,
            and_(ReviewState.card_id == Card.id, ReviewState.user_id == user_id),  # type: ignore[arg-type]
        )
        .where(Card.status == "active")
    ).all()
    per: dict[str, list[float | None]] = {}
    for deck, stability, last in rows:
        per.setdefault(deck, []).append(recall(stability, last, when) if stability else None)

    def summarise(name: str, values: list[float | None]) -> DeckRecall:
        studied = [v for v in values if v is not None]
        return DeckRecall(
            deck=name,
            cards=len(values),
            studied=len(studied),
            recall_studied=sum(studied) / len(studied) if studied else None,
            recall_all=sum(studied) / len(values) if values else 0.0,
        )

    everything = [v for values in per.values() for v in values]
    return RecallReport(
        at=when,
        overall=summarise("all", everything),
        decks=[summarise(d, per[d]) for d in sorted(per)],
    )
