"""Exercise reviews: the suggested rating, and a confirmed rating logged as kind
"exercise" through the same FSRS path, undone and replayed exactly."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.exercises.rating import Attempt, suggest_rating
from app.models.review import ReviewLog, ReviewState
from app.services.scheduling import replay
from app.services.scheduling import service as scheduler
from app.services.scheduling.clock import FixedClock
from app.services.scheduling.service import SchedulingError
from tests.services.interview.conftest import START, add_card, add_user


@pytest.mark.parametrize(
    ("attempt", "rating"),
    [
        (Attempt(passed=True, seconds=100), 4),  # first try, no hints, quick
        (Attempt(passed=True, seconds=600), 3),  # first try, no hints
        (Attempt(passed=True, failed_submissions=2, seconds=100), 2),
        (Attempt(passed=True, hints_used=1, seconds=100), 2),
        (Attempt(passed=False, gave_up=True), 1),
        (Attempt(passed=True, gave_up=True), 1),  # saw the solution first
        (Attempt(passed=False, failed_submissions=3), 1),
    ],
)
def test_the_suggested_rating(attempt: Attempt, rating: int) -> None:
    assert suggest_rating(attempt, time_budget_s=900) == rating


def grade(engine: Engine, user: int, card: str, rating: int, key: str, clock: FixedClock,
          kind: str | None) -> None:  # fmt: skip
    with session_scope(engine, write=True) as s:
        row = s.get(ReviewState, (user, card))
        scheduler.grade(
            s, user, card, rating, idempotency_key=key,
            expected_version=row.version if row else 0, kind=kind, clock=clock,
        )  # fmt: skip


def test_an_exercise_review_moves_the_schedule_and_is_undone_and_replayed_exactly(
    engine: Engine,
) -> None:
    clock = FixedClock(START)
    user = add_user(engine)
    add_card(engine, "softmax")
    for i in range(2):
        grade(engine, user, "softmax", 3, f"k{i}", clock, None)
        clock.advance(days=3)
    with session_scope(engine) as s:
        before = scheduler.snapshot(s.get(ReviewState, (user, "softmax")))

    grade(engine, user, "softmax", 1, "exercise-1", clock, "exercise")  # gave up: Again

    with session_scope(engine) as s:
        [log] = s.execute(select(ReviewLog).where(ReviewLog.kind == "exercise")).scalars()
        assert (log.card_id, log.rating, log.state_before is not None) == ("softmax", 1, True)
        state = s.get(ReviewState, (user, "softmax"))
        assert state.lapses == 1
        assert replay.verify(s, user) == []  # the log, exercise included, rebuilds the state
    with session_scope(engine, write=True) as s:
        undone = scheduler.undo(s, user, clock=clock)
        assert (undone.kind, undone.rating) == ("exercise", 1)
        after = scheduler.snapshot(s.get(ReviewState, (user, "softmax")))
        assert replay.verify(s, user) == []
    assert {k: v for k, v in after.items() if k != "version"} == {
        k: v for k, v in before.items() if k != "version"
    }


def test_an_unknown_kind_is_refused_with_the_allowed_ones(engine: Engine) -> None:
    user = add_user(engine)
    add_card(engine, "c1")
    with pytest.raises(SchedulingError, match="cram, mock or exercise"):
        grade(engine, user, "c1", 3, "k", FixedClock(START), "homework")
