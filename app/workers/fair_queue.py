"""A bounded queue that serves its owners in turn: one run of each waiting owner before a
second run of any, so one account that queued eight runs does not starve a learner who
queued one. No torch: the web process imports it.
"""

from __future__ import annotations

import collections
import queue
import threading
import time
from typing import Generic, TypeVar

T = TypeVar("T")


class FairQueue(Generic[T]):
    """``put_nowait(item, owner)`` raises ``queue.Full`` at ``maxsize`` items in all;
    ``get(timeout)`` raises ``queue.Empty``. Owners are served round-robin, each owner's
    items in the order they came."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._by_owner: collections.OrderedDict[str, collections.deque[T]] = (
            collections.OrderedDict()
        )
        self._size = 0
        self._cond = threading.Condition()

    def qsize(self) -> int:
        with self._cond:
            return self._size

    def put_nowait(self, item: T, owner: str = "") -> None:
        with self._cond:
            if self._size >= self.maxsize:
                raise queue.Full
            self._by_owner.setdefault(owner, collections.deque()).append(item)
            self._size += 1
            self._cond.notify()

    def _take(self) -> T:
        owner, items = next(iter(self._by_owner.items()))
        item = items.popleft()
        # The owner goes to the back of the line (or leaves it when it has nothing left).
        del self._by_owner[owner]
        if items:
            self._by_owner[owner] = items
        self._size -= 1
        return item

    def get_nowait(self) -> T:
        with self._cond:
            if not self._size:
                raise queue.Empty
            return self._take()

    def get(self, timeout: float | None = None) -> T:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._size:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise queue.Empty
                self._cond.wait(remaining)
            return self._take()
