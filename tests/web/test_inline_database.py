"""SQLite work of the hot routes runs on the event loop (app.web.deps.run_db): it must
never make the loop wait for something only a request parked on that loop can free."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import httpx

from app.db import make_engine
from app.web.deps import run_db
from tests.conftest import TEST_PASSWORD, make_settings, run_async


def test_run_db_is_inline_on_sqlite_and_in_a_worker_thread_elsewhere(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sqlite_engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    network_engine = SimpleNamespace(dialect=SimpleNamespace(name="postgresql"))

    async def threads() -> tuple[int, int, int]:
        here = threading.get_ident()
        inline = await run_db(sqlite_engine, threading.get_ident)
        pooled = await run_db(network_engine, threading.get_ident)  # type: ignore[arg-type]
        return here, inline, pooled

    here, inline, pooled = run_async(threads())
    assert inline == here
    assert pooled != here
    sqlite_engine.dispose()


def test_sqlite_connections_are_never_waited_for(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}", pool_size=2)
    held = [engine.connect() for _ in range(12)]  # a capped pool would block on the 3rd+
    assert all(not c.closed for c in held)
    for connection in held:
        connection.close()
    engine.dispose()


def test_many_learners_logging_in_at_once_on_a_small_pool_all_get_their_page(  # type: ignore[no-untyped-def]
    tmp_path, database_url, content_dir, make_user
) -> None:
    """Login is a sync route whose session (a sync dependency) holds a connection between
    pool threads and the loop, while /practice resolves the user inline: with a pool
    capped at one connection, the loop would wait for a connection that only the loop
    can give back."""
    from app.main import create_app

    settings = make_settings(
        tmp_path, database_url, content_dir, database_pool_size=1, database_max_overflow=0
    )
    app = create_app(settings)
    names = [f"learner{i}" for i in range(20)]
    for name in names:
        make_user(name)

    async def learner(transport: httpx.ASGITransport, name: str) -> int:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            token = (await client.get("/api/auth/csrf")).json()["csrf_token"]
            logged = await client.post(
                "/api/auth/login",
                json={"username": name, "password": TEST_PASSWORD},
                headers={"X-CSRF-Token": token},
            )
            assert logged.status_code == 200, logged.text
            return (await client.get("/practice")).status_code

    async def scenario() -> list[int]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            learners = asyncio.gather(*(learner(transport, name) for name in names))
            return await asyncio.wait_for(learners, timeout=60)

    assert run_async(scenario()) == [200] * len(names)
