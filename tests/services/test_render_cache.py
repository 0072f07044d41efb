"""The render cache: a known tree imported into a fresh database renders nothing again,
gives the same rows, and re-renders exactly what a change reaches."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.content import render
from app.db import make_engine
from app.models import CardTranslation
from tests.services.test_import_cache import card, put, run


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """(card title, language) of every card rendered, not served from the cache."""
    seen: list[str] = []
    real = render.render_card

    def counting(lang: str, title: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(f"{title}/{lang}")
        return real(lang, title, *args, **kwargs)

    monkeypatch.setattr(render, "render_card", counting)
    return seen


@pytest.fixture
def fresh_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """A second, empty database, as a new instance or a restored backup would have."""
    path = tmp_path / "second.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def translations(engine: Engine) -> list[tuple]:
    with Session(engine) as session:
        rows = session.exec(select(CardTranslation).order_by(CardTranslation.card_id)).all()
        return [
            (
                r.card_id,
                r.lang,
                r.title,
                r.question_html,
                r.answer_html,
                r.key_points,
                r.search_text,
            )
            for r in rows
        ]


def test_known_tree_into_a_fresh_database_renders_nothing(
    engine: Engine, fresh_engine: Engine, content_dir: Path, tmp_path: Path, rendered: list[str]
):
    cache_path = tmp_path / "data" / "parse-cache"
    put(content_dir, "a.md", card("a", links="[[b]] and `code` $x^2$"))
    put(content_dir, "b.md", card("b"))
    put(
        content_dir,
        "b.zh.md",
        "---\nid: b\nlang: zh\ntitle: 乙\n---\n## Question\n问\n\n## Answer\n答\n",
    )
    run(engine, content_dir, cache_path)
    assert sorted(rendered) == ["A/en", "B/en", "乙/zh"]
    assert (cache_path.parent / "render-cache").is_file()

    rendered.clear()
    assert run(fresh_engine, content_dir, cache_path).added == 2
    assert rendered == []
    assert translations(fresh_engine) == translations(engine)


def test_a_changed_linked_title_misses_the_cache(
    engine: Engine, fresh_engine: Engine, content_dir: Path, tmp_path: Path, rendered: list[str]
):
    cache_path = tmp_path / "data" / "parse-cache"
    put(content_dir, "a.md", card("a", links="[[b]]"))
    put(content_dir, "b.md", card("b"))
    put(content_dir, "c.md", card("c"))
    run(engine, content_dir, cache_path)
    put(content_dir, "b.md", card("b", title="Bee"))
    rendered.clear()
    run(fresh_engine, content_dir, cache_path)
    # b changed; a links to b's title; c is untouched and comes from the cache.
    assert sorted(rendered) == ["A/en", "Bee/en"]
    answer = dict((r[0], r[4]) for r in translations(fresh_engine))["a"]
    assert ">Bee</a>" in answer


def test_an_unreadable_cache_is_ignored(
    engine: Engine, content_dir: Path, tmp_path: Path, rendered: list[str]
):
    cache_path = tmp_path / "data" / "parse-cache"
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    (cache_path.parent / "render-cache").write_bytes(b"not marshal data")
    put(content_dir, "a.md", card("a"))
    assert run(engine, content_dir, cache_path).added == 1
    assert rendered == ["A/en"]
