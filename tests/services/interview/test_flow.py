"""The interview flow on the server: timer, skip, follow-ups, resume, finish."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from app.db import make_engine, session_scope
from app.services.interview import service
from app.services.scheduling.clock import FixedClock
from tests.services.interview.conftest import BN_POINTS_EN, BN_POINTS_ZH, add_card, add_user


def start(engine: Engine, user: int, clock: FixedClock, **config: object) -> int:
    with session_scope(engine, write=True) as s:
        iv = service.start(s, user, service.InterviewConfig(**config), clock=clock)  # type: ignore[arg-type]
        assert iv.id is not None
        return iv.id


def test_answer_after_the_deadline_is_recorded_late_not_lost(
    engine: Engine, clock: FixedClock
) -> None:
    user = add_user(engine)
    add_card(engine, "bn", points=BN_POINTS_EN, budget=90)
    iv = start(engine, user, clock, questions=1, follow_ups=False)
    with session_scope(engine) as s:
        st = service.step(s, user, iv, clock=clock)
        assert st.phase == "answering" and st.remaining_ms == 90_000
    clock.advance(seconds=60)
    with session_scope(engine) as s:
        assert service.step(s, user, iv, clock=clock).remaining_ms == 30_000
    clock.advance(seconds=45)  # 15 s over
    with session_scope(engine, write=True) as s:
        q = service.answer(
            s, user, iv, 0, "uses running averages of mean and variance at inference", clock=clock
        )
        assert q.late and not q.skipped
        assert q.answer.startswith("uses running")
        assert q.suggested == [False, False, True]
    with session_scope(engine) as s:
        assert service.step(s, user, iv, clock=clock).phase == "reviewing"


def test_an_answer_within_the_grace_is_on_time(engine: Engine, clock: FixedClock) -> None:
    user = add_user(engine)
    add_card(engine, "c1", budget=60)
    iv = start(engine, user, clock, questions=1, follow_ups=False)
    clock.advance(seconds=61)  # the browser submits when its countdown reaches zero
    with session_scope(engine, write=True) as s:
        assert not service.answer(s, user, iv, 0, "x", clock=clock).late


def test_skip_scores_zero_whatever_is_ticked(engine: Engine, clock: FixedClock) -> None:
    user = add_user(engine)
    add_card(engine, "c1")
    iv = start(engine, user, clock, questions=1, follow_ups=False)
    with session_scope(engine, write=True) as s:
        service.answer(s, user, iv, 0, "c1 point one", skip=True, clock=clock)
        service.confirm(s, user, iv, 0, [True, True], clock=clock)
        q = service.questions(s, iv)[0]
        assert q.score == 0.0 and q.rating == 1
        assert service.get_interview(s, user, iv).status == "finished"


def test_follow_up_uses_the_linked_card_and_never_repeats_one(
    engine: Engine, clock: FixedClock
) -> None:
    user = add_user(engine)
    add_card(engine, "main", "a", follow_ups=[("Why a running mean?", "other"), ("And LN?", "ln")])
    add_card(engine, "other", "b")
    add_card(engine, "ln", "c", points=["layer norm point"], budget=100)
    iv = start(engine, user, clock, questions=2, decks=["a", "b"], follow_ups=True, seed=1)
    with session_scope(engine, write=True) as s:
        plan = service.get_interview(s, user, iv).plan
        assert sorted(plan) == ["main", "other"]
        pos = 0
        while True:
            st = service.step(s, user, iv, clock=clock)
            if st.question is None:
                break
            service.answer(s, user, iv, pos, "", clock=clock)
            service.confirm(s, user, iv, pos, [], clock=clock)
            pos += 1
        asked = service.questions(s, iv)
    ids = [q.card_id for q in asked]
    follow = next(q for q in asked if q.kind == "follow_up" and q.parent_card_id == "main")
    # "other" is already a main question, so the interviewer asks about "ln".
    assert follow.card_id == "ln" and follow.prompt == "And LN?" and follow.budget_s == 50
    assert len([i for i in ids if i]) == len({i for i in ids if i})


def test_stale_steps_change_nothing(engine: Engine, clock: FixedClock) -> None:
    user, other = add_user(engine), add_user(engine)
    add_card(engine, "c1")
    add_card(engine, "c2")
    iv = start(engine, user, clock, questions=2, follow_ups=False)
    with session_scope(engine, write=True) as s:
        service.answer(s, user, iv, 0, "a", clock=clock)
        with pytest.raises(service.StaleStep):
            service.answer(s, user, iv, 0, "again", clock=clock)  # a second device
        with pytest.raises(service.NotFound):
            service.step(s, other, iv, clock=clock)


def test_resume_after_restart_of_the_process(settings, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    """Everything the page needs is in the database: a new engine (a restarted server)
    finds the same question, draft and countdown."""
    first = make_engine(settings.database_url)
    user = add_user(first)
    add_card(first, "c1", budget=120)
    add_card(first, "c2", budget=120)
    iv = start(first, user, clock, questions=2, follow_ups=False)
    with session_scope(first, write=True) as s:
        service.answer(s, user, iv, 0, "first answer", clock=clock)
        service.confirm(s, user, iv, 0, [True, False], clock=clock)
    clock.advance(seconds=20)
    with session_scope(first, write=True) as s:
        service.save_draft(s, user, iv, 1, "half typed", clock=clock)
    first.dispose()

    clock.advance(seconds=30)
    second = make_engine(settings.database_url)
    with session_scope(second) as s:
        assert service.active_interview(s, user).id == iv
        st = service.step(s, user, iv, clock=clock)
        assert st.phase == "answering" and st.question.position == 1
        assert st.question.draft == "half typed"
        assert st.remaining_ms == 70_000  # 120 s from when it was shown, 50 s ago
        assert st.main_index == 2 and st.main_total == 2
    second.dispose()


def test_discard_leaves_the_schedule_alone(engine: Engine, clock: FixedClock) -> None:
    from app.models.review import ReviewLog

    user = add_user(engine)
    add_card(engine, "c1")
    iv = start(engine, user, clock, questions=1, follow_ups=False)
    with session_scope(engine, write=True) as s:
        service.answer(s, user, iv, 0, "", clock=clock)
        service.discard(s, user, iv, clock=clock)
        assert service.active_interview(s, user) is None
        assert s.execute(select(ReviewLog)).first() is None


def test_starting_anew_discards_the_unfinished_one(engine: Engine, clock: FixedClock) -> None:
    user = add_user(engine)
    add_card(engine, "c1")
    one = start(engine, user, clock, questions=1)
    clock.advance(timedelta(minutes=1))
    two = start(engine, user, clock, questions=1)
    with session_scope(engine) as s:
        assert service.get_interview(s, user, one).status == "discarded"
        assert service.active_interview(s, user).id == two


def test_zh_interview_matches_chinese_answers(engine: Engine, clock: FixedClock) -> None:
    user = add_user(engine)
    add_card(engine, "bn", points=BN_POINTS_EN, zh_points=BN_POINTS_ZH)
    iv = start(engine, user, clock, questions=1, follow_ups=False, lang="zh")
    with session_scope(engine, write=True) as s:
        q = service.answer(s, user, iv, 0, "推理时用均值和方差的滑动平均", clock=clock)
        assert q.suggested == [False, False, True]
        st = service.step(s, user, iv, clock=clock)
        assert st.points[2].text == BN_POINTS_ZH[2] and st.points[2].ticked
