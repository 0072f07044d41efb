"""Which cards a mock interview asks: weakest first, no repeats, decks in proportion."""

from __future__ import annotations

import random
from collections import Counter

from sqlalchemy.engine import Engine

from app.db import session_scope
from app.services.interview import selection, service
from app.services.scheduling import service as scheduler
from app.services.scheduling.clock import FixedClock
from tests.services.interview.conftest import add_card, add_user


def test_allocate_is_proportional_and_exact() -> None:
    assert selection.allocate({"a": 6, "b": 3, "c": 1}, 5) == {"a": 3, "b": 2, "c": 0}
    assert sum(selection.allocate({"a": 7, "b": 5, "c": 2}, 9).values()) == 9
    assert selection.allocate({"a": 2, "b": 1}, 10) == {"a": 2, "b": 1}  # capped at what exists


def test_no_repeats_and_deck_proportions(engine: Engine, clock: FixedClock) -> None:
    user = add_user(engine)
    for i in range(12):
        add_card(engine, f"a{i}", "alpha")
    for i in range(6):
        add_card(engine, f"b{i}", "beta/sub")
    for i in range(6):
        add_card(engine, f"c{i}", "gamma")
    with session_scope(engine) as s:
        pool = selection.candidates(s, user, now=clock.now())
    for seed in range(5):
        plan = selection.choose(pool, 8, weakest=False, rng=random.Random(seed))
        assert len(plan) == len(set(plan)) == 8
        assert Counter(cid[0] for cid in plan) == {"a": 4, "b": 2, "c": 2}
        # interleaved: consecutive questions from different decks where possible
        assert plan[0][0] != plan[1][0]


def test_deck_filter_takes_sub_decks_and_difficulty(engine: Engine, clock: FixedClock) -> None:
    user = add_user(engine)
    add_card(engine, "x1", "beta/sub", difficulty="hard")
    add_card(engine, "x2", "beta", difficulty="easy")
    add_card(engine, "x3", "betamax", difficulty="hard")
    with session_scope(engine) as s:
        pool = selection.candidates(s, user, decks=["beta"], difficulties=["hard"], now=clock.now())
    assert [c.card_id for c in pool] == ["x1"]


def test_weakest_first_by_recall_and_past_interview_scores(
    engine: Engine, clock: FixedClock
) -> None:
    user = add_user(engine)
    ids = [add_card(engine, f"w{i}", "a") for i in range(4)]
    # w0, w1 studied well (Easy); w2 studied but forgotten (Again); w3 never studied.
    with session_scope(engine, write=True) as s:
        for cid, rating in (("w0", 4), ("w1", 4), ("w2", 1)):
            scheduler.grade(
                s, user, cid, rating, idempotency_key=f"k-{cid}", expected_version=0, clock=clock
            )
    clock.advance(days=3)  # recall is computed on whole days
    with session_scope(engine) as s:
        pool = {c.card_id: c for c in selection.candidates(s, user, now=clock.now())}
    assert pool["w3"].weakness == 0.0  # unknown counts as weak
    assert pool["w2"].weakness < pool["w0"].weakness
    plan = selection.choose(list(pool.values()), 2, weakest=True, rng=random.Random(1))
    assert set(plan) == {"w2", "w3"}

    # A poor earlier mock interview on w0 makes it weaker than w1.
    with session_scope(engine, write=True) as s:
        iv = service.start(
            s,
            user,
            service.InterviewConfig(
                questions=1, decks=["a"], weakest=True, follow_ups=False, seed=3
            ),
            clock=clock,
        )
        iv.plan = ["w0"]
        q = service.questions(s, iv.id)[0]
        q.card_id = "w0"
        s.add_all([iv, q])
        service.answer(s, user, iv.id, 0, "nothing", clock=clock)
        service.confirm(s, user, iv.id, 0, [False, False], clock=clock)
    with session_scope(engine) as s:
        pool = {c.card_id: c for c in selection.candidates(s, user, now=clock.now())}
    assert pool["w0"].weakness < pool["w1"].weakness
    assert ids


def test_minutes_give_a_number_of_questions(engine: Engine, clock: FixedClock) -> None:
    user = add_user(engine)
    for i in range(20):
        add_card(engine, f"m{i}", "a", budget=120)
    with session_scope(engine, write=True) as s:
        iv = service.start(
            s, user, service.InterviewConfig(minutes=10, follow_ups=False), clock=clock
        )
        assert len(iv.plan) == 4  # 10 min / (120 s + 30 s)
