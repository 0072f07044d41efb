"""Reading an untrusted .apkg: bounded sizes, no path traversal, the collection opened
read-only from a temporary copy, and every shape Anki's JSON columns may take checked.

An .apkg is a zip holding a SQLite collection (``collection.anki21`` or, from older
exports and genanki, ``collection.anki2``), a ``media`` file mapping the numbered
members to their names (``{"0": "diagram.png"}``), and the numbered media files.
The collection's ``col`` row holds ``models`` and ``decks`` as JSON objects keyed by
id; ``notes.flds`` separates fields with ``\\x1f``; ``cards`` has one row per
(note, template ``ord``); ``revlog`` one row per review (``id`` is its time in ms).
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from app.services.authoring.bulk import Limits, UploadRefused

# Media files may be larger than a card; the collection is checked against the total.
APKG_LIMITS = Limits(max_member_bytes=50 << 20)
MAX_NOTES = 2000  # per package: a bigger deck is split into several imports
MAX_REVIEWS = 200_000
READ_SECONDS = 30  # the most one package's collection may take to read
_TYPE_IN = re.compile(r"\{\{type:[^}]*\}\}")


@dataclass
class AnkiCard:
    id: int
    ord: int  # which template of the note type
    deck: str
    type: int  # 0 new, 1 learning, 2 review, 3 relearning
    queue: int  # -1 suspended, -2/-3 buried, 0 new, 1/3 learning, 2 review
    due: int  # review: days since the collection was created; learning: epoch seconds
    ivl: int  # days (negative: seconds)


@dataclass
class AnkiReview:
    time_ms: int  # revlog.id: when the review happened, in ms since the epoch
    card_id: int
    ease: int  # 1 again .. 4 easy (0: a manual reschedule)
    kind: int  # 0 learn, 1 review, 2 relearn, 3 filtered, 4 manual
    duration_ms: int


@dataclass
class AnkiNote:
    guid: str
    deck: str  # Anki's deck name, "Parent::Child"
    fields: list[tuple[str, str]]  # (field name, HTML)
    tags: list[str]
    cloze: bool = False
    model: str = ""  # the note type's name
    templates: list[str] = field(default_factory=list)  # its card templates' names
    type_in: bool = False  # a template asks to type the answer
    id: int = 0
    cards: list[AnkiCard] = field(default_factory=list)


@dataclass
class AnkiPackage:
    notes: list[AnkiNote]
    media: dict[str, bytes]  # file name -> bytes
    reviews: list[AnkiReview] = field(default_factory=list)
    created_s: int = 0  # col.crt: day 0 of review cards' ``due``


def read_apkg(
    data: bytes, limits: Limits = APKG_LIMITS, *, max_notes: int = MAX_NOTES
) -> AnkiPackage:
    """The notes, media and review log of an .apkg; raises UploadRefused for anything
    unusable, with a sentence saying why."""
    if len(data) > limits.max_upload_bytes * 5:
        raise UploadRefused(
            [
                f"the package is {len(data) >> 20} MiB; the limit is "
                f"{limits.max_upload_bytes * 5 >> 20} MiB"
            ]
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UploadRefused(["not an Anki package: an .apkg is a zip file"]) from None
    with archive:
        infos = {info.filename: info for info in archive.infolist()}
        _check_sizes(infos, limits)
        name = next((n for n in ("collection.anki21", "collection.anki2") if n in infos), None)
        if name is None:
            if "collection.anki21b" in infos:
                raise UploadRefused(
                    [
                        "this package uses Anki's newest format; export it again with "
                        "'Support older Anki versions' ticked"
                    ]
                )
            raise UploadRefused(["not an Anki package: no collection.anki2 inside"])
        collection = _read(archive, infos[name], limits.max_total_bytes * 4)
        media = _read_media(archive, infos, limits)
    package = _read_collection(collection, max_notes)
    package.media = media
    return package


SQLITE_HEADER = b"SQLite format 3\x00"


def read_package_or_collection(data: bytes, *, max_notes: int = MAX_NOTES) -> AnkiPackage:
    """An .apkg, or a bare collection file (``collection.anki2`` from Anki's profile
    folder), which has no media."""
    if data.startswith(SQLITE_HEADER):
        if len(data) > APKG_LIMITS.max_total_bytes * 4:
            raise UploadRefused([f"the collection is {len(data) >> 20} MiB: too large"])
        return _read_collection(data, max_notes)
    return read_apkg(data, max_notes=max_notes)


def _check_sizes(infos: dict[str, zipfile.ZipInfo], limits: Limits) -> None:
    if len(infos) > limits.max_members:
        raise UploadRefused([f"refused as a possible zip bomb: {len(infos)} entries"])
    total = sum(i.file_size for i in infos.values())
    if total > limits.max_total_bytes * 4:
        raise UploadRefused([f"refused as a possible zip bomb: {total >> 20} MiB unpacked"])
    for info in infos.values():
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 64 << 10 and ratio > 1000:
            raise UploadRefused(
                [f"{info.filename}: refused as a possible zip bomb (compressed {ratio:.0f}:1)"]
            )


def _read_media(
    archive: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], limits: Limits
) -> dict[str, bytes]:
    media_map: dict[str, str] = {}
    if "media" in infos:
        try:
            raw_map = json.loads(_read(archive, infos["media"], 1 << 20) or b"{}")
            if not isinstance(raw_map, dict):
                raise TypeError
            media_map = {str(k): str(v) for k, v in raw_map.items()}
        except (ValueError, TypeError):
            raise UploadRefused(["the package's media list is not valid JSON"]) from None
    media: dict[str, bytes] = {}
    for number, media_name in media_map.items():
        safe = safe_media_name(media_name)
        if safe is None or number not in infos:
            continue
        media[safe] = _read(archive, infos[number], limits.max_member_bytes)
    return media


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    try:
        with archive.open(info) as handle:
            content = handle.read(limit + 1)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        # A bad CRC-32, a truncated member, an unknown compression method...
        raise UploadRefused([f"{info.filename}: damaged inside the zip ({exc})"]) from None
    if len(content) > limit:
        raise UploadRefused([f"{info.filename}: too large once unpacked"])
    return content


def safe_media_name(name: str) -> str | None:
    """A plain file name (no folders, no dot files) made of safe characters, or None."""
    base = PurePosixPath(name.replace("\\", "/")).name
    if not base or base.startswith(".") or "\0" in base:
        return None
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-")
    return cleaned or None


def _read_collection(collection: bytes, max_notes: int) -> AnkiPackage:
    with tempfile.TemporaryDirectory(prefix="backprop-anki-") as tmp:
        path = Path(tmp) / "collection.sqlite"
        path.write_bytes(collection)
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise UploadRefused([f"the collection cannot be opened: {exc}"]) from None
        deadline = time.monotonic() + READ_SECONDS
        # A crafted file can make a query run forever (a view with a recursive CTE):
        # SQLite calls this every 10,000 steps, and a true answer aborts the query.
        db.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
        try:
            _only_tables(db)
            return _package_from(db, max_notes)
        except sqlite3.OperationalError as exc:
            if time.monotonic() > deadline:
                raise UploadRefused(
                    [f"the collection took longer than {READ_SECONDS} s to read"]
                ) from None
            raise UploadRefused([f"the collection cannot be read: {exc}"]) from None
        except sqlite3.Error as exc:
            raise UploadRefused([f"the collection cannot be read: {exc}"]) from None
        finally:
            db.close()


def _only_tables(db: sqlite3.Connection) -> None:
    """Anki's tables must be tables: a view or a trigger in an upload is refused."""
    kinds = dict(db.execute("SELECT name, type FROM sqlite_master WHERE name IN "
                            "('col', 'notes', 'cards', 'revlog')").fetchall())  # fmt: skip
    for name in ("col", "notes", "cards", "revlog"):
        if kinds.get(name) != "table":
            what = f"a {kinds[name]}" if name in kinds else "missing"
            raise UploadRefused([f"not an Anki collection: its '{name}' table is {what}"])


def _json_object(raw: Any, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except (ValueError, TypeError):
        raise UploadRefused([f"the collection's {what} are not valid JSON"]) from None
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise UploadRefused(
            [f"the collection's {what} are not an object of {what} keyed by id, as Anki writes"]
        )
    return value


def _package_from(db: sqlite3.Connection, max_notes: int) -> AnkiPackage:
    row = db.execute("SELECT models, decks, crt FROM col").fetchone()
    if row is None:
        raise UploadRefused(["the collection has no 'col' row"])
    models = _json_object(row[0], "note types")
    decks = _json_object(row[1], "decks")
    deck_names = {_int(k): str(v.get("name", "")) for k, v in decks.items()}
    (count,) = db.execute("SELECT COUNT(*) FROM notes").fetchone()
    if count > max_notes:
        raise UploadRefused(
            [f"the package holds {count} notes; the limit is {max_notes} per package"]
        )
    cards_of: dict[int, list[AnkiCard]] = {}
    for cid, nid, did, ord_, ctype, queue, due, ivl in db.execute(
        "SELECT id, nid, did, ord, type, queue, due, ivl FROM cards ORDER BY nid, ord"
    ):
        card = AnkiCard(
            _int(cid), _int(ord_), deck_names.get(_int(did), ""), _int(ctype), _int(queue),
            _int(due), _int(ivl),
        )  # fmt: skip
        cards_of.setdefault(_int(nid), []).append(card)
    notes = []
    for note_id, guid, model_id, tags, flds in db.execute(
        "SELECT id, guid, mid, tags, flds FROM notes ORDER BY id"
    ):
        notes.append(_note(models.get(str(model_id), {}), note_id, guid, tags, flds, cards_of))
    (review_count,) = db.execute("SELECT COUNT(*) FROM revlog").fetchone()
    if review_count > MAX_REVIEWS:
        raise UploadRefused(
            [f"the collection holds {review_count} reviews; the limit is {MAX_REVIEWS}"]
        )
    reviews = [
        AnkiReview(_int(rid), _int(cid), _int(ease), _int(kind), _int(duration))
        for rid, cid, ease, kind, duration in db.execute(
            "SELECT id, cid, ease, type, time FROM revlog ORDER BY id"
        )
    ]
    return AnkiPackage(notes=notes, media={}, reviews=reviews, created_s=_int(row[2]))


def _note(
    model: dict[str, Any],
    note_id: Any,
    guid: Any,
    tags: Any,
    flds: Any,
    cards_of: dict[int, list[AnkiCard]],
) -> AnkiNote:
    field_defs = [f for f in _list(model.get("flds")) if isinstance(f, dict)]
    field_defs.sort(key=lambda f: _int(f.get("ord")))
    names = [str(f.get("name", "")) for f in field_defs]
    values = str(flds).split("\x1f")
    names += [f"Field {i + 1}" for i in range(len(names), len(values))]
    templates = [t for t in _list(model.get("tmpls")) if isinstance(t, dict)]
    templates.sort(key=lambda t: _int(t.get("ord")))
    cards = cards_of.get(_int(note_id), [])
    return AnkiNote(
        guid=str(guid),
        deck=cards[0].deck if cards else "",
        fields=list(zip(names, values, strict=False)),
        tags=str(tags).split(),
        cloze=model.get("type") == 1,
        model=str(model.get("name", "")),
        templates=[str(t.get("name", "")) for t in templates],
        type_in=any(_TYPE_IN.search(str(t.get("qfmt", ""))) for t in templates),
        id=_int(note_id),
        cards=cards,
    )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
