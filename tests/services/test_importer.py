"""The importer on real databases: SQLite files, and PostgreSQL via ``any_engine``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.content import render_pipeline
from app.content.problems import ContentError
from app.db import session_scope
from app.models import Card, CardAlias, CardRevision, CardTag, CardTranslation
from app.services import importer
from app.services.importer import ImportReport, import_tree


def card(card_id: str, *, title: str = "", body: str = "A", extra: str = "") -> str:
    return (
        f"---\nid: {card_id}\ntitle: {title or card_id.replace('-', ' ').capitalize()}\n"
        f"deck: training/basics\ndifficulty: medium\ndemo: none\ntags: [basics, {card_id}]\n"
        f"{extra}---\n## Question\nWhat is {card_id}?\n\n## Answer\n{body}\n"
    )


def zh(card_id: str, *, title: str = "中文标题", body: str = "答案") -> str:
    front = f"---\nid: {card_id}\nlang: zh\ntitle: {title}\n---\n"
    return f"{front}## Question\n问题\n\n## Answer\n{body}\n"


class Tree:
    def __init__(self, content_dir: Path) -> None:
        self.root = content_dir

    def put(self, card_id: str, text: str, *, lang: str = "") -> Path:
        path = (
            self.root / "cards" / "basics" / (f"{card_id}.{lang}.md" if lang else f"{card_id}.md")
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def remove(self, card_id: str, *, lang: str = "") -> None:
        (
            self.root / "cards" / "basics" / (f"{card_id}.{lang}.md" if lang else f"{card_id}.md")
        ).unlink()


@pytest.fixture
def tree(content_dir: Path) -> Tree:
    return Tree(content_dir)


def run_import(engine: Engine, content_dir: Path, **kwargs) -> ImportReport:  # type: ignore[no-untyped-def]
    with session_scope(engine, write=True) as session:
        return import_tree(session, content_dir, **kwargs)


def cards(engine: Engine) -> dict[str, Card]:
    with Session(engine) as session:
        return {c.id: c for c in session.exec(select(Card)).all()}


def revisions(engine: Engine, card_id: str) -> list[int]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(CardRevision.number)
                .where(CardRevision.card_id == card_id)
                .order_by(CardRevision.number)
            ).all()
        )


def snapshot(engine: Engine) -> dict[str, list]:
    with engine.connect() as conn:
        return {
            table: [
                tuple(row) for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2"))
            ]
            for table in ("card", "card_revision", "card_translation", "card_tag", "card_alias")
        }


# --- persistence, on both backends -----------------------------------------------------


def test_import_then_unchanged_reimport_changes_nothing(any_engine: Engine, tree: Tree):
    for i in range(3):
        tree.put(f"card-{i}", card(f"card-{i}", body=f"See [[card-{(i + 1) % 3}]]."))
    tree.put("card-0", zh("card-0"), lang="zh")
    first = run_import(any_engine, tree.root)
    assert str(first) == "3 added, 0 changed, 0 retired, 0 unchanged"
    before = snapshot(any_engine)
    again = run_import(any_engine, tree.root)
    assert str(again) == "0 added, 0 changed, 0 retired, 3 unchanged"
    assert not again.wrote_anything
    assert snapshot(any_engine) == before


def test_rows_written(any_engine: Engine, tree: Tree):
    tree.put(
        "card-a", card("card-a", body="Link [[card-b]] and $x^2$.", extra="answer_time_s: 60\n")
    )
    tree.put("card-b", card("card-b", title="The B card"))
    tree.put("card-a", zh("card-a", body="见 [[card-b]]"), lang="zh")
    run_import(any_engine, tree.root)
    rows = cards(any_engine)
    assert rows["card-a"].status == "active" and rows["card-a"].revision == 1
    assert rows["card-a"].answer_time_s == 60
    assert rows["card-a"].file_path == "cards/basics/card-a.md"
    with Session(any_engine) as session:
        texts = {(t.card_id, t.lang): t for t in session.exec(select(CardTranslation)).all()}
        tags = session.exec(select(CardTag.tag).where(CardTag.card_id == "card-a")).all()
        (revision,) = session.exec(select(CardRevision).where(CardRevision.card_id == "card-a"))
    assert set(texts) == {("card-a", "en"), ("card-a", "zh"), ("card-b", "en")}
    assert 'href="/cards/card-b" rel="noopener noreferrer">The B card</a>' in (
        texts["card-a", "en"].answer_html
    )
    assert '<span class="math math-inline">x^2</span>' in texts["card-a", "en"].answer_html
    assert texts["card-a", "zh"].title == "中文标题"
    assert ">The B card</a>" in texts["card-a", "zh"].answer_html
    assert sorted(tags) == ["basics", "card-a"]
    assert set(revision.markdown) == {"en", "zh"}
    assert revision.markdown["en"].startswith("---\nid: card-a\n")


def test_revision_only_when_content_changes(any_engine: Engine, tree: Tree):
    tree.put("card-a", card("card-a"))
    run_import(any_engine, tree.root)
    run_import(any_engine, tree.root)
    assert revisions(any_engine, "card-a") == [1]

    tree.put("card-a", card("card-a", body="A better answer."))
    report = run_import(any_engine, tree.root)
    assert (report.changed, report.revisions) == (1, 1)
    assert revisions(any_engine, "card-a") == [1, 2]
    assert cards(any_engine)["card-a"].revision == 2

    # A translation is part of the content too.
    tree.put("card-a", zh("card-a"), lang="zh")
    run_import(any_engine, tree.root)
    assert revisions(any_engine, "card-a") == [1, 2, 3]

    # Moving the file keeps the content: the path is updated, no revision.
    path = tree.root / "cards" / "basics"
    (path / "sub").mkdir()
    for name in ("card-a.md", "card-a.zh.md"):
        (path / name).rename(path / "sub" / name)
    report = run_import(any_engine, tree.root)
    assert report.changed == 1 and report.revisions == 0
    assert cards(any_engine)["card-a"].file_path == "cards/basics/sub/card-a.md"
    assert revisions(any_engine, "card-a") == [1, 2, 3]


def test_retire_and_reactivate(any_engine: Engine, tree: Tree):
    tree.put("card-a", card("card-a"))
    tree.put("card-b", card("card-b"))
    run_import(any_engine, tree.root)
    tree.remove("card-b")
    report = run_import(any_engine, tree.root)
    assert str(report) == "0 added, 0 changed, 1 retired, 1 unchanged"
    retired = cards(any_engine)["card-b"]
    assert retired.status == "retired" and retired.retired_at is not None
    assert retired.retired_at.tzinfo == UTC
    assert revisions(any_engine, "card-b") == [1]  # history kept

    assert run_import(any_engine, tree.root).retired == 0  # retiring once is enough

    tree.put("card-b", card("card-b"))
    report = run_import(any_engine, tree.root)
    assert report.reactivated == 1 and report.added == 0
    back = cards(any_engine)["card-b"]
    assert back.status == "active" and back.retired_at is None
    assert revisions(any_engine, "card-b") == [1]  # same content, same revision


def test_alias_moves_history(any_engine: Engine, tree: Tree, monkeypatch: pytest.MonkeyPatch):
    moved: list[tuple[str, str, bool]] = []

    def mover(session: Session, old_id: str, new_id: str) -> None:
        # Runs inside the import's transaction, after the new card exists.
        exists = session.get(Card, new_id) is not None
        moved.append((old_id, new_id, exists))

    monkeypatch.setattr(importer, "ALIAS_MOVERS", [mover])
    tree.put("old-name", card("old-name"))
    run_import(any_engine, tree.root)
    tree.put("old-name", card("old-name", body="Edited."))
    run_import(any_engine, tree.root)
    assert revisions(any_engine, "old-name") == [1, 2]

    tree.remove("old-name")
    tree.put("new-name", card("new-name", body="Edited.", extra="aliases: [old-name]\n"))
    report = run_import(any_engine, tree.root)
    assert (report.added, report.retired, report.aliases_moved) == (1, 1, 1)
    assert moved == [("old-name", "new-name", True)]
    assert revisions(any_engine, "new-name") == [1, 2, 3]
    assert revisions(any_engine, "old-name") == []
    assert cards(any_engine)["new-name"].revision == 3
    with Session(any_engine) as session:
        assert session.exec(select(CardAlias.alias, CardAlias.card_id)).all() == [
            ("old-name", "new-name")
        ]

    # Once moved, never again.
    moved.clear()
    assert run_import(any_engine, tree.root).aliases_moved == 0
    assert moved == []


def test_bad_card_among_good_ones_writes_nothing(any_engine: Engine, tree: Tree):
    tree.put("card-a", card("card-a"))
    run_import(any_engine, tree.root)
    before = snapshot(any_engine)
    tree.put("card-a", card("card-a", body="Changed."))
    for i in range(5):
        tree.put(f"good-{i}", card(f"good-{i}"))
    tree.put("bad-card", card("bad-card", body="See [[nowhere]]."))
    with pytest.raises(ContentError) as caught:
        run_import(any_engine, tree.root)
    (problem,) = caught.value.problems
    assert problem.line == 13 and "dangling link [[nowhere]]" in problem.message
    assert "bad-card.md:13: dangling link" in str(caught.value)
    assert snapshot(any_engine) == before


def test_failure_while_writing_rolls_back(any_engine: Engine, tree: Tree, monkeypatch):  # type: ignore[no-untyped-def]
    tree.put("card-a", card("card-a"))
    tree.put("card-b", card("card-b", extra="aliases: [card-z]\n"))

    def broken(session: Session, old_id: str, new_id: str) -> None:
        raise RuntimeError("mover failed")

    monkeypatch.setattr(importer, "ALIAS_MOVERS", [broken])
    with pytest.raises(RuntimeError):
        run_import(any_engine, tree.root)
    assert cards(any_engine) == {}


# --- SQLite only -------------------------------------------------------------------------


def test_title_change_rerenders_linking_cards(engine: Engine, tree: Tree):
    tree.put("card-a", card("card-a", body="See [[card-b]]."))
    tree.put("card-b", card("card-b", title="Old title"))
    run_import(engine, tree.root)
    tree.put("card-b", card("card-b", title="New title"))
    report = run_import(engine, tree.root)
    assert (report.changed, report.rerendered, report.revisions) == (1, 1, 1)
    with Session(engine) as session:
        answer = session.get(CardTranslation, ("card-a", "en")).answer_html  # type: ignore[union-attr]
    assert ">New title</a>" in answer
    assert revisions(engine, "card-a") == [1]


def test_renamed_id_cannot_be_reused(engine: Engine, tree: Tree):
    tree.put("old-name", card("old-name"))
    run_import(engine, tree.root)
    tree.remove("old-name")
    tree.put("new-name", card("new-name", extra="aliases: [old-name]\n"))
    run_import(engine, tree.root)
    tree.put("new-name", card("new-name"))  # the alias line removed, the history stays moved
    tree.put("old-name", card("old-name"))
    with pytest.raises(ContentError, match='is a former id of card "new-name"'):
        run_import(engine, tree.root)


def test_hostile_card_is_stored_harmless(engine: Engine, tree: Tree):
    body = '<script>alert(1)</script> <img src=x onerror="alert(2)"> [click](javascript:alert(3))'
    tree.put("hostile", card("hostile", body=body))
    run_import(engine, tree.root)
    with Session(engine) as session:
        html = session.get(CardTranslation, ("hostile", "en")).answer_html  # type: ignore[union-attr]
    assert "<script" not in html and "<img" not in html and "href=" not in html


def test_oversized_card_is_refused(engine: Engine, tree: Tree):
    tree.put("huge", card("huge", body="x" * (5 * 1024 * 1024)))
    with pytest.raises(ContentError, match="the limit is 1 MiB"):
        run_import(engine, tree.root)


def test_rerender_flag_rewrites_html_without_revisions(engine: Engine, tree: Tree):
    tree.put("card-a", card("card-a"))
    run_import(engine, tree.root)
    report = run_import(engine, tree.root, rerender=True)
    assert report.revisions == 0 and report.unchanged == 1
    assert revisions(engine, "card-a") == [1]


def test_import_time_is_recorded_in_utc(engine: Engine, tree: Tree):
    tree.put("card-a", card("card-a"))
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    run_import(engine, tree.root, now=when)
    assert cards(engine)["card-a"].created_at == when


def test_large_import_renders_in_workers(engine: Engine, tree: Tree, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(render_pipeline, "PARALLEL_FROM", 10)
    for i in range(30):
        tree.put(f"card-{i}", card(f"card-{i}", body=f"$x_{i}$ [[card-{(i + 1) % 30}]]"))
    stages: list[str] = []
    report = run_import(engine, tree.root, progress=lambda stage, done, total: stages.append(stage))
    assert report.added == 30
    assert {"check", "render", "write"} <= set(stages)
    with Session(engine) as session:
        assert len(session.exec(select(CardTranslation)).all()) == 30


def test_streamed_render_writes_what_a_serial_render_writes(  # type: ignore[no-untyped-def]
    any_engine: Engine, tree: Tree, monkeypatch
):
    # Many small batches: workers and this process both render, out of order; the
    # translations written must be the serial renderer's, every one.
    for i in range(40):
        tree.put(f"card-{i}", card(f"card-{i}", body=f"$x_{i}$ [[card-{(i + 1) % 40}]]"))
        if i % 4 == 0:
            tree.put(f"card-{i}", zh(f"card-{i}", body=f"[[card-{i + 1}]] **{i}**"), lang="zh")

    def translations() -> list[tuple[object, ...]]:
        with Session(any_engine) as session:
            rows = session.exec(select(CardTranslation)).all()
            return sorted(tuple(map(str, row.model_dump().values())) for row in rows)

    monkeypatch.setattr(render_pipeline, "PARALLEL_FROM", 10)
    monkeypatch.setattr(render_pipeline, "RENDER_BATCH", 3)
    assert run_import(any_engine, tree.root).added == 40
    streamed = translations()
    monkeypatch.setattr(render_pipeline, "PARALLEL_FROM", 10**9)
    assert run_import(any_engine, tree.root, rerender=True).added == 0
    assert translations() == streamed
    assert len(streamed) == 50
