"""What live demo-run streams share: a cap on the streams one client holds, and one
database read per run and poll interval however many streams watch that run.

Every stream polls its run's view every ``SSE_POLL_S``; without sharing, 150 streams
on one run are 1,500 reads a second on threads that fight the event loop for the GIL
(/healthz waited 0.6 s in the abuse bench). Runs being watched are those queued, running
or just done, so the reads are bounded by the queue, not by the streams.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


class StreamCounter:
    """Live progress streams per client (learner or address), capped: each holds a
    connection and polls the database."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> bool:
        with self._lock:
            if self._open.get(key, 0) >= self.limit:
                return False
            self._open[key] = self._open.get(key, 0) + 1
            return True

    def release(self, key: str) -> None:
        with self._lock:
            left = self._open.get(key, 0) - 1
            if left > 0:
                self._open[key] = left
            else:
                self._open.pop(key, None)


View = dict[str, Any] | None


class SharedViews:
    """``get(key, fetch)``: the view read for ``key`` less than ``max_age_s`` ago, or
    a new read shared by everyone who asks while it runs. Lives on the event loop (no
    locks); a stream that goes away never cancels a read others wait for."""

    KEEP = 512  # entries kept before old ones are dropped

    def __init__(self, max_age_s: float) -> None:
        self.max_age_s = max_age_s
        self._reads: dict[Hashable, tuple[float, asyncio.Future[View]]] = {}

    async def get(self, key: Hashable, fetch: Callable[[], Awaitable[View]]) -> View:
        now = asyncio.get_running_loop().time()
        held = self._reads.get(key)
        if held is None or now - held[0] >= self.max_age_s:
            if len(self._reads) >= self.KEEP:
                self._reads = {
                    k: (at, read)
                    for k, (at, read) in self._reads.items()
                    if now - at < self.max_age_s
                }
            held = (now, asyncio.ensure_future(fetch()))
            self._reads[key] = held
        return await asyncio.shield(held[1])
