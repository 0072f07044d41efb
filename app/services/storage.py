"""Storage faults (disk full, read-only database, database gone) as one refusal, and a
probe of the write path for /healthz."""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from app.services.errors import ServiceError

# Below this much free space next to a SQLite file, writes are about to fail.
MIN_FREE_BYTES = 8 << 20

# Substrings of driver messages, mapped to what an operator should read (never the SQL).
_KINDS = (
    ("disk is full", "disk full"),
    ("no space left", "disk full"),
    ("could not extend file", "disk full"),
    ("readonly database", "read-only"),
    ("read-only", "read-only"),
    ("read only", "read-only"),
    ("database is locked", "busy"),
    ("disk i/o error", "I/O error"),
)


class StorageUnavailable(ServiceError):
    """The database cannot take a write (or answer) right now."""

    code = "storage_unavailable"
    status = 503

    def __init__(self, kind: str = "unavailable") -> None:
        self.kind = kind
        super().__init__(
            "The server cannot save right now (its storage is "
            f"{'busy' if kind == 'busy' else 'unavailable: ' + kind}). "
            "Nothing was saved; please try again in a minute."
        )


def is_storage_fault(exc: BaseException) -> bool:
    """Operational errors are the server's trouble, never the client's input."""
    return isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and fault_kind(exc) != "unavailable"
    )


def fault_kind(exc: BaseException) -> str:
    message = str(getattr(exc, "orig", exc)).lower()
    for needle, kind in _KINDS:
        if needle in message:
            return kind
    return "unavailable"


@dataclass
class WriteProbe:
    """Checks that the database takes a write, at most every `interval_s`; a fault seen
    by a request (`record`) shows at once.

    The write runs on a thread of its own: its commit may checkpoint the WAL (an fsync
    that takes seconds on a busy disk), and /healthz must not wait for that. A caller
    waits at most `wait_s` for a fresh answer, else gets the last one."""

    engine: Engine
    interval_s: float = 5.0
    wait_s: float = 0.05
    _checked_at: float = field(default=-1e9, init=False)
    _problem: str | None = field(default=None, init=False)
    _running: Future[str | None] | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _thread: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="write-probe"),
        init=False,
    )

    def record(self, kind: str) -> None:
        self._problem, self._checked_at = kind, time.monotonic()

    def problem(self) -> str | None:
        """None when writes work, else a short kind ("disk full", "read-only", ...)."""
        with self._lock:
            if self._running is None and time.monotonic() - self._checked_at >= self.interval_s:
                self._running = self._thread.submit(self._probe)
            running = self._running
        if running is not None:
            try:
                result = running.result(timeout=self.wait_s)
            except TimeoutError:
                return self._problem  # still probing: the last answer stands
            with self._lock:
                if self._running is running:
                    self._problem, self._checked_at = result, time.monotonic()
                    self._running = None
        return self._problem

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)

    def _probe(self) -> str | None:
        database = self.engine.url.database
        if self.engine.dialect.name == "sqlite" and database and database != ":memory:":
            try:
                if shutil.disk_usage(Path(database).parent).free < MIN_FREE_BYTES:
                    return "disk full"
            except OSError:
                return "I/O error"
        sqlite = self.engine.dialect.name == "sqlite"
        try:
            with self.engine.connect() as conn:
                if sqlite:
                    # Another writer holding the lock (a long import) is not a fault:
                    # wait briefly, never the full busy timeout.
                    conn.exec_driver_sql("PRAGMA busy_timeout = 200")
                try:
                    # A real write to a row every migrated database has, committed: a
                    # read-only file, a full disk or a read-only transaction fail here.
                    conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
                    conn.commit()
                finally:
                    if sqlite:
                        conn.rollback()
                        conn.exec_driver_sql("PRAGMA busy_timeout = 10000")  # app.db default
        except DBAPIError as exc:
            kind = fault_kind(exc)
            return None if kind == "busy" else kind
        return None
