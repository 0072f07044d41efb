"""Replay equality, reschedule, and interview-date mode through the services."""

from __future__ import annotations

import random
from datetime import date, timedelta

from app.db import session_scope
from app.models.review import LearnerSettingsUpdate
from app.services.scheduling import interview, replay, service
from tests.services.scheduling.conftest import add_cards


def _study(me, clock, days: int, rng: random.Random, *, undo_every: int = 0) -> int:
    answered = 0
    for _ in range(days):
        for _ in range(60):
            card = me.next()
            if card is None:
                break
            me.grade(card, rng.choices([1, 2, 3, 4], [0.2, 0.1, 0.6, 0.1])[0], duration_ms=8000)
            answered += 1
            if undo_every and answered % undo_every == 0:
                me.call(service.undo, write=True)
            clock.advance(minutes=rng.choice([1, 3, 11]))
        clock.advance(days=1)
    return answered


def test_replaying_the_log_reproduces_the_stored_states_exactly(engine, make_learner, clock):
    add_cards(engine, 40, decks=("a", "b", "c"))
    me = make_learner(new_per_day=8, time_zone="America/New_York", leech_threshold=3)
    rng = random.Random(7)
    _study(me, clock, 10, rng, undo_every=7)
    # Interview mode for a while: its cap is recorded with each answer.
    with session_scope(engine, write=True) as s:
        service.update_settings(
            s, me.user_id,
            LearnerSettingsUpdate(interview_on=clock.now().date() + timedelta(days=12),
                                  interview_minutes_per_day=5),
        )  # fmt: skip
    _study(me, clock, 6, rng)
    me.grade(
        me.next() or me.call(service.next_cram_card, deck="a", since=clock.now()), 3, kind="cram"
    )
    with session_scope(engine) as s:
        assert replay.verify(s, me.user_id) == []
    with session_scope(engine, write=True) as s:
        assert replay.reschedule(s, me.user_id) == 0
    # New settings: the rebuild moves states, and they agree with the log again.
    with session_scope(engine, write=True) as s:
        service.update_settings(s, me.user_id, LearnerSettingsUpdate(desired_retention=0.8))
        assert replay.reschedule(s, me.user_id) > 0
    with session_scope(engine) as s:
        assert replay.verify(s, me.user_id) == []


def test_interview_mode_caps_and_ranks(engine, make_learner, clock):
    add_cards(engine, 30, decks=("a", "b"))
    me = make_learner(new_per_day=30)
    for _ in range(30):
        me.grade(me.next(), 4)
    interview_on = clock.now().date() + timedelta(days=10)
    with session_scope(engine, write=True) as s:
        service.update_settings(
            s, me.user_id,
            LearnerSettingsUpdate(interview_on=interview_on, interview_minutes_per_day=2),
        )  # fmt: skip
    clock.advance(days=2)
    # Nothing is due yet (Easy gave ~8+ days), but interview mode advances the cards
    # whose recall on the day would gain most, within 2 minutes (6 answers at 20 s).
    served = []
    while (card := me.next()) is not None:
        assert card.queue == "review"
        served.append(card.card_id)
        r = me.grade(card, 3)
        assert r.due < service.day_start(interview_on, "UTC", 4)  # (a) back before the day
    assert len(served) == 6
    with session_scope(engine) as s:
        settings = service.load_settings(s, me.user_id)
        start = interview.interview_start(settings)
        report = service.predicted_recall(s, me.user_id, at=start)
    assert 0 < report.overall.recall_all <= 1 and {d.deck for d in report.decks} == {"a", "b"}
    # Every card was capped: all of them come back before the interview day.
    fc = me.call(service.forecast, days=10)
    assert sum(n for _, n in fc) == 30


def test_interview_ranking_prefers_the_weakest_card(engine, make_learner, clock):
    add_cards(engine, 2)
    me = make_learner(new_per_day=2)
    me.grade("c00000", 4)  # strong
    me.grade("c00001", 1)  # weak: relearn it to review state with low stability
    clock.advance(minutes=1)
    me.grade("c00001", 3)
    clock.advance(minutes=10)
    me.grade("c00001", 3)
    with session_scope(engine, write=True) as s:
        service.update_settings(
            s, me.user_id,
            LearnerSettingsUpdate(interview_on=date(2026, 3, 20), interview_minutes_per_day=1),
        )  # fmt: skip
    clock.advance(days=1)
    with session_scope(engine) as s:
        settings = service.load_settings(s, me.user_id)
        ranked = interview.review_candidates(s, settings, clock.now(), 0)
    assert [c.card_id for c in ranked][0] == "c00001"
    assert ranked[0].gain > ranked[-1].gain
