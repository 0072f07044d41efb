"""An .apkg -> drafts, idempotently: a card that came from the same Anki card before
(its ``source`` says ``anki:<guid>``) is updated, or reported unchanged, never
duplicated. Published cards are never overwritten by an import: a difference is
reported so the admin can edit the card. The summary counts everything the package
held, including what was not imported, so nothing is dropped without a word."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, col, select

from app.content.tree import card_files
from app.models.authoring import CardChange
from app.models.card import Card
from app.models.user import UserPublic
from app.services.anki.drafts import (
    copy_media,
    note_to_drafts,
    parse_source_key,
    source_key,
    unused_fields,
)
from app.services.anki.package import AnkiPackage, read_apkg
from app.services.authoring import editor
from app.services.authoring.bulk import UploadRefused
from app.services.authoring.serialize import unique_id

IMPORT_NOTE = "imported from Anki"


@dataclass
class ImportSummary:
    notes: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # published or edited since: left as is
    media: list[str] = field(default_factory=list)
    remarks: dict[str, list[str]] = field(default_factory=dict)
    note_types: dict[str, int] = field(default_factory=dict)  # name -> notes
    reversed_cards: int = 0
    type_in_notes: int = 0
    left_out: list[str] = field(default_factory=list)  # sentences with counts
    reviews: int = 0  # review-log rows in the package (a learner brings their own)

    @property
    def drafts(self) -> list[str]:
        """Every draft this import created or updated (what the admin reviews next)."""
        return self.created + self.updated


def cards_by_source(session: Session) -> dict[tuple[str, int], Card]:
    """Cards and drafts that came from Anki, by (note GUID, template ord)."""
    found: dict[tuple[str, int], Card] = {}
    # JSON columns do not compare portably: filtered here, not in SQL.
    for card in session.exec(select(Card)).all():
        for source in card.sources or []:
            key = parse_source_key(str(source))
            if key is not None:
                found.setdefault(key, card)
    return found


def import_package(
    session: Session,
    content_dir: Path,
    data: bytes,
    *,
    author: UserPublic | None,
    deck: str | None = None,
) -> ImportSummary:
    """Each Anki card of the package becomes (or updates) a draft to review in the
    editor; images are copied under content/media/anki/. Raises ``UploadRefused``."""
    package = read_apkg(data)
    if not package.notes:
        raise UploadRefused(["the package holds no notes"])
    summary = _count(package)
    placed = copy_media(content_dir, package.media)
    summary.media = sorted(placed.values())
    existing = cards_by_source(session)
    taken = set(session.exec(select(Card.id)).all()) | {
        p.name.partition(".")[0] for p in card_files(content_dir)
    }
    for note in package.notes:
        for draft in note_to_drafts(note, deck=deck, media_paths=placed):
            card = existing.get((draft.guid, draft.ord))
            if card is None:
                draft.fields.id = unique_id(draft.fields.title, taken)
                taken.add(draft.fields.id)
                base = ""
            else:
                draft.fields.id = card.id
                before = editor.current_markdown(session, content_dir, card)
                if before == editor.render_markdown(draft.fields, {}):
                    summary.unchanged.append(card.id)
                    continue
                if card.status != "draft" or not _last_change_was_import(session, card.id):
                    # The admin's own work wins over the package.
                    summary.kept.append(card.id)
                    continue
                base = editor.version_of(before)
            result = editor.save_draft(
                session,
                content_dir,
                draft.fields,
                {},
                base_version=base,
                author=author,
                note=f"{IMPORT_NOTE} ({source_key(draft.guid, draft.ord)})",
            )
            (summary.created if card is None else summary.updated).append(result.card_id)
            if draft.notes:
                summary.remarks[result.card_id] = draft.notes
    return summary


def _last_change_was_import(session: Session, card_id: str) -> bool:
    change = session.exec(
        select(CardChange)
        .where(CardChange.card_id == card_id)
        .order_by(col(CardChange.number).desc())
    ).first()
    return change is not None and change.note.startswith(IMPORT_NOTE)


def _count(package: AnkiPackage) -> ImportSummary:
    summary = ImportSummary(notes=len(package.notes), reviews=len(package.reviews))
    types: Counter[str] = Counter()
    unused: Counter[tuple[str, str]] = Counter()
    extra_templates: Counter[str] = Counter()
    merged_clozes = 0
    for note in package.notes:
        types[note.model or "(unnamed note type)"] += 1
        summary.type_in_notes += note.type_in
        if not note.cloze and len(note.templates) >= 2:
            summary.reversed_cards += any(c.ord == 1 for c in note.cards)
            extra = [c for c in note.cards if c.ord >= 2]
            if extra:
                extra_templates[note.model] += len(extra)
        if note.cloze:
            merged_clozes += sum(1 for c in note.cards if c.ord >= 1)
        for name in unused_fields(note):
            unused[(note.model, name)] += 1
    summary.note_types = dict(types.most_common())
    if merged_clozes:
        summary.left_out.append(
            f"{merged_clozes} cloze card{'s' if merged_clozes != 1 else ''} after the first of "
            "their note: one draft per note shows every gap"
        )
    for model, count in sorted(extra_templates.items()):
        summary.left_out.append(
            f'{count} card{"s" if count != 1 else ""} of note type "{model}" from templates '
            "after the second: not imported"
        )
    for (model, name), count in sorted(unused.items()):
        summary.left_out.append(
            f'field "{name}" of note type "{model}": not imported '
            f"({count} note{'s' if count != 1 else ''})"
        )
    if package.reviews:
        summary.left_out.append(
            f"{len(package.reviews)} review-log rows: not applied to anyone; each learner "
            "can bring their own history from their settings page"
        )
    return summary
