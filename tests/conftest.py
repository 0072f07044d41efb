"""Shared fixtures: a real SQLite file per test (copied from one migrated template),
the real local PostgreSQL when BACKPROP_TEST_POSTGRES_URL names it, and app factories."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from app import migrate
from app.db import make_engine
from app.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ENV = "BACKPROP_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrating is slow; do it once and copy the file for each test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


DATABASE_ENV = "BACKPROP_TEST_DATABASE"  # "postgres": every database test on PostgreSQL
DATABASE_FIXTURES = {"database_url", "postgres_template"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, run only the tests that open a database: the rest (card
    text, demo numbers, sandbox) would run a second time to no purpose."""
    if os.environ.get(DATABASE_ENV) != "postgres":
        return
    keep = [
        item
        for item in items
        if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("once") is None
    ]
    dropped = [item for item in items if item not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def run_async(coroutine):  # type: ignore[no-untyped-def]
    """asyncio.run on a thread of its own: the browser tests leave Playwright's loop
    running on this one."""
    with ThreadPoolExecutor(1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


def _pg_admin(server: str):  # type: ignore[no-untyped-def]
    return create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _drop_pg_database(server: str, name: str) -> None:
    admin = _pg_admin(server)
    with admin.connect() as conn:
        # FORCE ends the sessions and drops in one step: a pool that reconnects between a
        # separate terminate and the drop made the drop fail ("being accessed by other users").
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    """With BACKPROP_TEST_DATABASE=postgres: a migrated database to copy per test
    (CREATE DATABASE ... TEMPLATE), the PostgreSQL twin of ``sqlite_template``."""
    if os.environ.get(DATABASE_ENV) != "postgres":
        yield None
        return
    server = postgres_server_url()
    if not server:
        pytest.exit(f"{DATABASE_ENV}=postgres needs {POSTGRES_ENV}", returncode=2)
    name = f"backprop_tmpl_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin(server)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    migrate.upgrade(make_url(server).set(database=name).render_as_string(hide_password=False))
    try:
        yield name
    finally:
        _drop_pg_database(server, name)


@pytest.fixture
def database_url(
    tmp_path: Path, sqlite_template: Path, postgres_template: str | None
) -> Iterator[str]:
    """A migrated, empty database for this test: a SQLite file, or a PostgreSQL database
    when BACKPROP_TEST_DATABASE=postgres (CI runs the suite both ways)."""
    if postgres_template is not None:
        server = postgres_server_url()
        assert server
        name = f"backprop_test_{uuid.uuid4().hex[:12]}"
        admin = _pg_admin(server)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
        admin.dispose()
        try:
            yield make_url(server).set(database=name).render_as_string(hide_password=False)
        finally:
            _drop_pg_database(server, name)
        return
    path = tmp_path / "data" / "backprop.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sqlite_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    path = tmp_path / "content"
    (path / "cards").mkdir(parents=True)
    (path / "demos").mkdir()
    return path


def make_settings(tmp_path: Path, database_url: str, content_dir: Path, **overrides) -> Settings:
    values = dict(
        environment="test",
        data_dir=tmp_path / "data",
        database_url=database_url,
        content_dir=content_dir,
        secret_key="test-secret-key",
        demo_workers=0,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path, database_url: str, content_dir: Path) -> Settings:
    return make_settings(tmp_path, database_url, content_dir)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    from app.main import create_app

    return create_app(settings)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        yield client


# --- accounts -----------------------------------------------------------------

TEST_PASSWORD = "correct horse battery"


@pytest.fixture
def make_user(engine: Engine, settings: Settings):  # type: ignore[no-untyped-def]
    """make_user("alice", role="admin", password=TEST_PASSWORD) -> UserPublic."""
    from app.services import accounts

    def make(username: str = "learner", *, role: str = "learner", password: str = TEST_PASSWORD):
        with Session(engine, expire_on_commit=False) as session:
            user = accounts.create_user(
                session,
                username,
                password,
                role=role,
                passwords=accounts.passwords_from_settings(settings),
            )
            return accounts.to_public(user)

    return make


def log_in(client, username: str, password: str = TEST_PASSWORD) -> str:  # type: ignore[no-untyped-def]
    """Logs a TestClient in through the JSON API and sets its X-CSRF-Token header for
    every later request; returns the token."""
    client.headers.pop("X-CSRF-Token", None)
    token = client.get("/api/auth/csrf").json()["csrf_token"]
    response = client.post(
        "/api/auth/login",
        json={"username": username, "password": password},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200, response.text
    token = response.json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return token


@pytest.fixture
def learner_client(client, make_user):  # type: ignore[no-untyped-def]
    """The client, logged in as the learner "learner" (CSRF header set)."""
    make_user("learner")
    log_in(client, "learner")
    return client


@pytest.fixture
def admin_client(client, make_user):  # type: ignore[no-untyped-def]
    """The client, logged in as the admin "admin" (CSRF header set)."""
    make_user("admin", role="admin")
    log_in(client, "admin")
    return client


# --- PostgreSQL -------------------------------------------------------------


def postgres_server_url() -> str | None:
    return os.environ.get(POSTGRES_ENV)


def skip_unless_available(reason: str) -> None:
    """Skips locally when a real service is missing; fails in CI, where nothing may be skipped."""
    if os.environ.get("BACKPROP_TEST_REQUIRE_ALL"):
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty database on the real PostgreSQL, dropped afterwards."""
    server = postgres_server_url()
    if not server:
        skip_unless_available(f"{POSTGRES_ENV} is not set (CI sets it)")
    name = f"backprop_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def any_database_url(request: pytest.FixtureRequest, database_url: str) -> str:
    """Both real backends, migrated: for persistence tests that must hold on each."""
    if request.param == "sqlite":
        return database_url
    url = request.getfixturevalue("postgres_url")
    migrate.upgrade(url)
    return url


@pytest.fixture
def any_engine(any_database_url: str) -> Iterator[Engine]:
    engine = make_engine(any_database_url)
    yield engine
    engine.dispose()
