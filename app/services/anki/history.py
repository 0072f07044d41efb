"""A learner's own Anki review history -> their FSRS schedule here.

The package's notes are matched to deck cards by GUID: a card imported from Anki keeps
its note's GUID in ``source`` (``anki:<guid>``, ``anki#1:<guid>`` for the reversed
card), and a card exported from here carries the GUID ``export.note_guid`` gives it,
so a deck studied in AnkiDroid comes back. Notes of the learner's own decks (GUIDs this
deck has never seen) are matched by a mapping file the learner writes: one
``<note GUID or first field>,<card id>`` per line (``parse_mapping``). Each matched
``revlog`` row becomes one of the learner's review-log rows (the log is the truth
here), and the learner's states are rebuilt by replaying the whole log
(``scheduling.replay``), so the result is the schedule those same answers would have
given had they been made here. Only this learner's rows are touched; importing the same
package again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from app.models.card import Card
from app.models.review import ReviewLog
from app.services.anki.drafts import parse_source_key
from app.services.anki.export import note_guid
from app.services.anki.markdown import plain_text
from app.services.anki.package import AnkiNote, AnkiPackage, read_package_or_collection
from app.services.authoring.bulk import UploadRefused
from app.services.scheduling import replay

# Anki's revlog.type -> the kind of answer here. 3 (a filtered deck) is logged like a
# cram answer: it does not move the schedule. 4 and 5 (manual reschedule, reset) are
# not answers at all.
_KINDS = {0: "learn", 1: "review", 2: "relearn", 3: "cram"}
MAX_DURATION_MS = 86_400_000
MAX_HISTORY_NOTES = 100_000  # a whole collection: only matched notes are used


@dataclass
class HistorySummary:
    notes: int = 0  # in the package
    matched_notes: int = 0
    matched_cards: int = 0  # deck cards that received history
    reviews: int = 0  # revlog rows in the package
    added: int = 0
    already_imported: int = 0
    not_answers: int = 0  # manual reschedules, resets
    unmatched_reviews: int = 0  # of notes no deck card matches
    states_changed: int = 0
    mapped_notes: int = 0  # matched through the learner's mapping file


MAX_MAPPING_LINES = 20_000


def parse_mapping(text: str, known_cards: set[str]) -> dict[str, str]:
    """A mapping file -> {note GUID or first field: card id}. One ``key,card-id`` per
    line; blank lines and lines starting with ``#`` are skipped; the last comma splits,
    so a first field may hold commas. Raises ``UploadRefused`` naming every bad line."""
    mapping: dict[str, str] = {}
    problems: list[str] = []
    lines = text.splitlines()
    if len(lines) > MAX_MAPPING_LINES:
        raise UploadRefused([f"the mapping file has more than {MAX_MAPPING_LINES} lines"])
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, comma, card_id = stripped.rpartition(",")
        key, card_id = key.strip(), card_id.strip()
        if not comma or not key or not card_id:
            problems.append(
                f"mapping line {number}: expected `<note GUID or first field>,<card id>`"
            )
        elif card_id not in known_cards:
            problems.append(f"mapping line {number}: no card here has the id {card_id!r}")
        else:
            mapping[key] = card_id
    if problems:
        raise UploadRefused(problems[:20])
    return mapping


def deck_cards_by_guid(session: Session) -> dict[tuple[str, int], str]:
    """(note GUID, template ord) -> the id of the active deck card it stands for."""
    found: dict[tuple[str, int], str] = {}
    for card in session.exec(select(Card).where(Card.status == "active")).all():
        found.setdefault((note_guid(card), 0), card.id)
        for source in card.sources or []:
            key = parse_source_key(str(source))
            if key is not None:
                found[key] = card.id
    return found


def import_history(
    session: Session, user_id: int, data: bytes, mapping_text: str | None = None
) -> HistorySummary:
    """Adds the matched reviews of an .apkg (or a bare collection.anki2) to the
    learner's log and replays it; ``mapping_text``, when given, is a mapping file for
    notes the GUIDs do not match. Run inside ``session_scope(engine, write=True)``.
    Raises ``UploadRefused``."""
    mapping: dict[str, str] = {}
    if mapping_text and mapping_text.strip():
        active = set(session.exec(select(Card.id).where(Card.status == "active")).all())
        mapping = parse_mapping(mapping_text, active)
    package = read_package_or_collection(data, max_notes=MAX_HISTORY_NOTES)
    if not package.reviews:
        raise UploadRefused(
            ["the package holds no review history: export it from Anki with scheduling included"]
        )
    return _apply(session, user_id, package, mapping)


def _apply(
    session: Session, user_id: int, package: AnkiPackage, mapping: dict[str, str]
) -> HistorySummary:
    summary = HistorySummary(notes=len(package.notes), reviews=len(package.reviews))
    deck = deck_cards_by_guid(session)
    target: dict[int, str] = {}  # Anki card id -> deck card id
    for note in package.notes:
        matched = False
        for anki_card in note.cards:
            card_id = deck.get((note.guid, anki_card.ord))
            if card_id is not None:
                target[anki_card.id] = card_id
                matched = True
        mapped = mapping.get(note.guid) or mapping.get(_first_field(note))
        if not matched and mapped is not None:
            # The mapping names one card: the note's first card (its front) goes there.
            first = min(note.cards, key=lambda c: c.ord, default=None)
            if first is not None:
                target[first.id] = mapped
                matched = True
                summary.mapped_notes += 1
        summary.matched_notes += matched
    existing = set(
        session.exec(
            select(ReviewLog.idempotency_key).where(
                ReviewLog.user_id == user_id, col(ReviewLog.idempotency_key).startswith("anki:")
            )
        ).all()
    )
    seen = set(session.exec(select(ReviewLog.card_id).where(ReviewLog.user_id == user_id)).all())
    cards_with_history: set[str] = set()
    for review in package.reviews:
        card_id = target.get(review.card_id)
        if card_id is None:
            summary.unmatched_reviews += 1
            continue
        kind = _KINDS.get(review.kind)
        if kind is None or not 1 <= review.ease <= 4:
            summary.not_answers += 1
            continue
        key = f"anki:{review.time_ms}:{review.card_id}"[:64]
        if key in existing:
            summary.already_imported += 1
            continue
        existing.add(key)
        session.add(
            ReviewLog(
                user_id=user_id,
                card_id=card_id,
                rating=review.ease,
                reviewed_at=datetime.fromtimestamp(review.time_ms / 1000, UTC),
                duration_ms=min(max(review.duration_ms, 0), MAX_DURATION_MS),
                kind=kind,
                idempotency_key=key,
                was_new=card_id not in seen and kind != "cram",
            )
        )
        if kind != "cram":
            seen.add(card_id)
        cards_with_history.add(card_id)
        summary.added += 1
    summary.matched_cards = len(cards_with_history)
    session.flush()
    if summary.added:
        summary.states_changed = replay.reschedule(session, user_id)
    return summary


def _first_field(note: AnkiNote) -> str:
    """The note's first field as plain text (what Anki's browser shows as its sort
    field), for mapping files written by hand."""
    return plain_text(note.fields[0][1]) if note.fields else ""
