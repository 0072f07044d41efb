"""An exported .apkg opens with the official ``anki`` library (the collection code Anki
itself runs): notes, cards, decks, tags, media and review log as exported; a round trip
through a fresh collection loses nothing; the learner's due dates survive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.db import session_scope
from app.models.card import Card
from app.services.anki.export import export_package, note_guid
from app.services.importer import import_tree
from app.services.scheduling.clock import FixedClock
from tests.anki_packages import PNG
from tests.services.scheduling.conftest import Learner, add_user

anki_collection = pytest.importorskip("anki.collection")

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def card(
    card_id: str, deck: str, answer: str, *, tags: str = "[]", zh: bool = True
) -> dict[str, str]:
    files = {
        f"cards/{deck}/{card_id}.md": (
            f"---\nid: {card_id}\ntitle: {card_id.replace('-', ' ').title()}\ndeck: {deck}\n"
            f"difficulty: medium\ndemo: none\ntags: {tags}\n---\n"
            f"## Question\nWhat is {card_id}?\n\n## Answer\n{answer}\n"
        )
    }
    if zh:
        files[f"cards/{deck}/{card_id}.zh.md"] = (
            f"---\nid: {card_id}\nlang: zh\ntitle: 中文 {card_id}\n---\n"
            f"## Question\n{card_id} 是什么?\n\n## Answer\n中文答案 $x^2$\n"
        )
    return files


@pytest.fixture
def deck_tree(content_dir: Path, engine: Engine) -> Path:
    files = {
        **card(
            "momentum",
            "optimizers",
            "A velocity $v_t = \\beta v_{t-1} + g_t$\n\n![v](../../media/v.png)",
            tags="[optimization, sgd]",
        ),
        **card(
            "adam",
            "optimizers",
            "Momentum and $$\\sqrt{\\hat v}$$ scaling.\n\n```python\nprint('hi')\n```",
            tags="[optimization]",
        ),
        **card("relu", "activations", "max(0, x)", zh=False),
    }
    for rel, text in files.items():
        path = content_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (content_dir / "media").mkdir(exist_ok=True)
    (content_dir / "media/v.png").write_bytes(PNG)
    with session_scope(engine, write=True) as session:
        report = import_tree(session, content_dir)
    assert report.wrote_anything
    return content_dir


def open_collection(apkg: bytes, folder: Path):  # type: ignore[no-untyped-def]
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "in.apkg"
    path.write_bytes(apkg)
    col = Collection(str(folder / "collection.anki2"))
    col.import_anki_package(
        ImportAnkiPackageRequest(
            package_path=str(path), options=ImportAnkiPackageOptions(with_scheduling=True)
        )
    )
    return col


def test_admin_export_opens_in_anki_with_everything_and_no_learner_data(
    deck_tree: Path, engine: Engine, tmp_path: Path
) -> None:
    with Session(engine) as session:
        apkg, summary = export_package(session, deck_tree)
    assert summary.notes == 3 and summary.media == 1 and summary.reviews == 0
    col = open_collection(apkg, tmp_path)
    try:
        assert col.note_count() == 3 and col.card_count() == 3
        names = {d.name for d in col.decks.all_names_and_ids()}
        assert {"Backprop::optimizers", "Backprop::activations"} <= names
        assert set(col.tags.all()) >= {"optimization", "sgd"}
        with Session(engine) as session:
            expected = {note_guid(c) for c in session.exec(select(Card)).all()}
        notes = [col.get_note(nid) for nid in col.find_notes("")]
        assert {n.guid for n in notes} == expected
        momentum = next(n for n in notes if n["Card id"] == "momentum")
        assert "\\(v_t = \\beta v_{t-1} + g_t\\)" in momentum["Answer"]
        assert '<img src="v.png"' in momentum["Answer"]
        assert "中文答案 \\(x^2\\)" in momentum["Answer (中文)"]
        adam = next(n for n in notes if n["Card id"] == "adam")
        assert "\\[\\sqrt{\\hat v}\\]" in adam["Answer"]
        # Highlighted code carries its colours inline: any note type shows them.
        assert '<pre style="background: ' in adam["Answer"]
        assert '<span style="color: ' in adam["Answer"] and "<span class=" not in adam["Answer"]
        assert col.media.have("v.png")
        assert col.db.scalar("select count() from revlog") == 0
        assert col.db.scalar("select count() from cards where type != 0") == 0
        # Exported again after an edit, the same notes are updated, not added (Anki's
        # default: update a note when the package's copy is newer).
        from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

        with session_scope(engine, write=True) as session:
            path = deck_tree / "cards/activations/relu.md"
            path.write_text(path.read_text().replace("max(0, x)", "max(0, x), elementwise"))
            import_tree(session, deck_tree)
            again, _ = export_package(
                session, deck_tree, now=datetime.now(UTC) + timedelta(hours=1)
            )
        (tmp_path / "again.apkg").write_bytes(again)
        col.import_anki_package(
            ImportAnkiPackageRequest(
                package_path=str(tmp_path / "again.apkg"),
                options=ImportAnkiPackageOptions(),
            )
        )
        assert col.note_count() == 3 and col.card_count() == 3
        relu = col.get_note(col.find_notes('"Card id:relu"')[0])
        assert "elementwise" in relu["Answer"]
    finally:
        col.close()


def test_learner_export_carries_history_and_due_dates_and_survives_a_round_trip(
    deck_tree: Path, engine: Engine, tmp_path: Path
) -> None:
    clock = FixedClock(START)
    me = Learner(engine, add_user(engine), clock)
    other = Learner(engine, add_user(engine), clock)
    for rating in (3, 3, 4):
        me.grade("momentum", rating, duration_ms=5000)
        clock.advance(days=3)
    me.grade("adam", 1)
    other.grade("relu", 3)  # someone else's review never travels
    now = clock.now()
    with Session(engine) as session:
        apkg, summary = export_package(
            session, deck_tree, decks=["optimizers"], user_id=me.user_id, now=now
        )
    assert summary.notes == 2 and summary.reviews == 4 and summary.scheduled == 2
    col = open_collection(apkg, tmp_path / "first")
    try:
        assert col.note_count() == 2
        assert col.db.scalar("select count() from revlog") == 4
        assert sorted(col.db.list("select ease from revlog")) == [1, 3, 3, 4]
        momentum_id = col.find_cards('"Card id:momentum"')[0]
        momentum = col.get_card(momentum_id)
        assert momentum.type == 2 and momentum.queue == 2
        # The due date Anki computes is the one the learner has here, within a day.
        expected_due = me.state("momentum").due.replace(tzinfo=UTC)
        crt = col.crt
        anki_due = datetime.fromtimestamp(crt, UTC) + timedelta(days=momentum.due)
        assert abs(anki_due - expected_due) <= timedelta(days=1)
        assert momentum.memory_state is not None
        assert abs(momentum.memory_state.stability - me.state("momentum").stability) < 0.01
        # Exported again by Anki itself and imported into a fresh collection: nothing lost.
        from anki.collection import ExportAnkiPackageOptions
        from anki.generic_pb2 import Empty
        from anki.import_export_pb2 import ExportLimit

        again = tmp_path / "again.apkg"
        col.export_anki_package(
            out_path=str(again),
            options=ExportAnkiPackageOptions(with_scheduling=True, with_media=True, legacy=True),
            limit=ExportLimit(whole_collection=Empty()),
        )
    finally:
        col.close()
    second = open_collection(again.read_bytes(), tmp_path / "second")
    try:
        assert second.note_count() == 2 and second.card_count() == 2
        assert second.db.scalar("select count() from revlog") == 4
        assert second.media.have("v.png")
        card = second.get_card(second.find_cards('"Card id:momentum"')[0])
        assert card.due == momentum.due and card.type == 2
    finally:
        second.close()
