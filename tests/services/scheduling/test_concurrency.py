"""Concurrent submits for one learner, from threads, on a real SQLite file and on the
real PostgreSQL: no review is lost or doubled."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select

from app.db import session_scope
from app.models.review import ReviewLog, ReviewState
from app.services.scheduling import replay, service
from app.services.scheduling.clock import FixedClock
from tests.services.scheduling.conftest import START, add_cards, add_user


def _run_threads(targets) -> list[BaseException | object]:
    results: list[BaseException | object] = [None] * len(targets)
    barrier = threading.Barrier(len(targets))

    def run(i, fn):
        barrier.wait()
        try:
            results[i] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _grade(engine, user_id, card_id, key, clock, version=0, rating=3):
    def go():
        with session_scope(engine, write=True) as s:
            return service.grade(s, user_id, card_id, rating, idempotency_key=key,
                                 expected_version=version, clock=clock)  # fmt: skip

    return go


def test_concurrent_submits_never_lose_or_double(any_engine):
    engine = any_engine
    clock = FixedClock(START)
    cards = add_cards(engine, 8)
    user_id = add_user(engine, new_per_day=100)
    # 8 different cards at once, plus the same answer sent twice (a double click) and
    # a second tab grading the first card with the same version but another key.
    targets = [_grade(engine, user_id, c, f"key-{c}", clock) for c in cards]
    targets.append(_grade(engine, user_id, cards[1], f"key-{cards[1]}", clock))
    targets.append(_grade(engine, user_id, cards[0], "other-tab", clock, rating=1))
    results = _run_threads(targets)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(e, service.GradeConflict) for e in errors), errors
    # The double click and the other tab race the first answer to cards[1] and cards[0]:
    # exactly one answer per card is recorded whichever wins.
    with session_scope(engine) as s:
        logs = s.execute(select(ReviewLog.card_id)).scalars().all()
        assert Counter(logs) == Counter(cards)
        assert s.execute(select(func.count()).select_from(ReviewState)).scalar_one() == 8
        assert all(v == 1 for v in s.execute(select(ReviewState.version)).scalars())
        assert replay.verify(s, user_id) == []
    assert len(errors) == 1  # the other tab (the duplicate key replays, it does not fail)
