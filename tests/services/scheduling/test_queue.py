"""The review queue and grading, through the services, with an injectable clock."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.db import session_scope
from app.models.card import Card
from app.models.review import ReviewLog
from app.services.scheduling import service
from tests.services.scheduling.conftest import add_cards


def test_new_card_walks_the_learning_steps_then_graduates(engine, make_learner, clock):
    add_cards(engine, 1)
    me = make_learner()
    card = me.next()
    assert card is not None and card.queue == "new" and card.version == 0
    assert [b.label for b in card.buttons] == ["again", "hard", "good", "easy"]
    assert card.buttons[0].seconds == 60 and card.buttons[2].seconds == 600

    r = me.grade(card, 1)  # Again: back in 1 minute
    assert r.kind == "learn" and r.interval_seconds == 60
    assert me.next() is not None and me.next().queue == "learn_ahead"  # nothing else: learn ahead
    clock.advance(minutes=1)
    card = me.next()
    assert card.queue == "learning"
    r = me.grade(card, 3)  # Good: step 2 (10 minutes)
    assert r.interval_seconds == 600
    clock.advance(minutes=10)
    r = me.grade(me.next(), 3)  # Good on the last step: graduates to a whole-day interval
    state = me.state("c00000")
    assert state.fsrs_state == 2 and state.step is None
    assert (r.due.hour, r.due.minute) == (4, 0) and r.due > r.reviewed_at  # start of a later day
    assert me.next() is None  # nothing left today


def test_lapse_goes_to_relearning_and_counts(engine, make_learner, clock):
    add_cards(engine, 1)
    me = make_learner()
    me.grade(me.next(), 4)  # Easy: straight to review
    state = me.state("c00000")
    assert state.fsrs_state == 2
    clock.set(state.due + timedelta(hours=1))
    card = me.next()
    assert card.queue == "review"
    r = me.grade(card, 1)
    assert r.kind == "review" and r.interval_seconds == 600
    state = me.state("c00000")
    assert state.fsrs_state == 3 and state.lapses == 1
    clock.advance(minutes=10)
    card = me.next()
    assert card.queue == "learning"
    assert me.grade(card, 3).kind == "relearn"
    assert me.state("c00000").fsrs_state == 2


def test_new_cards_per_day_limit_and_rollover(engine, make_learner, clock):
    add_cards(engine, 5)
    me = make_learner(new_per_day=2)
    assert me.counts().new == 2
    me.grade(me.next(), 4)
    me.grade(me.next(), 4)
    assert me.counts().new == 0
    assert me.next() is None
    clock.set(clock.now().replace(hour=3, minute=59) + timedelta(days=1))  # before 04:00: same day
    assert me.counts().new == 0
    clock.advance(minutes=1)  # 04:00 UTC: a new day
    assert me.counts().new == 2


def test_reviews_per_day_limit(engine, make_learner, clock):
    add_cards(engine, 3)
    me = make_learner(reviews_per_day=1)
    for _ in range(3):
        me.grade(me.next(), 4)
    clock.advance(days=30)
    assert me.counts().review == 1
    assert me.answer_next(3).kind == "review"
    assert me.next() is None


def test_day_rolls_over_at_the_learners_hour_in_their_zone(engine, make_learner, clock):
    add_cards(engine, 4)
    me = make_learner(new_per_day=1, time_zone="Asia/Tokyo", day_rollover_hour=4)
    # 2026-03-02 18:30 UTC is 03:30 on the 3rd in Tokyo: still the day of the 2nd.
    clock.set(clock.now().replace(hour=18, minute=30))
    me.grade(me.next(), 4)
    assert me.next() is None
    clock.advance(minutes=30)  # 04:00 Tokyo
    assert me.next() is not None


def test_daylight_saving_day_is_23_hours(engine, make_learner, clock):
    from datetime import UTC, datetime

    add_cards(engine, 3)
    me = make_learner(new_per_day=1, time_zone="America/New_York", day_rollover_hour=4)
    # 2026-03-08: clocks go forward at 02:00 in New York. Day of the 7th: 09:00 UTC to 08:00 UTC.
    clock.set(datetime(2026, 3, 7, 20, 0, tzinfo=UTC))
    me.grade(me.next(), 4)
    clock.set(datetime(2026, 3, 8, 7, 59, tzinfo=UTC))  # 03:59 EDT: still the 7th
    assert me.next() is None
    clock.set(datetime(2026, 3, 8, 8, 0, tzinfo=UTC))  # 04:00 EDT: the 8th
    assert me.next() is not None


def test_review_due_at_start_of_learner_day(engine, make_learner, clock):
    add_cards(engine, 1)
    me = make_learner(time_zone="Europe/Paris", day_rollover_hour=5)
    r = me.grade(me.next(), 4)
    local = r.due.astimezone(ZoneInfo("Europe/Paris"))
    assert (local.hour, local.minute) == (5, 0)


def test_bury_hides_until_tomorrow(engine, make_learner, clock):
    add_cards(engine, 2)
    me = make_learner()
    card = me.next()
    me.call(service.bury, card.card_id, write=True)
    other = me.next()
    assert other.card_id != card.card_id
    me.call(service.bury, other.card_id, write=True)
    assert me.next() is None
    clock.advance(days=1)
    assert me.next() is not None


def test_suspend_and_unsuspend(engine, make_learner, clock):
    add_cards(engine, 1)
    me = make_learner()
    me.grade(me.next(), 4)
    me.call(service.set_suspended, "c00000", True, write=True)
    clock.advance(days=60)
    assert me.next() is None
    me.call(service.set_suspended, "c00000", False, write=True)
    assert me.next().card_id == "c00000"


def test_leech_is_flagged_and_suspended_after_8_lapses(engine, make_learner, clock):
    add_cards(engine, 1)
    me = make_learner()
    me.grade(me.next(), 4)
    for lapse in range(1, 9):
        clock.set(me.state("c00000").due + timedelta(minutes=1))
        r = me.grade(me.next(), 1)
        clock.advance(minutes=10)
        if lapse < 8:
            me.grade(me.next(), 3)  # relearned
    assert r.leech
    state = me.state("c00000")
    assert state.lapses == 8 and state.leech and state.suspended
    clock.advance(days=10)
    assert me.next() is None


def test_retired_cards_never_appear(engine, make_learner, clock):
    add_cards(engine, 2)
    me = make_learner()
    me.grade("c00000", 4)
    with session_scope(engine, write=True) as s:
        for card in s.execute(select(Card)).scalars():
            card.status = "retired"
            s.add(card)
    clock.advance(days=100)
    assert me.next() is None
    with pytest.raises(service.CardNotAvailable):
        me.grade("c00000", 3)


def test_same_key_twice_records_one_review(engine, make_learner, clock):
    add_cards(engine, 2)
    me = make_learner()
    card = me.next()
    first = me.grade(card, 3, key="tab-1-answer-1")
    again = me.grade(card, 3, key="tab-1-answer-1")
    assert again.replayed and not first.replayed and again.log_id == first.log_id
    with pytest.raises(service.IdempotencyMismatch):
        me.grade(card, 1, key="tab-1-answer-1")
    with session_scope(engine) as s:
        assert s.execute(select(func.count()).select_from(ReviewLog)).scalar_one() == 1


def test_two_tabs_second_grade_is_a_conflict(engine, make_learner, clock):
    add_cards(engine, 2)
    me = make_learner()
    tab_a = me.next()
    tab_b = me.next()
    assert tab_a.card_id == tab_b.card_id
    me.grade(tab_b, 3)
    with pytest.raises(service.GradeConflict, match="another tab"):
        me.grade(tab_a, 1)
    with session_scope(engine) as s:
        assert s.execute(select(func.count()).select_from(ReviewLog)).scalar_one() == 1


def test_undo_restores_the_previous_state_exactly(engine, make_learner, clock):
    add_cards(engine, 1)
    me = make_learner()
    me.grade(me.next(), 4)
    clock.set(me.state("c00000").due + timedelta(hours=2))
    before = me.state("c00000")
    me.grade(me.next(), 1)
    assert me.state("c00000").lapses == 1
    result = me.call(service.undo, write=True)
    after = me.state("c00000")
    for name in ("fsrs_state", "step", "stability", "difficulty", "due", "last_review_at",
                 "reps", "lapses", "leech", "suspended", "buried_until"):  # fmt: skip
        assert getattr(after, name) == getattr(before, name), name
    assert after.version > before.version and result.version == after.version
    me.call(service.undo, write=True)  # the first answer: the card is new again
    assert me.state("c00000") is None
    with pytest.raises(service.NothingToUndo):
        me.call(service.undo, write=True)


def test_cram_does_not_move_the_schedule(engine, make_learner, clock):
    add_cards(engine, 3, decks=("a", "b"), tags=("t",))
    me = make_learner()
    me.grade("c00000", 4)
    before = me.state("c00000")
    since = clock.now()
    seen = []
    while (card := me.call(service.next_cram_card, deck="a", since=since)) is not None:
        assert card.queue == "cram" and card.deck == "a"
        me.grade(card, 1, kind="cram")
        seen.append(card.card_id)
    assert sorted(seen) == ["c00000", "c00002"]
    after = me.state("c00000")
    assert (after.due, after.stability, after.version, after.reps) == (
        before.due,
        before.stability,
        before.version,
        before.reps,
    )
    assert me.state("c00002") is None  # crammed but still new
    with session_scope(engine) as s:
        kinds = s.execute(select(ReviewLog.kind)).scalars().all()
    assert kinds.count("cram") == 2


def test_consecutive_cards_alternate_decks_and_never_repeat(engine, make_learner, clock):
    add_cards(engine, 6, decks=("a", "b"))
    me = make_learner()
    decks = []
    for _ in range(4):
        card = me.next()
        decks.append(card.deck)
        me.grade(card, 4)
    assert decks in (["a", "b", "a", "b"], ["b", "a", "b", "a"])


def test_statistics(engine, make_learner, clock):
    add_cards(engine, 4, decks=("a", "b"))
    me = make_learner()
    for _ in range(4):
        me.answer_next(4)
    fc = me.call(service.forecast, days=30)
    assert len(fc) == 30 and sum(n for _, n in fc) == 4
    per_day = me.call(service.reviews_per_day, days=7)
    assert per_day[-1][1] == 4
    clock.advance(days=20)
    me.answer_next(3)
    me.answer_next(1)
    total, rate = me.call(service.true_retention)
    assert total == 2 and rate == 0.5
    report = me.call(service.predicted_recall)
    assert report.overall.cards == 4 and report.overall.studied == 4
    assert {d.deck for d in report.decks} == {"a", "b"}
