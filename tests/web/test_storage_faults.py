"""Disk full or a read-only database: grades get 503 with a sentence, nothing is half
written, /healthz reports the failing write path, and no SQL text leaks anywhere."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.models.review import ReviewLog, ReviewState
from tests.services.scheduling.conftest import add_cards


@contextmanager
def read_only(engine: Engine) -> Iterator[None]:
    """Every new connection of `engine` is read-only (the pool is emptied first), as a
    read-only file (SQLite) or a read-only server (PostgreSQL) makes it."""
    sqlite = engine.dialect.name == "sqlite"

    def apply(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        if sqlite:
            dbapi_connection.execute("PRAGMA query_only = ON")
        else:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET default_transaction_read_only = on")
            dbapi_connection.commit()

    event.listen(engine, "connect", apply)
    engine.dispose()
    try:
        yield
    finally:
        event.remove(engine, "connect", apply)
        engine.dispose()


@contextmanager
def disk_full(engine: Engine) -> Iterator[None]:
    """The driver's own error for a full disk, on every write statement."""

    def refuse(conn, cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            raise sqlite3.OperationalError("database or disk is full")

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


HTML = {"accept": "text/html"}


def sqlite_only(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("simulates SQLite's own error or file")


def answer(client, key: str) -> dict:  # type: ignore[no-untyped-def]
    card = client.get("/api/review/next").json()["card"]
    return {"card_id": card["card_id"], "rating": 3, "version": card["version"],
            "idempotency_key": key}  # fmt: skip


def counts(engine: Engine) -> tuple[int, int]:
    with Session(engine) as s:
        return (
            s.execute(select(func.count()).select_from(ReviewState)).scalar_one(),
            s.execute(select(func.count()).select_from(ReviewLog)).scalar_one(),
        )


def assert_no_sql(text: str) -> None:
    for word in ("INSERT", "UPDATE", "SELECT", "sqlite3", "OperationalError"):
        assert word not in text


def test_read_only_database_gives_503_and_writes_nothing(learner_client, app, engine) -> None:  # type: ignore[no-untyped-def]
    add_cards(engine, 2)
    body = answer(learner_client, "k1")
    assert learner_client.get("/healthz").json()["writes"] == "ok"
    with read_only(app.state.engine):
        refused = learner_client.post("/api/review/grade", json=body)
        health = learner_client.get("/healthz")
    assert refused.status_code == 503
    detail = refused.json()["detail"]
    assert detail["code"] == "storage_unavailable"
    assert "Nothing was saved" in detail["message"] and "read-only" in detail["message"]
    assert_no_sql(refused.text)
    assert counts(engine) == (0, 0)
    assert health.status_code == 503
    assert health.json() == {"status": "error", "database": "ok", "writes": "read-only"}
    assert_no_sql(health.text)
    # Writable again: the same answer goes through.
    app.state.write_probe.interval_s = 0
    app.state.write_probe.wait_s = 10  # a fresh answer, however loaded the machine
    assert learner_client.post("/api/review/grade", json=body).status_code == 200
    assert counts(engine) == (1, 1)
    assert learner_client.get("/healthz").json()["status"] == "ok"


def test_full_disk_gives_503_to_people_too(learner_client, app, engine) -> None:  # type: ignore[no-untyped-def]
    sqlite_only(engine)
    add_cards(engine, 2)
    body = answer(learner_client, "k1")
    with disk_full(app.state.engine):
        refused = learner_client.post("/api/review/grade", json=body, headers=HTML)
    assert refused.status_code == 503, refused.text
    assert "disk full" in refused.text and "Nothing was saved" in refused.text
    assert_no_sql(refused.text)
    assert counts(engine) == (0, 0)
    assert learner_client.get("/healthz").json()["writes"] == "disk full"


def test_healthz_reports_a_nearly_full_disk(client, app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sqlite_only(app.state.engine)  # the free-space check is for a database file beside us
    import shutil

    real = shutil.disk_usage
    monkeypatch.setattr(
        "app.services.storage.shutil.disk_usage", lambda p: real(p)._replace(free=1024)
    )
    app.state.write_probe.interval_s = 0
    app.state.write_probe.wait_s = 10  # a fresh answer, however loaded the machine
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["writes"] == "disk full"


def test_healthz_never_shows_sql(tmp_path, content_dir) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none", content_dir)
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "unavailable",
        "writes": "unavailable",
    }
    assert "127.0.0.1" not in response.text and "psycopg" not in response.text
