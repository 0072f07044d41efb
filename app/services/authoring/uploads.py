"""Bulk upload of card files and Anki import, through the editor's save path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from app.content.problems import ContentError
from app.models.card import Card
from app.models.user import UserPublic
from app.services.authoring import bulk
from app.services.authoring.form import parsed_markdown
from app.services.authoring.saving import SAVE_LOCK, apply_files, record_change
from app.services.authoring.serialize import (
    DEFAULT_LANG,
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
