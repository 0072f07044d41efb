"""Full-text search on both engines: ranked, Chinese by bigrams, word prefixes, kept in
step by the importer (edits, retirements), one hit per card in the page's language."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.db import make_engine
from app.services import search_index
from app.services.search import search
from app.services.search_index import index_text, query_terms
from tests.services.test_import_cache import card, put, run


def zh(card_id: str, title: str, answer: str) -> str:
    return (
        f"---\nid: {card_id}\nlang: zh\ntitle: {title}\n---\n"
        f"## Question\n问题\n\n## Answer\n{answer}\n"
    )


def found(engine: Engine, query: str, lang: str = "en") -> list[tuple[str, str]]:
    with Session(engine) as session:
        return [(h.card_id, h.lang) for h in search(session, query, lang)]


def test_chinese_is_indexed_as_bigrams() -> None:
    assert index_text("梯度消失 in RNN") == " 梯度 度消 消失  in rnn"
    assert query_terms("梯度消失, Batch-Norm") == ["梯度", "度消", "消失", "batch", "norm"]


def test_ranked_prefix_and_chinese_search(any_engine: Engine, content_dir: Path, tmp_path: Path):
    put(content_dir, "adam.md", card("adam", title="Adam bias correction", links="moments"))
    put(content_dir, "sgd.md", card("sgd", title="Plain SGD", links="unlike adam, no moments"))
    put(content_dir, "bn.md", card("bn", title="Batch normalization", links="statistics"))
    put(content_dir, "bn.zh.md", zh("bn", "批归一化", "训练时用批统计量，推理时用滑动平均。"))
    run(any_engine, content_dir, tmp_path / "data" / "parse-cache")

    # Both mention adam; the title hit ranks first.
    assert found(any_engine, "adam") == [("adam", "en"), ("sgd", "en")]
    assert found(any_engine, "ADAM moments")[0] == ("adam", "en")
    # Every term must match, as a word prefix.
    assert found(any_engine, "normaliz") == [("bn", "en")]
    assert found(any_engine, "adam statistics") == []
    # Chinese words inside a sentence, and the page language picks the text shown.
    assert found(any_engine, "滑动平均", "zh") == [("bn", "zh")]
    assert found(any_engine, "batch", "zh") == [("bn", "en")]  # only the English text holds it
    assert found(any_engine, "批", "zh") == [("bn", "zh")]
    assert found(any_engine, "归一", "en") == [("bn", "zh")]
    assert found(any_engine, "zzzqqq") == []
    assert found(any_engine, "  ") == []


def test_the_importer_keeps_the_index_in_step(
    any_engine: Engine, content_dir: Path, tmp_path: Path
):
    cache = tmp_path / "data" / "parse-cache"
    put(content_dir, "a.md", card("a", links="the quokka"))
    gone = put(content_dir, "b.md", card("b", links="a wombat"))
    run(any_engine, content_dir, cache)
    assert found(any_engine, "quokka") == [("a", "en")]
    put(content_dir, "a.md", card("a", links="the numbat"))
    gone.unlink()
    run(any_engine, content_dir, cache)
    assert found(any_engine, "quokka") == []
    assert found(any_engine, "numbat") == [("a", "en")]
    assert found(any_engine, "wombat") == []  # retired cards are not found
    put(content_dir, "b.md", card("b", links="a wombat"))
    run(any_engine, content_dir, cache)
    assert found(any_engine, "wombat") == [("b", "en")]  # and found again when back


def test_query_syntax_is_never_interpreted(engine: Engine, content_dir: Path, tmp_path: Path):
    put(content_dir, "a.md", card("a", links="near or and not"))
    run(engine, content_dir, tmp_path / "data" / "parse-cache")
    for query in ['"', "a* OR", "NEAR(x y)", "^a", "a:b", "(", "-x", "\\", "'; drop"]:
        found(engine, query)  # no syntax error reaches the caller
    assert found(engine, "NOT") == [("a", "en")]


def test_a_query_matching_most_of_the_deck_ranks_a_bounded_share(
    any_engine: Engine, content_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    for name in "abcd":
        put(content_dir, f"{name}.md", card(name, links="a quokka here"))
    put(content_dir, "e.md", card("e", title="The quokka", links="nothing"))
    run(any_engine, content_dir, tmp_path / "data" / "parse-cache")
    assert len(found(any_engine, "quokka")) == 5
    monkeypatch.setattr(search_index, "MAX_RANKED", 2)
    hits = found(any_engine, "quokka")
    # The title match always; of the other matches, the first MAX_RANKED.
    assert hits[0] == ("e", "en")
    assert len(hits) == 3


def test_an_import_leaves_postgresql_ready_to_search(
    any_engine: Engine, content_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """No entries left in the GIN pending lists (every query would scan them) and fresh
    planner statistics after a bulk import (stale ones join the hits to all of `card`)."""
    if any_engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's GIN pending lists and planner statistics")
    monkeypatch.setattr(search_index, "BULK_CHANGE", 3)
    for name in "abc":
        put(content_dir, f"{name}.md", card(name, links="a quokka here"))
    run(any_engine, content_dir, tmp_path / "data" / "parse-cache")
    with any_engine.connect() as conn:
        for index in ("card_search_doc", "card_search_title"):
            pending = conn.execute(text(f"SELECT gin_clean_pending_list('{index}')")).scalar()
            assert pending == 0
        counted = conn.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = 'card_search'")
        ).scalar()
        assert counted == 3  # -1 until the table is first analysed
    assert found(any_engine, "quokka")[0][0] in "abc"


def test_a_database_user_that_does_not_own_the_index_can_still_import(any_engine: Engine):
    """Cleaning a GIN pending list needs the index's owner; without it, an import must
    still succeed (autovacuum cleans the lists later)."""
    if any_engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's index ownership")
    role = f"backprop_reader_{uuid.uuid4().hex[:8]}"
    with any_engine.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(text(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"'))
    other = make_engine(
        any_engine.url.set(username=role, password=None).render_as_string(hide_password=False)
    )
    try:
        with Session(other) as session:
            search_index.after_import(session, search_index.BULK_CHANGE)
            session.commit()
    finally:
        other.dispose()
        with any_engine.begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
