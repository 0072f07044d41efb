"""Anki packages (.apkg) -> draft cards.

An .apkg is a zip holding a SQLite collection (``collection.anki21`` or, from older
exports and genanki, ``collection.anki2``), a ``media`` file mapping the numbered
members to their names (``{"0": "diagram.png"}``), and the numbered media files.
Each note becomes one draft: its first field (or the field named Front/Question) is
the question, its second (Back/Answer) the answer, its tags are kept (lowercased into
the tag alphabet), its HTML is sanitised with nh3 and turned into Markdown, Anki's
math delimiters become ``$``/``$$``, and the images it uses are copied under
``content/media/anki/``. Nothing here touches the database: see ``editor.import_anki``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

import nh3

from app.services.authoring.atomic import atomic_write
from app.services.authoring.bulk import Limits, UploadRefused
from app.services.authoring.serialize import CardFields, slugify

MEDIA_FOLDER = "media/anki"  # relative to content/
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}
TITLE_LENGTH = 100

_TAG_CHARS = re.compile(r"[^a-z0-9+.#-]+")


@dataclass
class AnkiNote:
    guid: str
    deck: str  # Anki's deck name, "Parent::Child"
    fields: list[tuple[str, str]]  # (field name, HTML)
    tags: list[str]
    cloze: bool = False


@dataclass
class AnkiPackage:
    notes: list[AnkiNote]
    media: dict[str, bytes]  # file name -> bytes


@dataclass
class AnkiDraft:
    fields: CardFields
    guid: str
    media: list[str] = field(default_factory=list)  # content/-relative paths it uses
    notes: list[str] = field(default_factory=list)  # what was dropped, for the admin


# Media files may be larger than a card; the collection is checked against the total.
APKG_LIMITS = Limits(max_member_bytes=50 << 20)


# --- reading the package -----------------------------------------------------------


def read_apkg(data: bytes, limits: Limits = APKG_LIMITS) -> AnkiPackage:
    """The notes and media of an .apkg; raises UploadRefused for anything unusable."""
    if len(data) > limits.max_upload_bytes * 5:
        raise UploadRefused(
            [
                f"the package is {len(data) >> 20} MiB; the limit is "
                f"{limits.max_upload_bytes * 5 >> 20} MiB"
            ]
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UploadRefused(["not an Anki package: an .apkg is a zip file"]) from None
    with archive:
        infos = {info.filename: info for info in archive.infolist()}
        if len(infos) > limits.max_members:
            raise UploadRefused([f"refused as a possible zip bomb: {len(infos)} entries"])
        total = sum(i.file_size for i in infos.values())
        if total > limits.max_total_bytes * 4:
            raise UploadRefused([f"refused as a possible zip bomb: {total >> 20} MiB unpacked"])
        for info in infos.values():
            if info.file_size > 64 << 10 and info.file_size / max(info.compress_size, 1) > 1000:
                raise UploadRefused(
                    [
                        f"{info.filename}: refused as a possible zip bomb (compressed "
                        f"{info.file_size / max(info.compress_size, 1):.0f}:1)"
                    ]
                )
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
        media_map: dict[str, str] = {}
        if "media" in infos:
            try:
                raw_map = json.loads(_read(archive, infos["media"], 1 << 20) or b"{}")
                media_map = {str(k): str(v) for k, v in dict(raw_map).items()}
            except (ValueError, TypeError):
                raise UploadRefused(["the package's media list is not valid JSON"]) from None
        media: dict[str, bytes] = {}
        for number, media_name in media_map.items():
            safe = _safe_media_name(media_name)
            if safe is None or number not in infos:
                continue
            media[safe] = _read(archive, infos[number], limits.max_member_bytes)
    return AnkiPackage(notes=_read_notes(collection), media=media)


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    with archive.open(info) as handle:
        content = handle.read(limit + 1)
    if len(content) > limit:
        raise UploadRefused([f"{info.filename}: too large once unpacked"])
    return content


def _safe_media_name(name: str) -> str | None:
    base = PurePosixPath(name.replace("\\", "/")).name
    if not base or base.startswith(".") or "\0" in base:
        return None
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-")
    return cleaned or None


def _read_notes(collection: bytes) -> list[AnkiNote]:
    with tempfile.TemporaryDirectory(prefix="backprop-anki-") as tmp:
        path = Path(tmp) / "collection.sqlite"
        path.write_bytes(collection)
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise UploadRefused([f"the collection cannot be opened: {exc}"]) from None
        try:
            return _notes_from(db)
        except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
            raise UploadRefused([f"the collection cannot be read: {exc}"]) from None
        finally:
            db.close()


def _notes_from(db: sqlite3.Connection) -> list[AnkiNote]:
    models_json, decks_json = db.execute("SELECT models, decks FROM col").fetchone()
    models = json.loads(models_json or "{}")
    decks = json.loads(decks_json or "{}")
    deck_names = {int(k): str(v.get("name", "")) for k, v in decks.items()}
    note_decks = dict(db.execute("SELECT nid, MIN(did) FROM cards GROUP BY nid").fetchall())
    notes = []
    for note_id, guid, model_id, tags, flds in db.execute(
        "SELECT id, guid, mid, tags, flds FROM notes ORDER BY id"
    ):
        model = models.get(str(model_id), {})
        names = [f.get("name", "") for f in sorted(model.get("flds", []), key=lambda f: f["ord"])]
        values = str(flds).split("\x1f")
        names += [f"Field {i + 1}" for i in range(len(names), len(values))]
        notes.append(
            AnkiNote(
                guid=str(guid),
                deck=deck_names.get(int(note_decks.get(note_id, 0) or 0), ""),
                fields=list(zip(names, values, strict=False)),
                tags=str(tags).split(),
                cloze=model.get("type") == 1,
            )
        )
    return notes


# --- HTML -> Markdown --------------------------------------------------------------

_KEEP = {"b", "strong", "i", "em", "u", "code", "pre", "br", "p", "div", "ul", "ol", "li",
         "img", "a", "sub", "sup", "span", "table", "tr", "td", "th", "hr"}  # fmt: skip
_MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]|\[\$\$\](.+?)\[/\$\$\]|\[\$\](.+?)\[/\$\]"
                   r"|\[latex\](.+?)\[/latex\]", re.S)  # fmt: skip
_SOUND = re.compile(r"\[sound:[^\]]*\]")
_CLOZE = re.compile(r"\{\{c\d+::(.*?)(?:::(.*?))?\}\}", re.S)
_ESCAPE = re.compile(r"([\\`*_\[\]$<])")


class _Markdowner(HTMLParser):
    """Sanitised HTML -> Markdown. Text is escaped; math placeholders pass through."""

    def __init__(self, image_for: dict[str, str]) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[int]] = []  # [counter] per open list; 0 = bulleted
        self.pre = 0
        self.link: str | None = None
        self.image_for = image_for
        self.used: list[str] = []

    def block(self) -> None:
        self.out.append("\n\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("b", "strong"):
            self.out.append("**")
        elif tag in ("i", "em"):
            self.out.append("*")
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag == "pre":
            self.pre += 1
            self.out.append("\n\n```text\n")
        elif tag == "br":
            self.out.append("\\\n" if not self.pre else "\n")
        elif tag in ("p", "div", "table", "tr"):
            self.block()
        elif tag == "hr":
            self.out.append("\n\n---\n\n")
        elif tag in ("ul", "ol"):
            self.lists.append([1 if tag == "ol" else 0])
            self.block()
        elif tag == "li":
            indent = "  " * (len(self.lists) - 1)
            counter = self.lists[-1] if self.lists else [0]
            marker = f"{counter[0]}." if counter[0] else "-"
            if counter[0]:
                counter[0] += 1
            self.out.append(f"\n{indent}{marker} ")
        elif tag == "img":
            src = _safe_media_name(attributes.get("src") or "")
            if src and src in self.image_for:
                self.used.append(src)
                alt = _ESCAPE.sub(r"\\\1", attributes.get("alt") or src)
                self.out.append(f"![{alt}]({self.image_for[src]})")
        elif tag == "a":
            href = attributes.get("href") or ""
            if href.startswith(("http://", "https://")):
                self.link = href
                self.out.append("[")
        elif tag in ("td", "th"):
            self.out.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("b", "strong"):
            self.out.append("**")
        elif tag in ("i", "em"):
            self.out.append("*")
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag == "pre":
            self.pre = max(self.pre - 1, 0)
            self.out.append("\n```\n\n")
        elif tag in ("p", "div", "table", "tr"):
            self.block()
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self.block()
        elif tag == "a" and self.link:
            self.out.append(f"]({self.link})")
            self.link = None

    def handle_data(self, data: str) -> None:
        if self.pre:
            self.out.append(data)
            return
        text = re.sub(r"\s+", " ", data)
        self.out.append(_escape_keeping_math(text))


_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")


def _escape_keeping_math(text: str) -> str:
    parts = []
    last = 0
    for match in _PLACEHOLDER.finditer(text):
        parts.append(_ESCAPE.sub(r"\\\1", text[last : match.start()]))
        parts.append(match.group(0))
        last = match.end()
    parts.append(_ESCAPE.sub(r"\\\1", text[last:]))
    return "".join(parts)


def html_to_markdown(source: str, image_for: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """Anki field HTML -> (Markdown, media names it uses). Sanitised first with nh3."""
    maths: list[str] = []

    def keep_math(match: re.Match[str]) -> str:
        inline, display, dd, d, latex = match.groups()
        tex = inline or d
        text = f"${tex.strip()}$" if tex is not None else f"$${(display or dd or latex).strip()}$$"
        maths.append(text)
        return f"\ue000{len(maths) - 1}\ue001"

    source = _SOUND.sub("", source)
    source = _MATH.sub(keep_math, source)
    clean = nh3.clean(
        source,
        tags=_KEEP,
        attributes={"img": {"src", "alt"}, "a": {"href"}},
        clean_content_tags={"script", "style"},
        url_schemes={"http", "https"},
        link_rel=None,
    )
    parser = _Markdowner(image_for or {})
    parser.feed(clean)
    parser.close()
    text = "".join(parser.out)
    text = _PLACEHOLDER.sub(lambda m: maths[int(m.group(1))], text)
    text = text.replace("\ue000", "").replace("\ue001", "")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    # A hard break (backslash) only where a line of the same paragraph follows it.
    text = re.sub(r"\\\n(?=\n|$)", "\n", text)
    text = re.sub(r"\\$", "", text)
    return text, parser.used


def plain_text(source: str) -> str:
    text = nh3.clean(re.sub(r"<br\s*/?>|</(div|p|li)>", " ", source), tags=set())
    import html as _html

    return re.sub(r"\s+", " ", _html.unescape(text)).strip()


# --- notes -> drafts ---------------------------------------------------------------


def _field(note: AnkiNote, names: tuple[str, ...], index: int) -> str:
    for name, value in note.fields:
        if name.strip().lower() in names:
            return value
    return note.fields[index][1] if len(note.fields) > index else ""


def anki_deck(name: str) -> str:
    parts = [slugify(part, 60) for part in name.split("::") if part.strip()]
    parts = [p for p in parts if p and p != "card"] or ["anki"]
    return "/".join(parts)[:200].strip("/")


def anki_tag(tag: str) -> str | None:
    cleaned = _TAG_CHARS.sub("-", tag.lower().replace("::", "-")).strip("-+.#")
    return cleaned[:64] or None


def _title(text: str) -> str:
    text = _MATH.sub(lambda m: next(g for g in m.groups() if g is not None), text)
    text = plain_text(text)
    text = re.sub(r"\{\{c\d+::(.*?)(?:::.*?)?\}\}", r"\1", text)
    if len(text) <= TITLE_LENGTH:
        return text or "Untitled Anki note"
    return text[:TITLE_LENGTH].rsplit(" ", 1)[0] + "…"


def note_to_draft(
    note: AnkiNote,
    card_id: str,
    *,
    deck: str | None = None,
    media_paths: dict[str, str] | None = None,
) -> AnkiDraft:
    """One note as draft fields. ``media_paths``: media name -> path relative to content/."""
    target_deck = deck or anki_deck(note.deck)
    folder = f"cards/{target_deck}"
    image_for = {
        name: os.path.relpath(path, folder).replace(os.sep, "/")
        for name, path in (media_paths or {}).items()
    }
    front = _field(note, ("front", "question", "text"), 0)
    back = _field(note, ("back", "answer", "back extra", "extra"), 1)
    remarks = []
    if note.cloze:
        question_html = _CLOZE.sub(lambda m: f"[{m.group(2) or '…'}]", front)
        answer_html = _CLOZE.sub(lambda m: f"<b>{m.group(1)}</b>", front)
        if back.strip():
            answer_html += "<br><br>" + back
    else:
        question_html, answer_html = front, back
    question, used_q = html_to_markdown(question_html, image_for)
    answer, used_a = html_to_markdown(answer_html, image_for)
    if _SOUND.search(front + back):
        remarks.append("sound files were dropped")
    if not answer:
        remarks.append("the note had no answer field; write one before publishing")
    tags = []
    for tag in note.tags:
        cleaned = anki_tag(tag)
        if cleaned and cleaned not in tags:
            tags.append(cleaned)
    fields = CardFields(
        id=card_id,
        title=_title(front),
        deck=target_deck,
        difficulty="medium",
        demo=None,
        tags=tags,
        sections={"Question": question or "(empty)", "Answer": answer},
    )
    used = [(media_paths or {})[n] for n in dict.fromkeys(used_q + used_a)]
    return AnkiDraft(fields=fields, guid=note.guid, media=used, notes=remarks)


def copy_media(content_dir: Path, media: dict[str, bytes]) -> dict[str, str]:
    """Writes the package's images under content/media/anki/ (atomically); returns
    media name -> path relative to content/. An existing file with other bytes is
    kept, and the new one gets a short hash in its name."""
    placed: dict[str, str] = {}
    for name, data in media.items():
        if PurePosixPath(name).suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        rel = f"{MEDIA_FOLDER}/{name}"
        target = content_dir / rel
        if target.exists() and target.read_bytes() != data:
            stem, suffix = os.path.splitext(name)
            rel = f"{MEDIA_FOLDER}/{stem}-{hashlib.sha256(data).hexdigest()[:8]}{suffix}"
            target = content_dir / rel
        if not target.exists():
            atomic_write(target, data)
        placed[name] = rel
    return placed
