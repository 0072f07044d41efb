"""Custom study "review ahead": cards due in the next N days, reviewed now as ordinary
reviews (logged as "review", schedule moved), each once per session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import session_scope
from app.models.review import ReviewLog, ReviewState
from app.services.scheduling import custom_study, service
from app.services.scheduling.day import day_start
from tests.services.scheduling.conftest import START, add_cards


def _due_in(engine, user_id: int, card_id: str, days: int) -> None:  # type: ignore[no-untyped-def]
    """Move a Review-state card's due date to the start of the learner day `days` on."""
    with session_scope(engine, write=True) as s:
        row = s.get(ReviewState, (user_id, card_id))
        assert row is not None and row.fsrs_state == 2
        row.due = day_start(START.date() + timedelta(days=days), "UTC", 4)
        s.add(row)


@pytest.fixture
def ahead(engine, make_learner, clock):  # type: ignore[no-untyped-def]
    """A learner with Review-state cards due tomorrow (a), in 3 days (a/sub), in 10 days
    (b), a suspended one due tomorrow (ab: not a sub-deck of a), and a new card."""
    ids = add_cards(engine, 5, decks=("a", "a/sub", "b", "ab", "a"))
    me = make_learner()
    for card_id, days in zip(ids[:4], (1, 3, 10, 1), strict=True):
        me.grade(card_id, 4)  # Easy: straight to Review
        _due_in(engine, me.user_id, card_id, days)
    me.call(service.set_suspended, ids[3], True, write=True)
    clock.advance(hours=2)  # the session starts later the same day
    return me, ids


def test_review_ahead_takes_the_cards_due_within_the_span_earliest_first(ahead, clock) -> None:  # type: ignore[no-untyped-def]
    me, ids = ahead
    since = clock.now()

    def left(days: int, deck: str | None = None) -> list[str]:
        return me.call(custom_study.review_ahead_ids, days=days, since=since, deck=deck)

    assert left(1) == [ids[0]]  # due tomorrow; the suspended one never comes
    assert left(3) == [ids[0], ids[1]]
    assert left(9) == [ids[0], ids[1]]  # due on the 10th day: not within 9
    assert left(10) == [ids[0], ids[1], ids[2]]
    assert left(30, deck="a") == [ids[0], ids[1]]  # a and a/sub, not ab nor b
    assert left(30, deck="a/sub") == [ids[1]]
    assert ids[4] not in left(9999)  # a new card is not a review
    for bad in (0, -1, 10_000):
        with pytest.raises(service.SchedulingError):
            left(bad)


def test_a_review_ahead_answer_is_an_ordinary_review(ahead, engine, clock) -> None:  # type: ignore[no-untyped-def]
    me, ids = ahead
    since = clock.now()
    card = ids[2]  # due in 10 days
    before = me.state(card)
    result = me.grade(card, 3)  # what the page sends: no kind
    after = me.state(card)
    assert result.kind == "review"
    assert after.reps == before.reps + 1 and after.version == before.version + 1
    assert after.last_review_at == clock.now() and after.due != before.due  # schedule moved
    # Answered ten days early: stability grows less than on the due day.
    with session_scope(engine) as s:
        log = s.execute(select(ReviewLog).where(ReviewLog.card_id == card)).scalars().all()
    assert [entry.kind for entry in log] == ["learn", "review"]
    on_time = me.call(service.undo, write=True)
    assert on_time.card_id == card and me.state(card).due == before.due
    clock.set(before.due)
    me.grade(card, 3)
    assert after.stability < me.state(card).stability
    # The session does not bring an answered card back, even if due within the span again.
    assert me.call(custom_study.review_ahead_ids, days=9999, since=since) == [ids[0], ids[1]]
