"""Reading untrusted packages: what Anki's collection holds, and a clear refusal
(UploadRefused, a 400 on the page) for every malformed shape."""

from __future__ import annotations

import pytest

from app.services.anki.package import read_apkg
from app.services.authoring.bulk import UploadRefused
from tests.anki_packages import (
    BASIC,
    Review,
    build,
    interview_deck,
    note,
    with_bad_crc,
    with_col_json,
    with_reviews,
)


def test_reads_note_types_templates_cards_and_reviews() -> None:
    apkg = with_reviews(
        interview_deck(),
        [
            Review("guid-adam", 0, 1_700_000_000_000, 3),
            Review("guid-adam", 1, 1_700_000_600_000, 1),
        ],
    )
    package = read_apkg(apkg)
    by_guid = {n.guid: n for n in package.notes}
    adam = by_guid["guid-adam"]
    assert adam.model == "Basic (and reversed card)"
    assert adam.templates == ["Card 1", "Card 2"]
    assert sorted(c.ord for c in adam.cards) == [0, 1]
    assert by_guid["guid-lr"].type_in and not adam.type_in
    assert [name for name, _ in by_guid["guid-code"].fields] == ["Front", "Back", "Source"]
    assert [(r.ease, r.time_ms) for r in package.reviews] == [
        (3, 1_700_000_000_000),
        (1, 1_700_000_600_000),
    ]
    card_ids = {c.id: c.ord for c in adam.cards}
    assert [card_ids[r.card_id] for r in package.reviews] == [0, 1]


def test_models_as_a_list_is_refused_with_a_sentence() -> None:
    apkg = with_col_json(interview_deck(), "models", [{"id": 1, "name": "Basic"}])
    with pytest.raises(UploadRefused, match="note types are not an object"):
        read_apkg(apkg)


def test_deck_values_as_strings_are_refused_with_a_sentence() -> None:
    apkg = with_col_json(interview_deck(), "decks", {"1": "Default"})
    with pytest.raises(UploadRefused, match="decks are not an object"):
        read_apkg(apkg)


def test_invalid_json_in_the_collection_is_refused() -> None:
    from tests.anki_packages import edit_collection

    apkg = edit_collection(interview_deck(), lambda db: db.execute("UPDATE col SET models = '{'"))
    with pytest.raises(UploadRefused, match="note types are not valid JSON"):
        read_apkg(apkg)


def test_a_member_with_a_bad_crc_is_refused() -> None:
    with pytest.raises(UploadRefused, match="collection.anki2: damaged inside the zip"):
        read_apkg(with_bad_crc(interview_deck()))


def test_notes_per_package_are_capped() -> None:
    apkg = build([note(BASIC, f"q{i}", "a", f"g{i}") for i in range(6)])
    assert len(read_apkg(apkg, max_notes=6).notes) == 6
    with pytest.raises(UploadRefused, match="holds 6 notes; the limit is 5 per package"):
        read_apkg(apkg, max_notes=5)


def test_media_names_cannot_leave_the_folder() -> None:
    import io
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(interview_deck()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for member in source.namelist():
            data = source.read(member)
            if member == "media":
                data = b'{"0": "../../etc/evil.png", "1": ".hidden.png"}'
            target.writestr(member, data)
        target.writestr("1", b"x")
    media = read_apkg(out.getvalue()).media
    assert list(media) == ["evil.png"]


def test_a_view_in_place_of_a_table_is_refused() -> None:
    from tests.anki_packages import edit_collection

    def swap(db) -> None:  # type: ignore[no-untyped-def]
        db.execute("ALTER TABLE notes RENAME TO real_notes")
        db.execute(
            "CREATE VIEW notes AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n)"
            " SELECT x AS id, '' AS guid, 0 AS mid, '' AS tags, '' AS flds FROM n"
        )

    with pytest.raises(UploadRefused, match="its 'notes' table is a view"):
        read_apkg(edit_collection(interview_deck(), swap))


def test_a_query_that_runs_too_long_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services.anki import package
    from tests.anki_packages import edit_collection

    def slow(db) -> None:  # type: ignore[no-untyped-def]
        db.executemany(
            "INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type)"
            " VALUES (?, 1, 0, 3, 1, 0, 2500, 1, 1)",
            [(i,) for i in range(1, 50_000)],
        )

    monkeypatch.setattr(package, "READ_SECONDS", 0)
    with pytest.raises(UploadRefused, match="took longer than 0 s to read"):
        read_apkg(edit_collection(interview_deck(), slow))
