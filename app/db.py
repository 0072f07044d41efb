"""Engines, sessions and the writer rule. (The shared metadata's naming convention is set
in app/models/base.py, which every table module imports before it defines a table.)"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import CursorResult, Engine, make_url
from sqlmodel import Session, create_engine

import app.models.base  # noqa: F401  (the naming convention, before any table is defined)
from app.settings import Settings


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
    # Writers take the lock at BEGIN, so two concurrent read-then-write transactions
    # queue up instead of failing with "database is locked" halfway through.
    # Readers keep a plain BEGIN and run beside each other under WAL.
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(
    database_url: str, *, pool_size: int = 10, max_overflow: int | None = None
) -> Engine:
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver we ship
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # No cap on connections: a SQLite connection is a file handle, and a capped pool
        # could make the event loop (app.web.deps.run_db) wait on a connection that only
        # a request parked on that loop can give back.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "isolation_level": None},
            pool_size=pool_size,
            max_overflow=-1,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    overflow = pool_size if max_overflow is None else max_overflow
    return create_engine(url, pool_size=pool_size, max_overflow=overflow, pool_pre_ping=True)


def engine_for(settings: Settings) -> Engine:
    return make_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )


def writer(engine: Engine) -> Engine:
    """The same engine, but SQLite transactions take the write lock when they begin.

    Use it for read-then-write work (grading, importing) so concurrent writers
    serialise cleanly; PostgreSQL ignores the option.
    """
    return engine.execution_options(sqlite_immediate=True)


def begin_write(session: Session) -> None:
    """Start the session's next transaction as a writer: on SQLite it takes the write
    lock at BEGIN, so its reads and the write that follows cannot be overtaken by another
    writer ("database is locked" halfway through). The session must have no transaction
    open: commit or roll back first. PostgreSQL ignores the option."""
    session.connection(execution_options={"sqlite_immediate": True})


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    with Session(writer(engine) if write else engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def read_rows(
    session: Session, statement: Any, params: Mapping[str, Any] | None = None
) -> CursorResult[*tuple[Any, ...]]:
    """Run a select of columns (no entities) on the session's connection, in its
    transaction, and return the plain rows. Session.execute would wrap the same result
    in the ORM's per-statement machinery, which costs more than SQLite's own work for
    the small reads of a request. Pending changes are flushed first, as autoflush does."""
    if session.autoflush:
        session.flush()  # nothing to do (and cheap) when the session is clean
    return session.connection().execute(statement, params)


@contextmanager
def configured_engine(database_url: str | None = None) -> Iterator[Engine]:
    """An engine for the configured database (or database_url), disposed afterwards:
    what one CLI command needs."""
    from app.settings import get_settings

    engine = make_engine(database_url or get_settings().database_url)
    try:
        yield engine
    finally:
        engine.dispose()


# SQLite allows one writer at a time, and a writer that finds the lock taken sleeps in
# SQLite's busy handler (1, 2, 5 ... 100 ms steps) instead of waking when it is free.
# Within this process, answers wait on a Python lock instead: handed over at once.
# (PostgreSQL needs none of this: the learner's row lock orders their answers.)
_SQLITE_WRITER = threading.Lock()


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A writer session; on SQLite, writers of this process queue on one lock first."""
    if engine.dialect.name != "sqlite":
        with session_scope(engine, write=True) as session:
            yield session
        return
    with _SQLITE_WRITER, session_scope(engine, write=True) as session:
        yield session
