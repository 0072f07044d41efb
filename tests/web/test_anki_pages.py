"""The learner's Anki page: download chosen decks (with or without their history),
bring their Anki history; and the admin's whole-deck export. Bad input gets a 400
sentence, in the learner's language."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.db import session_scope
from app.models.review import ReviewLog, ReviewState
from app.models.user import User
from app.services.anki.export import note_guid
from app.services.anki.package import read_apkg
from app.services.importer import import_tree
from tests.anki_packages import BASIC, Review, build, note, with_reviews


def write_card(content_dir: Path, card_id: str, deck: str) -> None:
    path = content_dir / "cards" / deck / f"{card_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"---\nid: {card_id}\ntitle: {card_id}\ndeck: {deck}\ndifficulty: medium\ndemo: none\n"
        f"---\n## Question\nWhat is {card_id}?\n\n## Answer\nIt is $x_{{{card_id[0]}}}$.\n"
    )


@pytest.fixture
def cards(content_dir: Path, engine: Engine) -> None:
    write_card(content_dir, "momentum", "optimizers")
    write_card(content_dir, "adam", "optimizers")
    write_card(content_dir, "relu", "activations")
    with session_scope(engine, write=True) as session:
        import_tree(session, content_dir)


def user_id(engine: Engine, name: str) -> int:
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == name)).one()
        assert user.id is not None
        return user.id


def test_learner_downloads_chosen_decks(learner_client: TestClient, cards: None) -> None:
    page = learner_client.get("/anki")
    assert page.status_code == 200
    assert 'value="optimizers"' in page.text and 'value="activations"' in page.text
    response = learner_client.get("/anki/export", params={"deck": "optimizers"})
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    package = read_apkg(response.content)
    assert sorted(n.fields[4][1] for n in package.notes) == ["adam", "momentum"]
    assert package.reviews == []


@pytest.mark.parametrize(
    ("params", "sentence"),
    [
        ({"deck": "nope"}, "No such deck: nope"),
        ({}, "Choose at least one deck to export."),
        ({"deck": "optimizers", "history": "maybe"}, ""),
    ],
)
def test_bad_export_requests_get_a_4xx(
    learner_client: TestClient, cards: None, params: dict[str, str], sentence: str
) -> None:
    response = learner_client.get("/anki/export", params=params)
    assert 400 <= response.status_code < 500
    assert sentence in response.text


def test_history_upload_moves_only_my_schedule(
    learner_client: TestClient, cards: None, engine: Engine, make_user
) -> None:
    make_user("someone-else")
    with Session(engine) as session:
        from app.models.card import Card

        guid = note_guid(session.get(Card, "momentum"))
    apkg = with_reviews(
        build([note(BASIC, "Momentum?", "velocity", guid)]),
        [Review(guid, 0, 1_767_000_000_000, 3, kind=0), Review(guid, 0, 1_767_100_000_000, 3)],
    )
    response = learner_client.post("/anki/history", files={"file": ("mine.apkg", apkg)})
    assert response.status_code == 200, response.text
    assert "2 reviews added to your history for 1 cards" in response.text
    me, other = user_id(engine, "learner"), user_id(engine, "someone-else")
    with Session(engine) as session:
        assert session.get(ReviewState, (me, "momentum")) is not None
        assert session.exec(select(ReviewLog).where(ReviewLog.user_id == other)).all() == []
    again = learner_client.post("/anki/history", files={"file": ("mine.apkg", apkg)})
    assert "0 reviews added" in again.text and "Already imported before: 2 reviews" in again.text


def test_bad_history_uploads_get_a_400_sentence_in_the_learners_language(
    learner_client: TestClient, cards: None, engine: Engine
) -> None:
    response = learner_client.post("/anki/history", files={"file": ("x.apkg", b"not a zip")})
    assert response.status_code == 400
    assert "an .apkg is a zip file" in response.text
    no_history = learner_client.post(
        "/anki/history", files={"file": ("x.apkg", build([note(BASIC, "q", "a", "g")]))}
    )
    assert no_history.status_code == 400
    assert "no review history" in no_history.text
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == "learner")).one()
        user.locale = "zh"
        session.add(user)
        session.commit()
    page = learner_client.get("/anki")
    assert "下载卡组到 Anki" in page.text and "导入你的 Anki 复习记录" in page.text
    unknown = learner_client.get("/anki/export", params={"deck": "nope"})
    assert "没有这个卡组：nope" in unknown.text


def test_admin_exports_the_whole_deck_without_learner_data(
    admin_client: TestClient, cards: None
) -> None:
    response = admin_client.get("/admin/anki/export")
    assert response.status_code == 200
    package = read_apkg(response.content)
    assert len(package.notes) == 3 and package.reviews == []
    assert all(c.type == 0 for n in package.notes for c in n.cards)


def test_the_anki_page_needs_a_log_in(client: TestClient) -> None:
    assert client.get("/anki", follow_redirects=False).status_code in (303, 401)
    assert client.post("/anki/history", files={"file": ("x", b"x")}).status_code in (401, 403)


def test_history_of_my_own_deck_matches_through_a_mapping_file(
    learner_client: TestClient, cards: None, engine: Engine
) -> None:
    """Notes this deck has never seen (the learner's own deck) are matched by a mapping
    file: by GUID on one line, by the note's first field on another."""
    apkg = with_reviews(
        build(
            [
                note(BASIC, "What does <b>momentum</b> do?", "velocity", "own-guid-1"),
                note(BASIC, "Unmapped", "x", "own-guid-2"),
            ]
        ),
        [
            Review("own-guid-1", 0, 1_767_000_000_000, 3, kind=0),
            Review("own-guid-1", 0, 1_767_100_000_000, 4),
            Review("own-guid-2", 0, 1_767_000_000_001, 3, kind=0),
        ],
    )
    unmapped = learner_client.post("/anki/history", files={"file": ("own.apkg", apkg)})
    assert "0 reviews added" in unmapped.text

    by_field = "# my deck\nWhat does momentum do?,momentum\n"
    response = learner_client.post(
        "/anki/history",
        files={"file": ("own.apkg", apkg), "mapping": ("map.csv", by_field.encode())},
    )
    assert response.status_code == 200, response.text
    assert "2 reviews added to your history for 1 cards" in response.text
    assert "Matched through your mapping file: 1 notes" in response.text
    me = user_id(engine, "learner")
    with Session(engine) as session:
        logs = session.exec(select(ReviewLog).where(ReviewLog.user_id == me)).all()
        assert {log.card_id for log in logs} == {"momentum"} and len(logs) == 2

    # The same note by GUID: already imported, nothing doubled.
    again = learner_client.post(
        "/anki/history",
        files={"file": ("own.apkg", apkg), "mapping": ("map.csv", b"own-guid-1,momentum\n")},
    )
    assert "0 reviews added" in again.text and "Already imported before: 2 reviews" in again.text


@pytest.mark.parametrize(
    ("mapping", "sentence"),
    [
        (b"own-guid-1 momentum\n", "mapping line 1: expected"),
        (b"\nown-guid-1,no-such-card\n", "mapping line 2: no card here has the id"),
        (b"\xff\xfe,momentum", "not UTF-8"),
    ],
)
def test_a_bad_mapping_file_is_refused_with_its_line_and_adds_nothing(
    learner_client: TestClient, cards: None, engine: Engine, mapping: bytes, sentence: str
) -> None:
    apkg = with_reviews(
        build([note(BASIC, "q", "a", "own-guid-1")]),
        [Review("own-guid-1", 0, 1_767_000_000_000, 3, kind=0)],
    )
    response = learner_client.post(
        "/anki/history", files={"file": ("own.apkg", apkg), "mapping": ("map.csv", mapping)}
    )
    assert response.status_code == 400
    assert sentence in response.text
    with Session(engine) as session:
        assert session.exec(select(ReviewLog)).all() == []
