"""``backprop create-admin`` / ``create-user`` / ``set-role`` / ``set-password``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from app.cli import cli
from app.db import make_engine
from app.services import accounts
from app.settings import get_settings

PASSWORD = "correct horse battery"


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator:  # type: ignore[type-arg]
    monkeypatch.setenv("BACKPROP_DATABASE_URL", database_url)
    monkeypatch.setenv("BACKPROP_ENVIRONMENT", "test")  # the cheap Argon2 cost
    get_settings.cache_clear()

    def invoke(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, list(args), input=stdin)

    yield invoke
    get_settings.cache_clear()


def user(database_url: str, name: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return accounts.get_user_by_username(session, name)
    finally:
        engine.dispose()


def test_create_admin_from_stdin(run, database_url: str) -> None:  # type: ignore[no-untyped-def]
    result = run("create-admin", "Root", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "created admin root" in result.output
    admin = user(database_url, "root")
    assert admin.role == "admin"
    assert admin.password_hash.startswith("$argon2id$")


def test_create_admin_prompts_twice(run, database_url: str) -> None:  # type: ignore[no-untyped-def]
    result = run("create-admin", "root", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden input
    assert user(database_url, "root").role == "admin"


def test_create_user_refuses_weak_passwords_and_duplicates(run, database_url: str) -> None:  # type: ignore[no-untyped-def]
    weak = run("create-user", "bob", "--password-stdin", stdin="short\n")
    assert weak.exit_code == 1
    assert "at least 8 characters" in weak.output
    assert user(database_url, "bob") is None
    assert run("create-user", "bob", "--password-stdin", stdin=PASSWORD).exit_code == 0
    assert user(database_url, "bob").role == "learner"
    again = run("create-admin", "bob", "--password-stdin", stdin=PASSWORD)
    assert again.exit_code == 1
    assert "set-role bob admin" in again.output


def test_set_role_and_set_password(run, database_url: str) -> None:  # type: ignore[no-untyped-def]
    run("create-admin", "root", "--password-stdin", stdin=PASSWORD)
    run("create-user", "bob", "--password-stdin", stdin=PASSWORD)
    assert run("set-role", "root", "learner").exit_code == 1  # the last admin
    assert run("set-role", "bob", "admin").exit_code == 0
    assert user(database_url, "bob").role == "admin"
    assert run("set-role", "nobody", "admin").exit_code == 1
    version = user(database_url, "bob").session_version
    result = run("set-password", "bob", "--password-stdin", stdin="another passphrase\n")
    assert result.exit_code == 0, result.output
    assert user(database_url, "bob").session_version == version + 1
