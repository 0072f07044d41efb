"""Rebuild review states from the log: the log is the truth, states are its cache.

Replaying a learner's scheduled answers (learn, review, relearn, and mock-interview
answers, which go through the same review) in the order they
were recorded, under the learner's settings, with the same seeded fuzz, the same
load counts (rebuilt as the replay goes) and the interview date each answer was
scheduled under, gives back the stored states exactly; `verify` proves it and
`reschedule` writes the replay (after new parameters, say).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session

from app.models.review import FSRS_REVIEW, SCHEDULED_KINDS, LearnerSettings, ReviewLog, ReviewState
from app.services.scheduling import grading
from app.services.scheduling.day import local_day
from app.services.scheduling.fsrs_bridge import MemoryState
from app.services.scheduling.learner import context_for, load_settings, lock_learner

COMPARED = (
    "fsrs_state",
    "step",
    "stability",
    "difficulty",
    "due",
    "last_review_at",
    "reps",
    "lapses",
    "leech",
)


@dataclass(frozen=True)
class LoggedAnswer:
    card_id: str
    rating: int
    reviewed_at: datetime
    interview_on: date | None


def replay(
    user_id: int, answers: Iterable[LoggedAnswer], settings: LearnerSettings
) -> dict[str, MemoryState]:
    """States after replaying `answers` (already in recorded order). Pure."""
    tz, hour = settings.time_zone, settings.day_rollover_hour
    states: dict[str, MemoryState] = {}
    load_by_day: Counter[date] = Counter()
    contexts: dict[date | None, grading.GradingContext] = {}

    def load(first: date, last: date) -> dict[date, int]:
        return {d: n for d, n in load_by_day.items() if first <= d <= last}

    for answer in answers:
        previous = states.get(answer.card_id)
        if previous is not None and previous.fsrs_state == FSRS_REVIEW:
            load_by_day[local_day(previous.due, tz, hour)] -= 1
        ctx = contexts.get(answer.interview_on)
        if ctx is None:
            ctx = contexts[answer.interview_on] = context_for(settings, answer.interview_on)
        outcome = grading.review(
            previous,
            answer.rating,
            answer.reviewed_at,
            ctx,
            seed=grading.review_seed(user_id, answer.card_id, previous.reps if previous else 0),
            load=load,
        )
        states[answer.card_id] = outcome.state
        if outcome.state.fsrs_state == FSRS_REVIEW:
            load_by_day[local_day(outcome.state.due, tz, hour)] += 1
    return states


def logged_answers(session: Session, user_id: int) -> list[LoggedAnswer]:
    rows = session.execute(
        select(ReviewLog.card_id, ReviewLog.rating, ReviewLog.reviewed_at, ReviewLog.interview_on)
        .where(ReviewLog.user_id == user_id, ReviewLog.kind.in_(SCHEDULED_KINDS))  # type: ignore[attr-defined]
        .order_by(ReviewLog.reviewed_at, ReviewLog.id)
    ).all()
    return [LoggedAnswer(*r) for r in rows]


def replay_user(session: Session, user_id: int) -> dict[str, MemoryState]:
    return replay(user_id, logged_answers(session, user_id), load_settings(session, user_id))


def verify(session: Session, user_id: int) -> list[str]:
    """Differences between the stored states and a replay of the log (empty: equal)."""
    replayed = replay_user(session, user_id)
    stored = {
        row.card_id: row
        for row in session.execute(
            select(ReviewState).where(ReviewState.user_id == user_id, ReviewState.fsrs_state != 0)  # type: ignore[arg-type]
        ).scalars()
    }
    problems = []
    for card_id in sorted(set(replayed) | set(stored)):
        mine, theirs = replayed.get(card_id), stored.get(card_id)
        if mine is None or theirs is None:
            problems.append(f"{card_id}: {'no log' if mine is None else 'no stored state'}")
            continue
        for name in COMPARED:
            if getattr(mine, name) != getattr(theirs, name):
                stored, replayed = getattr(theirs, name), getattr(mine, name)
                problems.append(f"{card_id}.{name}: stored {stored!r}, replay {replayed!r}")
    return problems


def reschedule(session: Session, user_id: int) -> int:
    """Write the replay of the log over the learner's states (run inside
    session_scope(engine, write=True)). Suspend/bury flags stay; a card that
    becomes a leech in the replay is suspended. Returns how many states changed."""
    lock_learner(session, user_id)
    replayed = replay_user(session, user_id)
    changed = 0
    rows = {
        row.card_id: row
        for row in session.execute(
            select(ReviewState).where(ReviewState.user_id == user_id)  # type: ignore[arg-type]
        ).scalars()
    }
    for card_id, state in replayed.items():
        row = rows.get(card_id)
        if row is None:
            row = ReviewState(
                user_id=user_id,
                card_id=card_id,
                fsrs_state=state.fsrs_state,
                due=state.due,
                version=0,
                introduced_at=state.last_review_at or state.due,
            )
        if all(getattr(row, n) == getattr(state, n) for n in COMPARED):
            continue
        if state.leech and not row.leech:
            row.suspended = True
        for name, value in asdict(state).items():
            setattr(row, name, value)
        row.version += 1
        session.add(row)
        changed += 1
    session.flush()
    return changed
