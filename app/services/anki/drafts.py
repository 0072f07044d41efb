"""Anki notes -> draft card fields, one draft per Anki card we can show.

A note's first field (or the field named Front/Question/Text) is the question, its
second (Back/Answer/Extra) the answer. A "Basic (and reversed card)" note that has its
reverse card becomes a second draft with the sides swapped; a note whose template asks
to type the answer is tagged ``type-in``; fields nothing reads are reported, never
dropped silently. Each draft's ``source`` names the Anki card it came from
(``anki:<note guid>``, or ``anki#1:<note guid>`` for the reversed card): that is how a
second import finds it again and how review history finds its card.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from app.services.anki.markdown import MATH, SOUND, html_to_markdown, plain_text
from app.services.anki.package import AnkiNote
from app.services.authoring.atomic import atomic_write
from app.services.authoring.serialize import CardFields, slugify

MEDIA_FOLDER = "media/anki"  # relative to content/
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}
TITLE_LENGTH = 100
SOURCE_PREFIX = "anki:"
TYPE_IN_TAG = "type-in"

_TAG_CHARS = re.compile(r"[^a-z0-9+.#-]+")
_CLOZE = re.compile(r"\{\{c\d+::(.*?)(?:::(.*?))?\}\}", re.S)
_FRONT = ("front", "question", "text")
_BACK = ("back", "answer", "back extra", "extra")


@dataclass
class AnkiDraft:
    fields: CardFields
    guid: str
    ord: int = 0  # the Anki card template this draft stands for
    media: list[str] = field(default_factory=list)  # content/-relative paths it uses
    notes: list[str] = field(default_factory=list)  # what was changed or left out
    unused_fields: list[str] = field(default_factory=list)  # non-empty fields not shown


_OTHER_ORD = re.compile(r"anki#(\d{1,3}):(.+)", re.S)


def source_key(guid: str, ord_: int = 0) -> str:
    """The ``source`` entry naming one Anki card: its note's GUID (which may hold any
    printable character, ``#`` and ``:`` included) and, past the first, its template."""
    return f"{SOURCE_PREFIX}{guid}" if ord_ == 0 else f"anki#{ord_}:{guid}"


def parse_source_key(source: str) -> tuple[str, int] | None:
    if source.startswith(SOURCE_PREFIX):
        return source[len(SOURCE_PREFIX) :], 0
    match = _OTHER_ORD.fullmatch(source)
    return (match.group(2), int(match.group(1))) if match else None


def _field_index(note: AnkiNote, names: tuple[str, ...], index: int) -> int | None:
    for i, (name, _) in enumerate(note.fields):
        if name.strip().lower() in names:
            return i
    return index if len(note.fields) > index else None


def _sides(note: AnkiNote) -> tuple[int | None, int | None]:
    """Where the question and the answer are among the note's fields."""
    front_at = _field_index(note, _FRONT, 0)
    back_at = _field_index(note, _BACK, 1)
    return front_at, (back_at if back_at != front_at else None)


def unused_fields(note: AnkiNote) -> list[str]:
    """The names of the note's non-empty fields that no draft shows."""
    used = set(_sides(note))
    return [name for i, (name, value) in enumerate(note.fields) if i not in used and value.strip()]


def anki_deck(name: str) -> str:
    parts = [slugify(part, 60) for part in name.split("::") if part.strip()]
    parts = [p for p in parts if p and p != "card"] or ["anki"]
    return "/".join(parts)[:200].strip("/")


def anki_tag(tag: str) -> str | None:
    cleaned = _TAG_CHARS.sub("-", tag.lower().replace("::", "-")).strip("-+.#")
    return cleaned[:64] or None


def _title(text: str) -> str:
    text = MATH.sub(lambda m: next((g for g in m.groups() if g is not None), ""), text)
    text = plain_text(text)
    text = re.sub(r"\{\{c\d+::(.*?)(?:::.*?)?\}\}", r"\1", text)
    if len(text) <= TITLE_LENGTH:
        return text or "Untitled Anki note"
    return text[:TITLE_LENGTH].rsplit(" ", 1)[0] + "…"


def reverse_ords(note: AnkiNote) -> list[int]:
    """The ords of the note's cards shown back to front: a standard (not cloze) note
    type with a second template, for which the note has a card."""
    if note.cloze or len(note.templates) < 2:
        return []
    return sorted({c.ord for c in note.cards if c.ord == 1})


def note_to_drafts(
    note: AnkiNote,
    *,
    deck: str | None = None,
    media_paths: dict[str, str] | None = None,
) -> list[AnkiDraft]:
    """The note's front-to-back draft, then its reversed one if Anki had that card."""
    drafts = [note_to_draft(note, "", deck=deck, media_paths=media_paths)]
    for ord_ in reverse_ords(note):
        drafts.append(note_to_draft(note, "", deck=deck, media_paths=media_paths, ord_=ord_))
    return drafts


def note_to_draft(
    note: AnkiNote,
    card_id: str,
    *,
    deck: str | None = None,
    media_paths: dict[str, str] | None = None,
    ord_: int = 0,
) -> AnkiDraft:
    """One Anki card of the note as draft fields (``ord_`` 1: the reversed card).
    ``media_paths``: media name -> path relative to content/."""
    target_deck = deck or anki_deck(note.deck)
    folder = f"cards/{target_deck}"
    image_for = {
        name: os.path.relpath(path, folder).replace(os.sep, "/")
        for name, path in (media_paths or {}).items()
    }
    front_at, back_at = _sides(note)
    front = note.fields[front_at][1] if front_at is not None else ""
    back = note.fields[back_at][1] if back_at is not None else ""
    remarks = []
    if note.cloze:
        question_html = _CLOZE.sub(lambda m: f"[{m.group(2) or '…'}]", front)
        answer_html = _CLOZE.sub(lambda m: f"<b>{m.group(1)}</b>", front)
        if back.strip():
            answer_html += "<br><br>" + back
    elif ord_:
        question_html, answer_html = back, front
        remarks.append("the reversed card of the note (answer shown, question asked)")
    else:
        question_html, answer_html = front, back
    question, used_q = html_to_markdown(question_html, image_for)
    answer, used_a = html_to_markdown(answer_html, image_for)
    if SOUND.search(front + back):
        remarks.append("sound files were dropped")
    if not answer:
        remarks.append("the note had no answer field; write one before publishing")
    tags = []
    for tag in note.tags:
        cleaned = anki_tag(tag)
        if cleaned and cleaned not in tags:
            tags.append(cleaned)
    if note.type_in:
        remarks.append("Anki asked to type the answer: tagged type-in")
        if TYPE_IN_TAG not in tags:
            tags.append(TYPE_IN_TAG)
    unused = unused_fields(note)
    if unused:
        remarks.append(f"fields not imported: {', '.join(unused)}")
    fields = CardFields(
        id=card_id,
        title=_title(back if ord_ else front),
        deck=target_deck,
        difficulty="medium",
        demo=None,
        tags=tags,
        sections={"Question": question or "(empty)", "Answer": answer},
        source=[source_key(note.guid, ord_)],
    )
    used = [(media_paths or {})[n] for n in dict.fromkeys(used_q + used_a)]
    return AnkiDraft(fields, note.guid, ord_, used, remarks, unused)


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
