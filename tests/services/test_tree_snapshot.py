"""The tree snapshot: an unchanged re-import reads no card file, and anything that could
change the result (a file, the database, a file too fresh to trust) loads the tree."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.content import tree as tree_module
from app.db import make_engine
from tests.services.test_import_cache import card, put, run


def age(content: Path, seconds: float = 60) -> None:
    """Make every file older, as files edited a while before an import are."""
    past = time.time() - seconds
    for folder, _, names in os.walk(content):
        for name in names:
            os.utime(Path(folder) / name, (past, past))


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = tree_module.read_file

    def counting(path: Path):  # type: ignore[no-untyped-def]
        seen.append(path.name)
        return real(path)

    monkeypatch.setattr(tree_module, "read_file", counting)
    return seen


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "parse-cache"


def test_unchanged_old_tree_reads_no_file(
    any_engine: Engine, content_dir: Path, cache_path: Path, reads: list[str]
):
    put(content_dir, "a.md", card("a", links="[[b]]"))
    put(content_dir, "b.md", card("b", extra="demo: none\naliases: [bee]"))
    age(content_dir)
    assert run(any_engine, content_dir, cache_path).added == 2
    reads.clear()
    report = run(any_engine, content_dir, cache_path)
    assert (report.unchanged, report.wrote_anything) == (2, False)
    assert reads == []


def test_an_edit_is_seen_even_with_the_same_size(
    engine: Engine, content_dir: Path, cache_path: Path, reads: list[str]
):
    path = put(content_dir, "a.md", card("a", title="Aa"))
    age(content_dir)
    run(engine, content_dir, cache_path)
    path.write_text(card("a", title="Ab"), encoding="utf-8")
    age(content_dir, 30)  # a later mtime, still old enough to trust
    reads.clear()
    report = run(engine, content_dir, cache_path)
    assert report.changed == 1
    assert reads == ["a.md"]


def test_another_database_is_not_taken_for_this_one(
    engine: Engine, content_dir: Path, cache_path: Path, tmp_path: Path, sqlite_template: Path
):
    put(content_dir, "a.md", card("a"))
    age(content_dir)
    run(engine, content_dir, cache_path)
    second = tmp_path / "second.db"
    shutil.copyfile(sqlite_template, second)
    other = make_engine(f"sqlite:///{second}")
    try:
        assert run(other, content_dir, cache_path).added == 1
    finally:
        other.dispose()


def test_a_database_that_differs_from_the_snapshot_forces_a_load(
    engine: Engine, content_dir: Path, cache_path: Path, reads: list[str]
):
    put(content_dir, "a.md", card("a"))
    put(content_dir, "b.md", card("b"))
    age(content_dir)
    run(engine, content_dir, cache_path)
    # Same files, same snapshot; the database changed behind the importer's back.
    with engine.begin() as conn:
        conn.execute(text("UPDATE card SET status = 'retired' WHERE id = 'b'"))
    reads.clear()
    assert run(engine, content_dir, cache_path).reactivated == 1
    assert sorted(reads) == ["a.md", "b.md"]


def test_fresh_files_are_not_trusted(
    engine: Engine, content_dir: Path, cache_path: Path, reads: list[str]
):
    put(content_dir, "a.md", card("a"))
    run(engine, content_dir, cache_path)
    run(engine, content_dir, cache_path)
    reads.clear()
    run(engine, content_dir, cache_path)
    assert reads == ["a.md"]  # written under two seconds ago: loaded every time
