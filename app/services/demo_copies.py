"""A demo's source for learners to read, and their edited copies run as hostile code.

The copy runs through the judge (a fresh bubblewrap process per run, the judge's limits),
never through the demo runner: it is not the shared demo, so it gets no ``demo_run`` row
and never reads or fills the result cache, and the demo file itself is only ever read.
No fastapi, no torch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.demos.registry import demo_dir
from app.services.demo_runs import RateLimiter
from app.services.errors import ServiceError

MAX_SOURCE_CHARS = 100_000  # the largest demo is a few times smaller
MAX_PARAMS = 64

Runner = Callable[[str, dict[str, Any]], dict[str, Any]]


class DemoSourceNotFound(ServiceError):
    code, status = "demo_not_found", 404


class CopyInvalid(ServiceError):
    code, status = "demo_copy_invalid", 422


class CopyRefused(ServiceError):
    code, status = "demo_copy_refused", 401


class CopyBusy(ServiceError):
    code, status = "demo_copy_busy", 429

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class CopyRunnerDown(ServiceError):
    code, status = "demo_copy_unavailable", 503


class DemoCopies:
    """Thread-safe; ``run_copy`` blocks for the run (call it from a worker thread)."""

    def __init__(self, content_dir: Path, runner: Runner, *, limiter: Any | None = None) -> None:
        self.content_dir = Path(content_dir)
        self.runner = runner
        self.limiter = limiter or RateLimiter(per_minute=6, burst=3)
        self._running: set[int] = set()
        self._lock = threading.Lock()

    def source(self, name: str) -> str:
        """The demo file's text. Raises DemoSourceNotFound."""
        path = demo_dir(self.content_dir) / f"{name}.py"
        if not name.isidentifier() or name.startswith("_") or not path.is_file():
            raise DemoSourceNotFound(f"There is no demo named {name[:64]!r}.")
        return path.read_text(encoding="utf-8")

    def run_copy(
        self, user_id: int | None, name: str, source: Any, params: Any = None
    ) -> dict[str, Any]:
        """Runs the learner's edited copy of demo ``name`` in the judge's sandbox:
        ``{"ok", "reason", "message", "result"?, "seconds"}``. Refusals: CopyRefused (not
        signed in), DemoSourceNotFound, CopyInvalid, CopyBusy, CopyRunnerDown."""
        if user_id is None:
            raise CopyRefused("Sign in to run an edited copy of a demo.")
        self.source(name)  # the demo must exist
        if not isinstance(source, str) or not source.strip():
            raise CopyInvalid("The copy must be the demo's Python source, as text.")
        if len(source) > MAX_SOURCE_CHARS:
            raise CopyInvalid(
                f"The copy is {len(source):,} characters long; the limit is {MAX_SOURCE_CHARS:,}."
            )
        if "\x00" in source:
            raise CopyInvalid("The copy contains a NUL character.")
        if params is None:
            params = {}
        if not isinstance(params, dict) or len(params) > MAX_PARAMS:
            raise CopyInvalid("The parameters must be an object of at most 64 values.")
        wait = self.limiter.acquire(f"user:{user_id}")
        if wait:
            raise CopyBusy(f"Too many runs of edited demos; try again in {wait} s.", wait)
        with self._lock:
            if user_id in self._running:
                raise CopyBusy("Your previous copy is still running.", 2)
            self._running.add(user_id)
        try:
            return self.runner(source.replace("\u00a0", " "), params)
        except RuntimeError as exc:  # JudgeUnavailable; the message says why
            raise CopyRunnerDown(f"Edited demos cannot run right now: {exc}.") from exc
        finally:
            with self._lock:
                self._running.discard(user_id)
