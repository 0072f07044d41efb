"""A card's history: list it, revert to an entry, retire and restore."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, col, select

from app.models.authoring import CardChange
from app.models.card import Card
from app.models.user import UserPublic
from app.services.authoring.form import (
    Conflict,
    NotFound,
    card_paths,
    editor_card,
    files_on_disk,
    last_change,
    last_revision_markdown,
    version_of,
)
from app.services.authoring.saving import (
    SAVE_LOCK,
    SaveResult,
    apply_files,
    lock_card,
    record_change,
    save_card,
    save_draft,
)
from app.services.importer import ImportReport


def history(session: Session, card_id: str) -> list[CardChange]:
    return list(
        session.exec(
            select(CardChange)
            .where(CardChange.card_id == card_id)
            .order_by(col(CardChange.number).desc())
        ).all()
    )


def revert(
    session: Session,
    content_dir: Path,
    card_id: str,
    change_id: int,
    *,
    base_version: str,
    author: UserPublic | None,
) -> SaveResult:
    """Bring back the content a card had after an earlier change, as a new change."""
    change = session.get(CardChange, change_id)
    card = session.get(Card, card_id)
    if change is None or card is None or change.card_id != card_id or not change.markdown:
        raise NotFound(f"{card_id} change {change_id}")
    target = editor_card(change.markdown, card.status, base_version)
    save = save_draft if card.status == "draft" else save_card
    return save(
        session,
        content_dir,
        target.fields,
        target.translations,
        base_version=base_version,
        author=author,
        action="revert",
        note=f"reverted to change #{change.number}",
    )


def retire(
    session: Session,
    content_dir: Path,
    card_id: str,
    *,
    base_version: str,
    author: UserPublic | None,
) -> SaveResult:
    """Take a card out of every queue by removing its files; its review history stays."""
    with SAVE_LOCK:
        card = lock_card(session, card_id)
        if card is None or card.status != "active":
            session.rollback()
            raise NotFound(card_id)
        before = files_on_disk(content_dir, card)
        if version_of(before) != base_version:
            session.rollback()
            raise Conflict(card_id, version_of(before))
        folder, _ = card_paths(card)
        names = {
            lang: (card.file_path if i == 0 else f"{folder}/{card.id}.{lang}.md")
            for i, lang in enumerate(before)
        }
        recorded: list[CardChange] = []

        def record(_: ImportReport) -> None:
            recorded.append(record_change(session, card_id, "retire", author, before, {}, names))

        report = apply_files(session, content_dir, {rel: None for rel in names.values()}, record)
        return SaveResult(card_id, version_of({}), recorded[0], report)


def restore(
    session: Session, content_dir: Path, card_id: str, *, author: UserPublic | None
) -> SaveResult:
    """Put a retired card's last content back; it returns to the queues with its schedule."""
    card = session.get(Card, card_id)
    if card is None or card.status != "retired":
        raise NotFound(card_id)
    change = last_change(session, card_id, with_markdown=True)
    markdown = (
        dict(change.markdown)
        if change and change.markdown
        else last_revision_markdown(session, card_id)
    )
    if not markdown:
        raise NotFound(f"{card_id}: no earlier content to restore")
    target = editor_card(markdown, card.status, version_of({}))
    return save_card(
        session,
        content_dir,
        target.fields,
        target.translations,
        base_version=version_of(files_on_disk(content_dir, card)),
        author=author,
        action="restore",
    )
