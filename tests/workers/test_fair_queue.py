"""The pool's queue serves learners in turn (issue 14: fair shared compute)."""

from __future__ import annotations

import queue
import threading

import pytest

from app.workers.fair_queue import FairQueue


def test_owners_are_served_in_turn_each_in_order() -> None:
    q: FairQueue[str] = FairQueue(maxsize=100)
    for owner in "ABCDE":
        for i in range(8):
            q.put_nowait(f"{owner}{i}", owner)
    q.put_nowait("learner0", "L")
    first_round = [q.get_nowait() for _ in range(6)]
    assert first_round == ["A0", "B0", "C0", "D0", "E0", "learner0"]
    assert q.get_nowait() == "A1"


def test_the_bound_is_on_all_items_and_get_waits() -> None:
    q: FairQueue[int] = FairQueue(maxsize=2)
    q.put_nowait(1, "a")
    q.put_nowait(2, "b")
    with pytest.raises(queue.Full):
        q.put_nowait(3, "c")
    assert q.qsize() == 2
    assert [q.get(timeout=0.1), q.get(timeout=0.1)] == [1, 2]
    with pytest.raises(queue.Empty):
        q.get(timeout=0.05)
    threading.Timer(0.05, lambda: q.put_nowait(4, "a")).start()
    assert q.get(timeout=2) == 4
