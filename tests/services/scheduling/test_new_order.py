"""New cards: easy before hard within a deck, decks in turn, a newly published card a
candidate at once; "added" and "random" orders as in Anki."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from app.db import session_scope
from app.models.card import Card
from app.models.review import LearnerSettingsUpdate
from app.services.scheduling import service
from tests.services.scheduling.conftest import START


def add(engine, rows: list[tuple[str, str, str]], minutes: int = 0) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine, write=True) as s:
        for cid, deck, difficulty in rows:
            created = START + timedelta(minutes=minutes)
            s.add(Card(id=cid, deck=deck, title=cid, difficulty=difficulty, file_path=f"{cid}.md",
                       content_hash="h", created_at=created))  # fmt: skip


SEED = [
    ("a-adam", "optim", "hard"),  # the smallest id: it used to come first for everyone
    ("b-sgd", "optim", "easy"),
    ("c-momentum", "optim", "medium"),
    ("d-bn", "training", "medium"),
    ("e-dropout", "training", "easy"),
    ("f-rnn", "sequence", "hard"),
]


def new_order(learner, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    seen = []
    for _ in range(n):
        card = learner.next()
        assert card is not None and card.queue == "new"
        seen.append(card.card_id)
        learner.grade(card, 4)  # Easy: out of today's queue
    return seen


def test_easy_first_in_each_deck_and_the_decks_in_turn(engine, make_learner) -> None:  # type: ignore[no-untyped-def]
    add(engine, SEED)
    learner = make_learner(new_per_day=20)
    order = new_order(learner, 6)
    # The easy cards first, not the hard Adam card with the smallest id.
    assert set(order[:2]) == {"b-sgd", "e-dropout"}
    decks = [dict((c, d) for c, d, _ in SEED)[c] for c in order]
    assert all(a != b for a, b in zip(decks[:4], decks[1:4], strict=False)), decks  # interleaved
    assert order.index("b-sgd") < order.index("c-momentum") < order.index("a-adam")


def test_a_newly_published_easy_card_comes_before_the_deck_s_harder_ones(  # type: ignore[no-untyped-def]
    engine, make_learner
) -> None:
    add(engine, SEED)
    learner = make_learner(new_per_day=20)
    new_order(learner, 1)
    add(engine, [("z-new", "optim", "easy")], minutes=60)  # published later, largest id
    order = new_order(learner, 3)
    assert "z-new" in order


def test_added_order_and_a_stable_random_order(engine, make_learner) -> None:  # type: ignore[no-untyped-def]
    add(engine, [("b", "d", "easy")], minutes=2)
    add(engine, [("a", "d", "hard")], minutes=1)
    add(engine, [("c", "d", "easy")], minutes=3)
    added = make_learner(new_per_day=20, new_card_order="added")
    assert new_order(added, 3) == ["a", "b", "c"]
    shuffled = make_learner(new_per_day=20, new_card_order="random")
    first = shuffled.next()
    assert first is not None and shuffled.next().card_id == first.card_id  # stable on reload


def test_an_unknown_order_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="new_card_order"):
        LearnerSettingsUpdate(new_card_order="hardest")  # type: ignore[arg-type]


def test_an_interview_date_needs_minutes_on_every_door(engine, make_learner) -> None:  # type: ignore[no-untyped-def]
    learner = make_learner()
    with (
        pytest.raises(ValidationError, match="an interview date needs minutes per day"),
        session_scope(engine, write=True) as s,
    ):
        service.update_settings(
            s, learner.user_id, LearnerSettingsUpdate(interview_on=START.date() + timedelta(30))
        )
    with session_scope(engine, write=True) as s:
        row = service.update_settings(
            s, learner.user_id,
            LearnerSettingsUpdate(interview_on=START.date() + timedelta(30),
                                  interview_minutes_per_day=30),
        )  # fmt: skip
        assert row.interview_minutes_per_day == 30


def test_studying_one_deck_serves_and_counts_only_its_cards(engine, make_learner) -> None:  # type: ignore[no-untyped-def]
    add(engine, SEED)
    learner = make_learner(new_per_day=20)
    with session_scope(engine) as s:
        counts = service.deck_counts(s, learner.user_id, clock=learner.clock)
    assert counts["optim"].new == 3 and counts["training"].new == 2
    seen = []
    for _ in range(3):
        with session_scope(engine) as s:
            card, queue = service.next_with_counts(
                s, learner.user_id, clock=learner.clock, deck="optim"
            )
        assert card is not None
        seen.append(card.card_id)
        learner.grade(card, 4)
    assert sorted(seen) == ["a-adam", "b-sgd", "c-momentum"]
    with session_scope(engine) as s:
        card, queue = service.next_with_counts(
            s, learner.user_id, clock=learner.clock, deck="optim"
        )
    assert card is None and queue.new == 0


def test_custom_study_raises_today_s_new_limit_only(engine, make_learner) -> None:  # type: ignore[no-untyped-def]
    add(engine, SEED)
    learner = make_learner(new_per_day=2)
    new_order(learner, 2)
    assert learner.next() is None  # the day's two new cards are done
    with session_scope(engine, write=True) as s:
        assert service.raise_new_limit(s, learner.user_id, 1, clock=learner.clock) == 3
    assert new_order(learner, 1)
    assert learner.next() is None
    learner.clock.advance(days=1)  # the extra was for that day only
    assert learner.counts().new == 2
    with (
        pytest.raises(service.SchedulingError, match="1 to 9999"),
        session_scope(engine, write=True) as s,
    ):
        service.raise_new_limit(s, learner.user_id, 0, clock=learner.clock)


def test_the_sql_head_of_the_new_order_is_the_python_order(any_engine) -> None:  # type: ignore[no-untyped-def]
    """The first cards of the "difficulty" and "added" orders ranked in SQL equal
    new_order.order_new over every unseen card: ties on the time added broken by id as
    Python compares strings, started cards left out, sub-decks in their deck and LIKE's
    wildcards taken literally. (The ids mix '-', '_', digits and capitals; where the
    server's default collation is C.UTF-8, as here, it cannot tell a word-wise collation
    from the "C" one the statement asks for.)"""
    import random

    from sqlalchemy import insert

    from app.models.review import ReviewState
    from app.services.scheduling import new_order, queue
    from tests.services.scheduling.conftest import add_user

    rng = random.Random(5)
    decks = ["optim", "optim/adaptive", "x_y", "xzy", "training"]
    ids = [f"{rng.choice(['a', 'b', 'a-', 'a_', 'A', 'b1'])}{i}" for i in range(120)]
    with session_scope(any_engine, write=True) as s:
        for cid in ids:
            s.add(Card(id=cid, deck=rng.choice(decks), title=cid, file_path=f"{cid}.md",
                       difficulty=rng.choice(["easy", "medium", "hard", "odd"]), content_hash="h",
                       created_at=START + timedelta(minutes=rng.choice([0, 0, 1, 2]))))  # fmt: skip
    user_id = add_user(any_engine)
    started = ids[::7]
    with session_scope(any_engine, write=True) as s:
        s.execute(insert(ReviewState), [
            dict(user_id=user_id, card_id=cid, fsrs_state=1, due=START, reps=1, lapses=0,
                 version=1, suspended=False) for cid in started
        ])  # fmt: skip
    with session_scope(any_engine) as s:
        every = queue.unseen_in_order(s, user_id, START, "added")
        assert len(every) == len(ids) - len(started)
        for order in ("difficulty", "added"):
            expected = new_order.order_new(every, order, user_id)
            for deck in (None, "optim", "x_y"):
                want = [c.id for c in queue.in_deck(expected, deck)]
                got = queue.unseen_head(s, user_id, START, order, 1000, deck)
                assert [c.id for c in got] == want, (order, deck)
                assert [c.id for c in queue.unseen_head(s, user_id, START, order, 5, deck)] == want[
                    :5
                ]
                assert queue.unseen_count(s, user_id, START, deck) == len(want)
