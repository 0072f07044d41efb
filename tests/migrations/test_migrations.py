"""Migrations run both ways on both real backends, and agree with the models."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from app import migrate
from app.db import make_engine


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return request.getfixturevalue("postgres_url")


def test_upgrade_downgrade_upgrade(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    created = table_names(empty_url)
    assert {"card", "card_revision", "card_translation", "user"} <= created

    migrate.downgrade(empty_url, "base")
    assert table_names(empty_url) == set()

    migrate.upgrade(empty_url)
    assert table_names(empty_url) == created


def test_models_and_migrations_agree(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    assert migrate.pending_model_changes(empty_url) == []
