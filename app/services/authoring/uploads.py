"""Bulk upload of card files and Anki import, through the editor's save path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from app.content.problems import ContentError
from app.content.tree import card_files
from app.models.card import Card
from app.models.user import UserPublic
from app.services.authoring import anki, bulk
from app.services.authoring.form import parsed_markdown
from app.services.authoring.saving import SAVE_LOCK, apply_files, record_change, save_draft
from app.services.authoring.serialize import (
    DEFAULT_LANG,
    unique_id,
)
from app.services.importer import ImportReport


@dataclass
class UploadResult:
    files: list[str]
    report: ImportReport


def upload(
    session: Session, content_dir: Path, filename: str, data: bytes, *, author: UserPublic | None
) -> UploadResult:
    """One card file or a zip of them: refused outright (``bulk.UploadRefused``) when
    unsafe; ``ContentError`` listing every problem when the tree would not check; else
    written and imported, all or nothing, one history entry per card."""
    files = bulk.read_upload(filename, data)
    problems = bulk.check_upload(content_dir, files)
    if problems:
        raise ContentError(problems)
    with SAVE_LOCK:
        session.exec(select(Card.id).with_for_update()).first()
        before_by_file = {
            f.target: (content_dir / f.target).read_text("utf-8")
            for f in files
            if (content_dir / f.target).is_file()
        }
        writes: dict[str, str | None] = {f.target: f.data.decode("utf-8") for f in files}

        def record(_: ImportReport) -> None:
            for f in files:
                text = f.data.decode("utf-8")
                parsed = parsed_markdown(text)
                card_id = str(parsed.meta.get("id"))
                lang = f.target.rpartition("/")[2][:-3].partition(".")[2]
                lang = lang or str(parsed.meta.get("lang") or DEFAULT_LANG)
                before = {lang: before_by_file[f.target]} if f.target in before_by_file else {}
                if before == {lang: text}:
                    continue
                record_change(
                    session,
                    card_id,
                    "upload",
                    author,
                    before,
                    {lang: text},
                    {lang: f.target},
                    note=f"uploaded in {filename}",
                )

        report = apply_files(session, content_dir, writes, record)
    return UploadResult([f.target for f in files], report)


@dataclass
class AnkiResult:
    drafts: list[str]
    media: list[str]
    remarks: dict[str, list[str]]


def import_anki(
    session: Session,
    content_dir: Path,
    data: bytes,
    *,
    author: UserPublic | None,
    deck: str | None = None,
) -> AnkiResult:
    """Each note of an .apkg becomes a draft to review in the editor; its images are
    copied under content/media/anki/. Raises ``bulk.UploadRefused``."""
    package = anki.read_apkg(data)
    if not package.notes:
        raise bulk.UploadRefused(["the package holds no notes"])
    placed = anki.copy_media(content_dir, package.media)
    drafts, remarks = [], {}
    taken = set(session.exec(select(Card.id)).all()) | {
        p.name.partition(".")[0] for p in card_files(content_dir)
    }
    for note in package.notes:
        draft = anki.note_to_draft(note, "", deck=deck, media_paths=placed)
        card_id = unique_id(draft.fields.title, taken)
        taken.add(card_id)
        draft.fields.id = card_id
        result = save_draft(
            session,
            content_dir,
            draft.fields,
            {},
            base_version="",
            author=author,
            note=f"imported from Anki (note {note.guid})",
        )
        drafts.append(result.card_id)
        if draft.notes:
            remarks[result.card_id] = draft.notes
    return AnkiResult(drafts, sorted(placed.values()), remarks)
