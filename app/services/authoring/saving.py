"""Saving from the editor: publish a card (with optimistic concurrency), save or
discard a draft. Every change is checked on a throwaway copy of the tree, imported in
the caller's transaction, committed, and only then are the files renamed into place."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from app.content.problems import ContentError
from app.models.authoring import CardChange
from app.models.base import utcnow
from app.models.card import Card, CardTag
from app.models.user import UserPublic
from app.services.authoring import bulk, checks
from app.services.authoring.atomic import staged_writes
from app.services.authoring.checks import keep_current_order, path_problems, unchanged_since
from app.services.authoring.form import (
    Conflict,
    FieldProblem,
    Invalid,
    NotFound,
    card_paths,
    current_markdown,
    diff_markdown,
    file_names,
    generate_id,
    render_markdown,
    version_of,
)
from app.services.authoring.paths import inside
from app.services.authoring.serialize import (
    CardFields,
    TranslationFields,
)
from app.services.importer import ImportReport, import_tree

# One save at a time per process: the files and the transaction move together.
# Across processes the database's write lock (BEGIN IMMEDIATE on SQLite, the card
# row lock on PostgreSQL) orders them.
SAVE_LOCK = threading.RLock()


@dataclass
class SaveResult:
    card_id: str
    version: str
    change: CardChange | None
    report: ImportReport | None = None


def lock_card(session: Session, card_id: str) -> Card | None:
    # The first statement of the transaction: on SQLite (writer engine) it takes the
    # write lock; on PostgreSQL the row lock orders concurrent saves of one card.
    return session.exec(select(Card).where(Card.id == card_id).with_for_update()).first()


def record_change(
    session: Session,
    card_id: str,
    action: str,
    author: UserPublic | None,
    before: Mapping[str, str],
    after: Mapping[str, str],
    names: Mapping[str, str],
    note: str = "",
) -> CardChange:
    last = session.exec(
        select(func.max(CardChange.number)).where(CardChange.card_id == card_id)
    ).one()
    number = (last or 0) + 1
    if number == 1 and before and action not in ("create", "draft", "upload"):
        # The card came from the files: keep that state, so it can be reverted to.
        session.add(
            CardChange(
                card_id=card_id,
                number=1,
                action="baseline",
                markdown=dict(before),
                content_hash=version_of(before),
                note="as imported from the files",
            )
        )
        number = 2
    change = CardChange(
        card_id=card_id,
        number=number,
        action=action,
        author_id=author.id if author else None,
        author_name=author.username if author else "",
        markdown=dict(after),
        content_hash=version_of(after) if after else "",
        diff=diff_markdown(before, after, names),
        note=note[:300],
    )
    session.add(change)
    return change


def apply_files(
    session: Session,
    content_dir: Path,
    writes: Mapping[str, str | None],
    after_import: Callable[[ImportReport], None],
) -> ImportReport:
    """Check the tree with ``writes`` applied (rel path -> text, None deletes), import it
    into the transaction, commit, then put the files in place."""
    uploads = [
        bulk.UploadedFile(rel, rel, text.encode())
        for rel, text in writes.items()
        if text is not None
    ]
    deletes = [rel for rel, text in writes.items() if text is None]
    with bulk.staged_tree(content_dir, uploads, deletes=deletes) as staging:
        try:
            report = import_tree(session, staging)
        except ContentError as exc:
            session.rollback()
            raise Invalid(
                [
                    FieldProblem(
                        "other files",
                        None,
                        p.message.replace(str(staging) + "/", "content/"),
                        f"content/{Path(p.path).relative_to(staging).as_posix()}:{p.line}",
                    )
                    for p in exc.problems
                ]
            ) from None
        after_import(report)
        targets = {inside(content_dir, rel): text for rel, text in writes.items()}
        with staged_writes(targets):
            session.commit()
    return report


def save_card(
    session: Session,
    content_dir: Path,
    fields: CardFields,
    translations: Mapping[str, TranslationFields],
    *,
    base_version: str,
    author: UserPublic | None,
    action: str | None = None,
    note: str = "",
) -> SaveResult:
    """Publish a card (new, draft or existing): validate, write, import, record.

    ``base_version`` is the version the form was loaded at ("" for a new card). Raises
    ``Conflict`` when the card changed since, ``Invalid`` with every problem placed on
    its field, and writes nothing in either case.
    """
    with SAVE_LOCK:
        is_new = not base_version and not fields.id
        if is_new:
            fields.id = generate_id(session, content_dir, fields.title)
        card = lock_card(session, fields.id)
        if card is None and base_version:
            session.rollback()
            raise NotFound(fields.id)
        if card is not None and not base_version and is_new is False and card.status != "draft":
            session.rollback()
            raise Conflict(fields.id, version_of(current_markdown(session, content_dir, card)))
        before = current_markdown(session, content_dir, card) if card else {}
        if card is not None and version_of(before) != base_version:
            session.rollback()
            raise Conflict(fields.id, version_of(before))
        old_paths: list[str] = []
        old_names: dict[str, str] = {}
        keep_folder: str | None = None
        if card is not None and card.status != "draft":
            folder, _ = card_paths(card)
            old_names = {
                lang: (f"{folder}/{card.id}.md" if i == 0 else f"{folder}/{card.id}.{lang}.md")
                for i, lang in enumerate(before)
            }
            old_paths = list(old_names.values())
            keep_current_order(fields, before)
            if unchanged_since(before, fields, translations):
                session.rollback()
                return SaveResult(card.id, version_of(before), None)
            # A card stays in its folder unless its deck changes (files need not sit
            # in their deck's folder).
            if fields.deck == card.deck:
                keep_folder = folder
        problems, texts = checks.check_tree(
            content_dir, fields, translations, old_paths, keep_folder
        )
        if problems:
            session.rollback()
            raise Invalid(problems)
        names = file_names(fields, texts, keep_folder)
        writes: dict[str, str | None] = {rel: None for rel in old_paths}
        writes.update({names[lang]: text for lang, text in texts.items()})
        if action is None:
            action = {None: "create", "draft": "publish"}.get(card.status if card else None, "edit")
        recorded: list[CardChange] = []

        def record(_: ImportReport) -> None:
            recorded.append(
                record_change(session, fields.id, action, author, before, texts, names, note)
            )

        report = apply_files(session, content_dir, writes, record)
        return SaveResult(fields.id, version_of(texts), recorded[0], report)


def save_draft(
    session: Session,
    content_dir: Path,
    fields: CardFields,
    translations: Mapping[str, TranslationFields],
    *,
    base_version: str,
    author: UserPublic | None,
    action: str = "draft",
    note: str = "",
) -> SaveResult:
    """Keep unfinished work as a draft: stored in the history only, never checked
    against the tree, never shown to learners. Refused for a published card."""
    with SAVE_LOCK:
        if not fields.id:
            fields.id = generate_id(session, content_dir, fields.title or "untitled draft")
        # A draft may lack a deck, but what it has must be safe to publish as a path.
        bad = [p for p in path_problems(fields) if fields.deck or p.field != "deck"]
        if bad:
            session.rollback()
            raise Invalid(bad)
        card = lock_card(session, fields.id)
        if card is not None and card.status != "draft":
            session.rollback()
            raise Conflict(fields.id, version_of(current_markdown(session, content_dir, card)))
        before = current_markdown(session, content_dir, card) if card else {}
        if card is not None and version_of(before) != base_version:
            session.rollback()
            raise Conflict(fields.id, version_of(before))
        texts = render_markdown(fields, translations)
        names = file_names(fields, texts)
        now = utcnow()
        values: dict[str, Any] = {
            "deck": fields.deck[:200] or "drafts",
            "title": fields.title[:300] or fields.id,
            "difficulty": fields.difficulty
            if fields.difficulty in ("easy", "medium", "hard")
            else "medium",
            "demo_path": fields.demo.path if fields.demo else None,
            "demo_params": dict(fields.demo.params) if fields.demo else {},
            "demo_proves": list(fields.demo.proves) if fields.demo else [],
            "answer_time_s": fields.answer_time_s,
            "sources": list(fields.source),
            "file_path": names[fields.lang],
            # Never a real file's hash: publishing must look like a change to the importer.
            "content_hash": "",
            "updated_at": now,
        }
        if card is None:
            card = Card(id=fields.id, status="draft", revision=0, created_at=now, **values)
            session.add(card)
        else:
            for key, value in values.items():
                setattr(card, key, value)
        session.flush()
        for row in session.exec(select(CardTag).where(CardTag.card_id == card.id)).all():
            session.delete(row)
        for tag in dict.fromkeys(fields.tags):
            session.add(CardTag(card_id=card.id, tag=tag[:64]))
        change = record_change(session, card.id, action, author, before, texts, names, note)
        session.commit()
        return SaveResult(card.id, version_of(texts), change)


def discard_draft(session: Session, card_id: str) -> None:
    card = lock_card(session, card_id)
    if card is None or card.status != "draft":
        session.rollback()
        raise NotFound(card_id)
    session.delete(card)  # its history goes with it: a draft was never in the deck
    session.commit()
