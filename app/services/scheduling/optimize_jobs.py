"""Fitting jobs of this web process: one per learner, at most `max_jobs` at once.

Each fit is a separate process (`backprop optimize`); without a bound, every POST would
start another. A learner who asks again while their fit runs gets the running one; when
every slot is taken the request is refused with 429 and a sentence.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable

from sqlmodel import Session

from app.services.errors import ServiceError
from app.services.scheduling import optimizer


class OptimizerBusy(ServiceError):
    code = "optimizer_busy"
    status = 429

    def __init__(self) -> None:
        super().__init__(
            "Other learners' parameters are being fitted right now. Try again in a minute."
        )


Starter = Callable[[Session, int], "subprocess.Popen[bytes]"]


class OptimizeJobs:
    def __init__(self, max_jobs: int, start: Starter = optimizer.start_optimize_job) -> None:
        self.max_jobs = max_jobs
        self._start = start
        self._running: dict[int, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    def running(self) -> int:
        with self._lock:
            self._reap()
            return len(self._running)

    def start(self, session: Session, user_id: int) -> bool:
        """Starts this learner's fit unless one is running; True when one was started.
        Raises OptimizerBusy when `max_jobs` fits of other learners are running."""
        with self._lock:
            self._reap()
            if user_id in self._running:
                return False
            if len(self._running) >= self.max_jobs:
                raise OptimizerBusy()
            self._running[user_id] = self._start(session, user_id)
            return True

    def _reap(self) -> None:
        for user_id, process in list(self._running.items()):
            if process.poll() is not None:
                del self._running[user_id]
