"""Anki packages for tests, built with genanki (the note types Anki ships) and, for
what genanki cannot write (review logs, broken collections), by editing the
collection's SQLite afterwards."""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import genanki

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)

BASIC = genanki.Model(
    1607392319,
    "Basic",
    fields=[{"name": "Front"}, {"name": "Back"}],
    templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr>{{Back}}"}],
)
REVERSED = genanki.Model(
    1607392320,
    "Basic (and reversed card)",
    fields=[{"name": "Front"}, {"name": "Back"}],
    templates=[
        {"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr>{{Back}}"},
        {"name": "Card 2", "qfmt": "{{Back}}", "afmt": "{{FrontSide}}<hr>{{Front}}"},
    ],
)
TYPE_IN = genanki.Model(
    1607392321,
    "Basic (type in the answer)",
    fields=[{"name": "Front"}, {"name": "Back"}],
    templates=[
        {
            "name": "Card 1",
            "qfmt": "{{Front}}\n\n{{type:Back}}",
            "afmt": "{{Front}}<hr>{{type:Back}}",
        }
    ],
)
WITH_SOURCE = genanki.Model(
    1607392322,
    "Basic with source",
    fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Source"}],
    templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{Back}}"}],
)


@dataclass
class Review:
    """One revlog row: the note (by GUID) and template it reviewed, when, which button."""

    guid: str
    ord: int
    time_ms: int
    ease: int
    kind: int = 1
    duration_ms: int = 8000


def build(
    notes: Sequence[genanki.Note],
    *,
    deck_name: str = "Deep Learning::Optimizers",
    media: dict[str, bytes] | None = None,
) -> bytes:
    deck = genanki.Deck(2059400110, deck_name)
    for note in notes:
        deck.add_note(note)
    with tempfile.TemporaryDirectory() as tmp:
        package = genanki.Package(deck)
        paths = []
        for name, data in (media or {}).items():
            path = Path(tmp) / name
            path.write_bytes(data)
            paths.append(str(path))
        package.media_files = paths
        out = Path(tmp) / "deck.apkg"
        package.write_to_file(out)
        return out.read_bytes()


def note(model: genanki.Model, front: str, back: str, guid: str, **kw: object) -> genanki.Note:
    fields = [front, back, *[str(v) for v in kw.pop("extra", [])]]  # type: ignore[attr-defined]
    return genanki.Note(model=model, fields=fields, guid=guid, **kw)  # type: ignore[arg-type]


def interview_deck() -> bytes:
    """The kinds of notes third-party decks hold: spaced bold, <div> lines, MathJax with
    entities and an empty \\(\\), code with backticks, reversed, type-in, an extra field."""
    return build(
        [
            note(
                BASIC,
                "What does <b>momentum </b>add to SGD?",
                "<div>A velocity: \\(v_t = \\beta&nbsp;v_{t-1} + g_t\\)</div>"
                '<div>that smooths \\(\\)the steps \\(a &lt; b\\).</div><img src="velocity.png">',
                "guid-momentum",
                tags=["optimization", "SGD::momentum"],
            ),
            note(
                REVERSED,
                "Adam",
                "Momentum plus <i>RMSprop </i>scaling",
                "guid-adam",
                tags=["optimization"],
            ),
            note(TYPE_IN, "The default learning rate of Adam?", "0.001", "guid-lr"),
            note(
                WITH_SOURCE,
                "Print a fence",
                "<pre>print('```')\nx = 1</pre>",
                "guid-code",
                extra=["Goodfellow ch. 8"],
            ),
        ],
        media={"velocity.png": PNG},
    )


def edit_collection(apkg: bytes, change: Callable[[sqlite3.Connection], None]) -> bytes:
    """The package with its collection changed by ``change`` (other members kept)."""
    source = zipfile.ZipFile(io.BytesIO(apkg))
    name = next(n for n in source.namelist() if n.startswith("collection.anki2"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.sqlite"
        path.write_bytes(source.read(name))
        db = sqlite3.connect(path)
        change(db)
        db.commit()
        db.close()
        collection = path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for member in source.namelist():
            target.writestr(member, collection if member == name else source.read(member))
    return out.getvalue()


def with_reviews(apkg: bytes, reviews: Sequence[Review]) -> bytes:
    """Adds revlog rows for the cards of the given notes and templates."""

    def change(db: sqlite3.Connection) -> None:
        for review in reviews:
            (card_id,) = db.execute(
                "SELECT cards.id FROM cards JOIN notes ON notes.id = cards.nid"
                " WHERE notes.guid = ? AND cards.ord = ?",
                (review.guid, review.ord),
            ).fetchone()
            db.execute(
                "INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type)"
                " VALUES (?, ?, -1, ?, 1, 0, 2500, ?, ?)",
                (review.time_ms, card_id, review.ease, review.duration_ms, review.kind),
            )

    return edit_collection(apkg, change)


def with_col_json(apkg: bytes, column: str, value: object) -> bytes:
    """The collection's ``col.<column>`` (models, decks) replaced by ``value`` as JSON."""
    assert column in ("models", "decks", "dconf")

    def change(db: sqlite3.Connection) -> None:
        db.execute(f"UPDATE col SET {column} = ?", (json.dumps(value),))

    return edit_collection(apkg, change)


def with_bad_crc(apkg: bytes) -> bytes:
    """The same zip with one byte of the stored collection flipped (its CRC-32 no longer
    matches). Written uncompressed so the flip is not a deflate error instead."""
    source = zipfile.ZipFile(io.BytesIO(apkg))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as target:
        for member in source.namelist():
            target.writestr(member, source.read(member))
    data = bytearray(out.getvalue())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("collection.anki2")
    header = info.header_offset
    name_len = int.from_bytes(data[header + 26 : header + 28], "little")
    extra_len = int.from_bytes(data[header + 28 : header + 30], "little")
    start = header + 30 + name_len + extra_len
    data[start + 100] ^= 0xFF
    return bytes(data)
