"""Review-state rows as memory states and snapshots, and the SQL predicates the queue,
the counts and interview mode share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    bindparam,
    or_,
)
from sqlmodel import col

from app.models.review import (
    ReviewState,
)
from app.services.scheduling.fsrs_bridge import (
    MemoryState,
    SchedulerConfig,
    scheduler_for,
)

FSRS_NEW = 0  # a row made only to bury or suspend a card never answered

NOW: Any = bindparam("now")
USER_ID: Any = bindparam("user_id")
CARD_ID: Any = bindparam("card_id")


def memory_of(row: ReviewState | Any | None) -> MemoryState | None:
    """The memory state of a ReviewState row (or a result row with its columns)."""
    if row is None or row.fsrs_state == FSRS_NEW:
        return None
    return MemoryState(
        fsrs_state=row.fsrs_state,
        step=row.step,
        stability=row.stability,
        difficulty=row.difficulty,
        due=row.due,
        last_review_at=row.last_review_at,
        reps=row.reps,
        lapses=row.lapses,
        leech=row.leech,
    )


_SNAPSHOT_FIELDS = (
    "fsrs_state", "step", "stability", "difficulty", "due", "last_review_at", "reps",
    "lapses", "leech", "suspended", "buried_until", "version", "introduced_at",
)  # fmt: skip
_DATETIME_FIELDS = ("due", "last_review_at", "buried_until", "introduced_at")


def snapshot(row: ReviewState | Any | None) -> dict[str, Any] | None:
    """The row as JSON (floats round-trip exactly through repr), for undo."""
    if row is None:
        return None
    out: dict[str, Any] = {}
    for name in _SNAPSHOT_FIELDS:
        value = getattr(row, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def restore_snapshot(row: ReviewState, snap: Mapping[str, Any]) -> None:
    for name in _SNAPSHOT_FIELDS:
        value = snap[name]
        if name in _DATETIME_FIELDS and value is not None:
            value = datetime.fromisoformat(value)
        setattr(row, name, value)


MEMORY_FIELDS = tuple(f.name for f in fields(MemoryState))


def fsrs_state_in(*states: int) -> Any:
    """``fsrs_state IN (...)`` for a fixed set of states, written as ``=`` terms joined by
    OR: a literal IN list is an "expanding" parameter, whose SQL SQLAlchemy renders
    again at every execution. SQLite turns the ORs back into IN for the index."""
    return or_(*(col(ReviewState.fsrs_state) == state for state in states))


def not_buried(now: datetime | Any) -> Any:
    return or_(col(ReviewState.buried_until).is_(None), col(ReviewState.buried_until) <= now)


def recall_fn(config: SchedulerConfig) -> Any:
    sched = scheduler_for(config)
    factor, decay = sched._FACTOR, sched._DECAY  # fsrs' own constants for this w[20]

    def recall(stability: float | None, last: datetime | None, at: datetime) -> float:
        if stability is None or last is None:
            return 0.0
        elapsed = max(0, (at - last).days)  # whole days, as fsrs.get_card_retrievability
        return float((1 + factor * elapsed / stability) ** decay)

    return recall
