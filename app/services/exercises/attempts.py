"""Attempts at an exercise, in the database: open one, keep the learner's code, record a
verdict, reveal a hint, give up, and confirm the rating into the schedule (a review of
kind "exercise" through the scheduler's own ``grade``). Each function takes a Session
inside ``session_scope(engine, write=True)``; none calls the judge."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from app.exercises.format import Exercise
from app.exercises.rating import Attempt, suggest_rating
from app.models.exercise import ExerciseAttempt, ExerciseCode
from app.models.review import ReviewState
from app.services.errors import ServiceError
from app.services.scheduling import service as scheduler
from app.services.scheduling.clock import SYSTEM_CLOCK, Clock

# A verdict with this reason says nothing about the code (no sandbox on this server).
NOT_A_FAILURE = ("unavailable",)


class AttemptConflict(ServiceError):
    code = "exercise_conflict"
    status = 409


def open_attempt(
    session: Session, user_id: int, exercise: str, card_id: str | None, now: datetime
) -> ExerciseAttempt:
    """The learner's open (unconfirmed) attempt at ``exercise``, started now if none."""
    attempt = session.exec(
        select(ExerciseAttempt)
        .where(
            ExerciseAttempt.user_id == user_id,
            ExerciseAttempt.exercise == exercise,
            col(ExerciseAttempt.confirmed_at).is_(None),
        )
        .order_by(col(ExerciseAttempt.id).desc())
    ).first()
    if attempt is None:
        attempt = ExerciseAttempt(
            user_id=user_id, exercise=exercise, card_id=card_id, started_at=now
        )
        session.add(attempt)
        session.flush()
    elif attempt.card_id is None and card_id is not None:
        attempt.card_id = card_id
        session.add(attempt)
    return attempt


def last_code(session: Session, user_id: int, exercise: str) -> str | None:
    row = session.get(ExerciseCode, (user_id, exercise))
    return row.code if row else None


def save_code(session: Session, user_id: int, exercise: str, code: str, now: datetime) -> None:
    row = session.get(ExerciseCode, (user_id, exercise))
    if row is None:
        row = ExerciseCode(user_id=user_id, exercise=exercise, code=code, updated_at=now)
    else:
        row.code, row.updated_at = code, now
    session.add(row)


def record_verdict(attempt: ExerciseAttempt, verdict: dict[str, Any], now: datetime) -> None:
    """Counts the submission. A failure after the first pass does not count against it."""
    attempt.submissions += 1
    attempt.last_verdict = verdict
    if verdict.get("passed"):
        if attempt.passed_at is None:
            attempt.passed_at = now
    elif attempt.passed_at is None and verdict.get("reason") not in NOT_A_FAILURE:
        attempt.failed_submissions += 1


def reveal_hint(attempt: ExerciseAttempt, exercise: Exercise) -> None:
    total = len(exercise.meta.HINTS.en)
    if attempt.hints_used >= total:
        raise AttemptConflict("Every hint of this exercise is already shown.")
    attempt.hints_used += 1


def finished(attempt: ExerciseAttempt) -> bool:
    """Passed or given up: the solution may be shown and a rating confirmed."""
    return attempt.passed_at is not None or attempt.gave_up


def suggested(attempt: ExerciseAttempt, exercise: Exercise) -> int | None:
    if not finished(attempt):
        return None
    passed_at = attempt.passed_at
    seconds = (passed_at - attempt.started_at).total_seconds() if passed_at else 0.0
    facts = Attempt(
        passed=passed_at is not None,
        failed_submissions=attempt.failed_submissions,
        hints_used=attempt.hints_used,
        gave_up=attempt.gave_up,
        seconds=seconds,
    )
    return suggest_rating(facts, exercise.meta.TIME_BUDGET_S)


def confirm(
    session: Session,
    attempt: ExerciseAttempt,
    rating: int,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> scheduler.GradeResult:
    """Logs the confirmed rating as a review of kind "exercise" of the attempt's card and
    closes the attempt. Idempotent per attempt (its key is ``exercise-<id>``)."""
    if rating not in (1, 2, 3, 4):
        raise AttemptConflict(f"The rating must be 1 (Again) to 4 (Easy), not {rating}.")
    if not finished(attempt):
        raise AttemptConflict("Pass the tests or give up before rating this exercise.")
    if attempt.card_id is None:
        raise AttemptConflict("This exercise is not linked to a card, so it has no schedule.")
    row = session.get(ReviewState, (attempt.user_id, attempt.card_id), populate_existing=True)
    now = clock.now()
    try:
        result = scheduler.grade(
            session,
            attempt.user_id,
            attempt.card_id,
            rating,
            idempotency_key=f"exercise-{attempt.id}",
            expected_version=row.version if row else 0,
            duration_ms=max(0, int((now - attempt.started_at).total_seconds() * 1000)),
            kind="exercise",
            clock=clock,
        )
    except scheduler.SchedulingError as exc:
        raise AttemptConflict(str(exc)) from exc
    attempt.rating = rating
    attempt.confirmed_at = now
    attempt.review_log_id = result.log_id
    session.add(attempt)
    return result
