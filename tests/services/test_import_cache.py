"""The parse cache: an unchanged file skips parsing, and every check still runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.content import parse
from app.content import tree as tree_module
from app.content.problems import ContentError
from app.content.tree import load_deck
from app.db import session_scope
from app.models import Card, CardTranslation
from app.services.importer import ImportReport, import_tree

DEMO = """from pydantic import BaseModel

CLAIMS = {"first": "One.", "second": "Two."}


class Params(BaseModel):
    depth: int = 10


def run(params, ctx):
    raise NotImplementedError
"""


def card(card_id: str, *, title: str = "", links: str = "", extra: str = "") -> str:
    return (
        f"---\nid: {card_id}\ntitle: {title or card_id.capitalize()}\n"
        f"deck: basics\ndifficulty: medium\n{extra or 'demo: none'}\ntags: [basics]\n"
        f"---\n## Question\nWhat is {card_id}?\n\n## Answer\nSee {links or 'nothing'}.\n"
    )


def put(content: Path, name: str, text: str) -> Path:
    path = content / "cards" / "basics" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "parse-cache"


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files parsed (not served from the cache)."""
    seen: list[str] = []
    real = parse.parse_bytes

    def counting(parsed: parse.ParsedFile) -> None:
        seen.append(parsed.path.name)
        real(parsed)

    monkeypatch.setattr(tree_module, "parse_bytes", counting)
    return seen


def run(engine: Engine, content: Path, cache_path: Path) -> ImportReport:
    with session_scope(engine, write=True) as session:
        return import_tree(session, content, cache_path=cache_path)


def test_unchanged_files_are_not_parsed_again(
    any_engine: Engine, content_dir: Path, cache_path: Path, parses: list[str]
):
    put(content_dir, "a.md", card("a", links="[[b]]"))
    put(content_dir, "b.md", card("b"))
    zh = "---\nid: b\nlang: zh\ntitle: 乙\n---\n## Question\n问\n\n## Answer\n答\n"
    put(content_dir, "b.zh.md", zh)
    assert run(any_engine, content_dir, cache_path).added == 2
    assert sorted(parses) == ["a.md", "b.md", "b.zh.md"]
    parses.clear()
    report = run(any_engine, content_dir, cache_path)
    assert (report.unchanged, report.wrote_anything) == (2, False)
    assert parses == []

    put(content_dir, "b.md", card("b", title="Bee"))
    report = run(any_engine, content_dir, cache_path)
    assert parses == ["b.md"]  # a is re-rendered for b's new title, from its cached parse
    assert (report.changed, report.rerendered) == (1, 1)
    with Session(any_engine) as session:
        html = session.exec(
            select(CardTranslation.answer_html).where(CardTranslation.card_id == "a")
        ).one()
    assert ">Bee</a>" in html


def test_cached_deck_equals_parsed_deck(content_dir: Path, cache_path: Path):
    (content_dir / "demos").mkdir(exist_ok=True)
    (content_dir / "demos" / "d.py").write_text(DEMO)
    demo = "demo:\n  path: demos/d.py\n  params: {depth: 3}\n  proves: [first]"
    put(content_dir, "a.md", card("a", links="[[b]] ![x](x.png)", extra=demo))
    put(content_dir, "b.md", card("b", extra="demo: none\naliases: [bee]"))
    put(content_dir, "x.png", "png")
    plain = load_deck(content_dir)
    load_deck(content_dir, cache_path=cache_path)
    cached = load_deck(content_dir, cache_path=cache_path)
    assert not plain.problems and not cached.problems
    assert cached.aliases == plain.aliases == {"bee": "b"}
    for card_id, source in plain.cards.items():
        other = cached.cards[card_id]
        assert other.meta == source.meta
        assert other.content_hash == source.content_hash
        assert other.links == source.links
        mine, theirs = source.files["en"].parsed, other.files["en"].parsed
        assert theirs.cached  # served from the cache ...
        assert (theirs.links, theirs.images, theirs.meta) == (mine.links, mine.images, mine.meta)
        # ... and complete on demand
        assert other.files["en"].sections == source.files["en"].sections
        assert theirs.key_lines == mine.key_lines


def test_changed_file_among_unchanged_is_still_checked(
    engine: Engine, content_dir: Path, cache_path: Path
):
    put(content_dir, "a.md", card("a"))
    put(content_dir, "b.md", card("b"))
    run(engine, content_dir, cache_path)
    put(content_dir, "b.md", card("b").replace("difficulty: medium", "difficulty: hardest"))
    with pytest.raises(ContentError) as caught:
        run(engine, content_dir, cache_path)
    assert [(p.path.name, p.line, p.message[:18]) for p in caught.value.problems] == [
        ("b.md", 5, 'invalid "difficult')
    ]


def test_link_to_deleted_card_is_reported_from_unchanged_file(
    engine: Engine, content_dir: Path, cache_path: Path
):
    put(content_dir, "a.md", card("a", links="[[b]]"))
    put(content_dir, "b.md", card("b"))
    run(engine, content_dir, cache_path)
    (content_dir / "cards" / "basics" / "b.md").unlink()
    with pytest.raises(ContentError) as caught:
        run(engine, content_dir, cache_path)
    assert [str(p).rsplit("/", 1)[-1] for p in caught.value.problems] == [
        "a.md:13: dangling link [[b]]: no card has this id"
    ]
    with Session(engine) as session:
        assert session.exec(select(Card.status).where(Card.id == "b")).one() == "active"


def test_unchanged_card_checked_against_changed_demo_and_alias(
    engine: Engine, content_dir: Path, cache_path: Path
):
    (content_dir / "demos").mkdir(exist_ok=True)
    (content_dir / "demos" / "d.py").write_text(DEMO)
    demo = "demo:\n  path: demos/d.py\n  proves: [first, second]"
    put(content_dir, "a.md", card("a", extra=demo + "\naliases: [old-a]"))
    run(engine, content_dir, cache_path)
    # a.md stays as it is; the demo loses a claim and a new card claims a's alias.
    (content_dir / "demos" / "d.py").write_text('CLAIMS = {"first": "One."}\n')
    put(content_dir, "c.md", card("c", extra="demo: none\naliases: [old-a]"))
    with pytest.raises(ContentError) as caught:
        run(engine, content_dir, cache_path)
    assert [(p.path.name, p.line, p.message) for p in caught.value.problems] == [
        ("a.md", 8, 'claim "second" is not in the CLAIMS of demos/d.py (it has: first)'),
        ("c.md", 7, f'alias "old-a" is also claimed by {content_dir / "cards/basics/a.md"}'),
    ]


def test_unreadable_cache_is_ignored_and_replaced(
    engine: Engine, content_dir: Path, cache_path: Path, parses: list[str]
):
    put(content_dir, "a.md", card("a"))
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    cache_path.write_bytes(b"\x00not marshal at all")
    assert run(engine, content_dir, cache_path).added == 1
    assert parses == ["a.md"]
    parses.clear()
    assert load_deck(content_dir, cache_path=cache_path).cards.keys() == {"a"}
    assert parses == []
