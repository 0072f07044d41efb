"""Queue invariants under random use (hypothesis): nothing retired, suspended or buried
is served; every served review is due; a card never comes twice in a row while
another card is available."""

from __future__ import annotations

import uuid
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from app.db import session_scope
from app.models.card import Card
from app.models.review import ReviewState
from app.services.scheduling import service
from app.services.scheduling.clock import FixedClock
from tests.services.scheduling.conftest import START, Learner, add_cards, add_user

ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("answer"), st.integers(1, 4)),
        st.tuples(st.just("wait"), st.sampled_from([1, 5, 30, 600, 1440, 4320])),  # minutes
        st.tuples(st.just("bury"), st.just(0)),
        st.tuples(st.just("suspend"), st.integers(0, 5)),
        st.tuples(st.just("retire"), st.integers(0, 5)),
    ),
    min_size=5,
    max_size=40,
)


def _servable_others(engine, user_id: int, served: str, now) -> bool:
    """Brute force: is any card other than `served` available to this learner now?"""
    from sqlalchemy import select

    with session_scope(engine) as s:
        cards = {c.id: c for c in s.execute(select(Card)).scalars() if c.status == "active"}
        states = {r.card_id: r for r in s.execute(
            select(ReviewState).where(ReviewState.user_id == user_id)).scalars()}  # fmt: skip
    for cid in cards:
        if cid == served:
            continue
        row = states.get(cid)
        if row is None:
            return True  # new (the limits are generous in this test)
        if row.suspended or (row.buried_until and row.buried_until > now):
            continue
        if row.fsrs_state == 0 or row.due <= now + timedelta(minutes=20):
            return True
    return False


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=ACTIONS)
def test_queue_invariants(engine, actions):
    clock = FixedClock(START)
    with session_scope(engine, write=True) as s:  # the cards of earlier examples retire
        s.execute(update(Card).values(status="retired"))
    prefix = f"p{uuid.uuid4().hex[:6]}-"
    ids = add_cards(engine, 6, decks=("a", "b", "c"), prefix=prefix)
    me = Learner(engine, add_user(engine, new_per_day=100, reviews_per_day=1000), clock)
    last_answered = None
    for action, arg in actions:
        now = clock.now()
        card = me.next()
        if card is not None:
            assert card.card_id.startswith(prefix)
            with session_scope(engine) as s:
                row = s.get(ReviewState, (me.user_id, card.card_id))
                assert s.get(Card, card.card_id).status == "active"
            if row is not None:
                assert not row.suspended
                assert row.buried_until is None or row.buried_until <= now
                if card.queue in ("review", "learning"):
                    assert row.due <= now
            if card.card_id == last_answered:
                assert not _servable_others(engine, me.user_id, card.card_id, now)
        if action == "answer" and card is not None:
            me.grade(card, arg)
            last_answered = card.card_id
        elif action == "wait":
            clock.advance(minutes=arg)
        elif action == "bury" and card is not None:
            me.call(service.bury, card.card_id, write=True)
        elif action == "suspend":
            me.call(service.set_suspended, ids[arg], True, write=True)
        elif action == "retire":
            with session_scope(engine, write=True) as s:
                s.execute(update(Card).where(Card.id == ids[arg]).values(status="retired"))
