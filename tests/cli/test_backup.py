from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings


def test_backup_writes_a_consistent_copy_of_the_live_database(
    tmp_path: Path, database_url: str, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    if not database_url.startswith("sqlite"):
        pytest.skip("`backprop backup` copies a SQLite file; PostgreSQL has pg_dump")
    monkeypatch.setenv("BACKPROP_DATABASE_URL", database_url)
    get_settings.cache_clear()
    live = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    live.execute("CREATE TABLE probe (name TEXT)")
    live.execute("INSERT INTO probe VALUES ('ada')")
    live.commit()  # the connection stays open: the copy is taken from a live database
    target = tmp_path / "copy.db"
    try:
        result = CliRunner().invoke(cli, ["backup", str(target)])
    finally:
        live.close()
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(target)
    assert copy.execute("SELECT name FROM probe").fetchall() == [("ada",)]
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_backup_refuses_postgresql(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BACKPROP_DATABASE_URL", "postgresql://u@127.0.0.1/db")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["backup", str(tmp_path / "x.db")])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "pg_dump" in result.output
