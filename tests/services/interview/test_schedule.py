"""The rating mapping, and that a mock interview moves the schedule through FSRS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.models.review import ReviewLog, ReviewState
from app.services.interview import service
from app.services.scheduling import replay
from app.services.scheduling import service as scheduler
from app.services.scheduling.clock import FixedClock
from tests.services.interview.conftest import add_card, add_user


@pytest.mark.parametrize(
    ("score", "skipped", "late", "rating"),
    [
        (0.0, False, False, 1),
        (0.39, False, False, 1),
        (0.4, False, False, 2),
        (0.69, False, False, 2),
        (0.7, False, False, 3),
        (0.99, False, False, 3),
        (1.0, False, False, 4),
        (1.0, False, True, 3),
        (1.0, True, False, 1),
        (2 / 3, False, False, 2),
        (3 / 4, False, False, 3),
    ],
)
def test_rating_mapping(score: float, skipped: bool, late: bool, rating: int) -> None:
    assert service.rating_for(score, skipped=skipped, late=late) == rating


def study(engine: Engine, user: int, card_id: str, clock: FixedClock, ratings: list[int]) -> None:
    for i, rating in enumerate(ratings):
        with session_scope(engine, write=True) as s:
            row = s.get(ReviewState, (user, card_id))
            scheduler.grade(
                s,
                user,
                card_id,
                rating,
                idempotency_key=f"{card_id}-{i}",
                expected_version=row.version if row else 0,
                clock=clock,
            )
        clock.advance(days=1)


def run_interview(
    engine: Engine, user: int, clock: FixedClock, ticks: dict[str, list[bool]]
) -> int:
    with session_scope(engine, write=True) as s:
        iv = service.start(
            s,
            user,
            service.InterviewConfig(questions=len(ticks), follow_ups=False, seed=0),
            clock=clock,
        )
        assert iv.id is not None
        for pos in range(len(ticks)):
            q = service.step(s, user, iv.id, clock=clock).question
            assert q is not None
            service.answer(s, user, iv.id, pos, "some answer", clock=clock)
            service.confirm(s, user, iv.id, pos, ticks[q.card_id or ""], clock=clock)
        assert service.get_interview(s, user, iv.id).status == "finished"
        return iv.id


def test_a_mock_interview_brings_weak_cards_back_sooner(engine: Engine, clock: FixedClock) -> None:
    user = add_user(engine)
    add_card(engine, "weak", "a", points=["p1", "p2", "p3", "p4"])
    add_card(engine, "strong", "b", points=["q1", "q2"])
    for cid in ("weak", "strong"):
        study(engine, user, cid, clock, [3, 3, 3])
    with session_scope(engine) as s:
        due_before = {r.card_id: r.due for r in s.execute(select(ReviewState)).scalars()}
    assert all(d > clock.now() + timedelta(days=2) for d in due_before.values())

    run_interview(
        engine, user, clock, {"weak": [True, False, False, False], "strong": [True, True]}
    )

    with session_scope(engine) as s:
        states = {r.card_id: r for r in s.execute(select(ReviewState)).scalars()}
        logs = s.execute(select(ReviewLog).where(ReviewLog.kind == "mock")).scalars().all()
        assert {(log.card_id, log.rating) for log in logs} == {("weak", 1), ("strong", 4)}
        assert all(log.state_before is not None for log in logs)
        # Again: relearning, due within the hour; the next practice session brings it back.
        assert states["weak"].due < clock.now() + timedelta(hours=1) < due_before["weak"]
        assert states["weak"].lapses == 1
        assert replay.verify(s, user) == []  # the log (mock included) still rebuilds the states
    clock.advance(minutes=15)
    with session_scope(engine) as s:
        nxt = scheduler.next_card(s, user, clock=clock)
        assert nxt is not None and nxt.card_id == "weak"


def test_a_mock_answer_can_be_undone_exactly(engine: Engine, clock: FixedClock) -> None:
    user = add_user(engine)
    add_card(engine, "c1")
    study(engine, user, "c1", clock, [3, 3])
    with session_scope(engine) as s:
        before = scheduler.snapshot(s.get(ReviewState, (user, "c1")))
    run_interview(engine, user, clock, {"c1": [False, False]})
    with session_scope(engine, write=True) as s:
        undone = scheduler.undo(s, user, clock=clock)
        assert undone.kind == "mock"
        after = scheduler.snapshot(s.get(ReviewState, (user, "c1")))
    assert {k: v for k, v in after.items() if k != "version"} == {
        k: v for k, v in before.items() if k != "version"
    }


def test_new_cards_enter_the_schedule_and_suspended_ones_are_left_alone(
    engine: Engine, clock: FixedClock
) -> None:
    user = add_user(engine)
    add_card(engine, "new", "a")
    add_card(engine, "held", "b")
    with session_scope(engine, write=True) as s:
        iv = service.start(
            s, user, service.InterviewConfig(questions=2, follow_ups=False), clock=clock
        )
        assert iv.id is not None
        scheduler.set_suspended(s, user, "held", True, clock=clock)
        for pos in range(2):
            service.answer(s, user, iv.id, pos, "", clock=clock)
            service.confirm(s, user, iv.id, pos, [True, True], clock=clock)
        qs = {q.card_id: q for q in service.questions(s, iv.id)}
        assert qs["new"].review_log_id is not None and qs["new"].rating == 4
        assert qs["held"].review_log_id is None and qs["held"].rating == 4
        assert s.get(ReviewState, (user, "new")).reps == 1


def test_a_whole_interview_on_both_databases(any_engine: Engine, clock: FixedClock) -> None:
    """Start, answer late, skip, follow-up, finish, report: on SQLite and PostgreSQL."""
    from app.services.interview import report

    engine = any_engine
    user = add_user(engine)
    add_card(engine, "p1", "a", follow_ups=[("Why?", "p3")], budget=60)
    add_card(engine, "p2", "b", budget=60)
    add_card(engine, "p3", "c", points=["x"])
    with session_scope(engine, write=True) as s:
        config = service.InterviewConfig(questions=2, decks=["a", "b"], seed=2)
        iv = service.start(s, user, config, clock=clock).id
        assert iv is not None
    pos = 0
    while True:
        with session_scope(engine, write=True) as s:
            st = service.step(s, user, iv, clock=clock)
            if st.question is None:
                break
            clock.advance(seconds=100 if pos == 0 else 5)
            service.answer(s, user, iv, pos, "p1 point one", skip=pos == 2, clock=clock)
            service.confirm(s, user, iv, pos, [True, False], clock=clock)
            pos += 1
    with session_scope(engine) as s:
        rep = report.build(s, user, iv)
        assert [line.card_id for line in rep.lines][:2] in (["p1", "p3"], ["p2", "p1"])
        assert len(rep.lines) == 3
        assert rep.lines[0].late and rep.lines[2].skipped
        kinds = s.execute(select(ReviewLog.kind)).scalars().all()
        assert kinds == ["mock"] * 3
        assert replay.verify(s, user) == []
        assert "# Mock interview report" in report.to_markdown(rep)
