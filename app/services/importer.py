"""Load the content tree into the deck tables, in one transaction.

Validate first: any problem raises ``ContentError`` with all of them and nothing is
written. Then upsert cards by id, render every language, record a revision only when
a card's files changed, retire cards whose files are gone (never delete), and move
the history of former ids (``aliases``) to the card that now carries them.
Re-importing an unchanged tree writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import delete, func, insert, update
from sqlmodel import Session, SQLModel, col, select

from app.content.problems import ContentError, Problem
from app.content.render import RenderedCard
from app.content.render_cache import RenderCache
from app.content.render_pipeline import rendering
from app.content.snapshot import KnownTree, TreeSnapshot, load_known, save_known
from app.content.tree import (
    CardSource,
    Deck,
    Progress,
    card_files,
    gc_paused,
    load_deck,
)
from app.models.base import utcnow
from app.models.card import Card, CardAlias, CardRevision, CardTag, CardTranslation
from app.services import search_index
from app.services.authoring.serialize import CardFields, card_to_markdown, unique_id
from app.services.review_history import move_alias_history

AliasMover = Callable[[Session, str, str], None]

# Everything keyed by card id outside the deck tables (review state, review log) moves
# when a card takes over a former id: the importer calls each mover, in order, inside its
# transaction, as mover(session, old_id, new_id). Listed here explicitly, never registered
# as a side effect of importing another package: `backprop import` imports nothing else.
ALIAS_MOVERS: list[AliasMover] = [move_alias_history]

_CHUNK = 500
T = TypeVar("T")


@dataclass
class ImportReport:
    added: int = 0
    changed: int = 0
    retired: int = 0
    unchanged: int = 0
    reactivated: int = 0
    rerendered: int = 0  # unchanged files re-rendered because a linked title changed
    aliases_moved: int = 0
    revisions: int = 0

    @property
    def wrote_anything(self) -> bool:
        return bool(
            self.added
            or self.changed
            or self.retired
            or self.reactivated
            or self.rerendered
            or self.aliases_moved
        )

    def __str__(self) -> str:
        text = (
            f"{self.added} added, {self.changed} changed, {self.retired} retired, "
            f"{self.unchanged} unchanged"
        )
        extras = [
            (self.reactivated, "reactivated"),
            (self.rerendered, "re-rendered for changed link titles"),
            (self.aliases_moved, "former ids moved"),
        ]
        return text + "".join(f", {n} {what}" for n, what in extras if n)


@dataclass
class _Existing:
    id: str
    status: str
    content_hash: str
    file_path: str
    revision: int


def import_tree(
    session: Session,
    content_dir: Path,
    *,
    progress: Progress | None = None,
    rerender: bool = False,
    now: datetime | None = None,
    cache_path: Path | None = None,
) -> ImportReport:
    """Import ``content_dir`` into the session's transaction; the caller commits.

    Raises ``ContentError`` (every problem, nothing written) when the tree is invalid.
    Idempotent: an unchanged tree changes nothing. ``rerender`` re-renders every card
    (after a change to the renderer itself) without recording revisions. ``cache_path``
    is the parse cache's file (see ``app/content/cache.py``); None parses every file.
    """
    with gc_paused():
        return _import_tree(session, content_dir, progress, rerender, now or utcnow(), cache_path)


def _import_tree(
    session: Session,
    content_dir: Path,
    progress: Progress | None,
    rerender: bool,
    now: datetime,
    cache_path: Path | None,
) -> ImportReport:
    snapshot_path = cache_path.with_name("tree-snapshot") if cache_path else None
    snapshot = TreeSnapshot.take(content_dir) if snapshot_path and not rerender else None
    if snapshot_path and snapshot:
        known = load_known(snapshot_path, snapshot)
        if known is not None and _database_holds(session, known):
            if progress:
                progress("check", len(known.cards), len(known.cards))
            return ImportReport(unchanged=len(known.cards))

    deck = load_deck(content_dir, progress=progress, cache_path=cache_path)
    if deck.problems:
        raise ContentError(deck.problems)
    if snapshot_path and snapshot:
        cards = {i: (c.content_hash, c.rel_path) for i, c in deck.cards.items()}
        save_known(snapshot_path, snapshot, KnownTree(cards, dict(deck.aliases)))

    existing = {
        row.id: _Existing(*row)
        for row in session.execute(
            select(col(Card.id), Card.status, Card.content_hash, Card.file_path, Card.revision)
        )
    }
    recorded_aliases: dict[str, str] = {
        alias: card_id
        for alias, card_id in session.execute(select(CardAlias.alias, CardAlias.card_id))
    }
    _check_against_history(deck, recorded_aliases)

    new_ids = [i for i in deck.cards if i not in existing]
    changed_ids = [
        i
        for i, c in deck.cards.items()
        if i in existing and existing[i].content_hash != c.content_hash
    ]
    moved_ids = [
        i
        for i, c in deck.cards.items()
        if i in existing
        and existing[i].content_hash == c.content_hash
        and existing[i].file_path != c.rel_path
    ]
    reactivated_ids = [i for i in deck.cards if i in existing and existing[i].status == "retired"]
    retire_ids = [i for i, e in existing.items() if e.status == "active" and i not in deck.cards]
    new_aliases = [
        (alias, card_id)
        for alias, card_id in deck.aliases.items()
        if recorded_aliases.get(alias) != card_id
    ]

    content_changed = set(new_ids) | set(changed_ids)
    to_render = set(deck.cards) if rerender else set(content_changed)
    rerendered = _linked_to_changed_titles(session, deck, existing, content_changed)
    to_render |= rerendered

    report = ImportReport(
        added=len(new_ids),
        changed=len(changed_ids) + len(set(moved_ids) - set(changed_ids)),
        retired=len(retire_ids),
        reactivated=len(reactivated_ids),
        rerendered=len(rerendered - content_changed),
        aliases_moved=len(new_aliases),
    )
    touched = content_changed | set(moved_ids) | set(reactivated_ids) | rerendered
    report.unchanged = sum(1 for i in deck.cards if i not in touched)
    if not (to_render or moved_ids or reactivated_ids or retire_ids or new_aliases):
        return report

    # Workers render while this process writes everything else; translations go in as
    # rendered batches arrive (in card-id order), all in the caller's one transaction.
    render_ids = sorted(to_render)
    render_cache = RenderCache(cache_path.with_name("render-cache")) if cache_path else None
    with rendering(deck, render_ids, progress, render_cache) as rendered_batches:
        # 1. New cards first: moved history and translations point at them. A new card that
        # takes over former ids gets its revision number once their revisions have moved.
        adopting = {card_id for _, card_id in new_aliases if card_id not in existing}
        _insert_many(
            session,
            Card,
            (_card_row(deck.cards[i], now, revision=0 if i in adopting else 1) for i in new_ids),
        )

        # 2. Former ids: their history moves to the card that carries them now.
        for alias, card_id in new_aliases:
            _move_alias(session, alias, card_id, recorded_aliases)
        # Revision numbers after any moved history, per card that got a new revision.
        next_number = _next_revision_numbers(session, sorted(content_changed))

        # 3. Content: revisions, card rows and tags; the old translations go.
        revisions = []
        for card_id in sorted(content_changed):
            card = deck.cards[card_id]
            revisions.append(
                {
                    "card_id": card_id,
                    "number": next_number[card_id],
                    "content_hash": card.content_hash,
                    "markdown": {
                        lang: f.parsed.raw.decode("utf-8") for lang, f in card.files.items()
                    },
                    "created_at": now,
                }
            )
        _insert_many(session, CardRevision, revisions)
        report.revisions = len(revisions)

        updates = []
        for card_id in sorted(
            set(adopting) | set(changed_ids) | set(moved_ids) | set(reactivated_ids)
        ):
            number = next_number.get(card_id) or existing[card_id].revision
            row = _card_row(deck.cards[card_id], now, revision=number)
            row.pop("created_at")
            updates.append(row)
        for update_chunk in _chunks(updates, _CHUNK):
            session.execute(update(Card), update_chunk)

        for id_chunk in _chunks(render_ids, _CHUNK):
            session.execute(
                delete(CardTranslation).where(col(CardTranslation.card_id).in_(id_chunk))
            )
        search_index.remove(session, render_ids)
        tag_ids = sorted(content_changed)
        for id_chunk in _chunks(tag_ids, _CHUNK):
            session.execute(delete(CardTag).where(col(CardTag.card_id).in_(id_chunk)))
        _insert_many(
            session,
            CardTag,
            ({"card_id": i, "tag": t} for i in tag_ids for t in deck.cards[i].meta.tags),
        )

        # 4. Cards whose files are gone leave every queue and the search; their history
        # stays. Reactivated cards that are not re-rendered come back into the search.
        search_index.remove(session, retire_ids)
        search_index.refresh(session, sorted(set(reactivated_ids) - to_render))
        for chunk in _chunks(retire_ids, _CHUNK):
            session.execute(
                update(Card)
                .where(col(Card.id).in_(chunk))
                .values(status="retired", retired_at=now, updated_at=now)
            )

        # 5. Rendered text, as it arrives.
        for results in rendered_batches:
            _insert_many(
                session,
                CardTranslation,
                (_translation_row(card_id, r) for card_id, rs in results for r in rs),
            )
            search_index.add(
                session,
                [(card_id, r.lang, r.title, r.search_text) for card_id, rs in results for r in rs],
            )
        search_index.after_import(session, len(render_ids) + len(retire_ids))
    if progress:
        progress("write", 1, 1)
    return report


# --- pieces ------------------------------------------------------------------------------


def _database_holds(session: Session, known: KnownTree) -> bool:
    """Whether the database's active cards and aliases are exactly what ``known`` found:
    then importing the same files again would change nothing."""
    active = {
        card_id: (content_hash, file_path)
        for card_id, status, content_hash, file_path in session.execute(
            select(col(Card.id), Card.status, Card.content_hash, Card.file_path)
        )
        if status == "active"
    }
    if active != known.cards:
        return False
    recorded = dict(session.execute(select(CardAlias.alias, CardAlias.card_id)).all())
    return all(recorded.get(alias) == card_id for alias, card_id in known.aliases.items())


def _check_against_history(deck: Deck, recorded: dict[str, str]) -> None:
    """An id that is a recorded former id of another card would merge two histories."""
    problems = []
    for card_id, card in deck.cards.items():
        owner = recorded.get(card_id)
        if owner is None or owner == card_id:
            continue
        # Undoing a rename (the old id comes back, listing the newer one as its alias) is fine.
        if owner in card.meta.aliases:
            continue
        problems.append(
            Problem(
                card.path,
                card.id_line(),
                f'id "{card_id}" is a former id of card "{owner}" (its history moved there); '
                "pick another id",
            )
        )
    if problems:
        raise ContentError(problems)


def _linked_to_changed_titles(
    session: Session, deck: Deck, existing: dict[str, _Existing], content_changed: set[str]
) -> set[str]:
    """Unchanged cards whose rendered links show a title that has since changed."""
    linking = [c for i, c in deck.cards.items() if c.links and i not in content_changed]
    if not linking:
        return set()
    old_titles: dict[str, dict[str, str]] = {}
    for card_id, lang, title in session.execute(
        select(CardTranslation.card_id, CardTranslation.lang, CardTranslation.title)
    ):
        old_titles.setdefault(card_id, {})[lang] = title
    retitled = {
        card_id
        for card_id, card in deck.cards.items()
        if old_titles.get(card_id) != {lang: f.title for lang, f in card.files.items()}
    }
    return {c.id for c in linking if c.links & retitled}


def _move_alias(session: Session, alias: str, card_id: str, recorded: dict[str, str]) -> None:
    offset = session.execute(
        select(func.coalesce(func.max(CardRevision.number), 0)).where(
            CardRevision.card_id == card_id
        )
    ).scalar_one()
    # Moved revisions keep their ids (the review log points at them) and their order.
    session.execute(
        update(CardRevision)
        .where(col(CardRevision.card_id) == alias)
        .values(card_id=card_id, number=CardRevision.number + offset)
    )
    for mover in ALIAS_MOVERS:
        mover(session, alias, card_id)
    # Ids that were renamed to `alias` earlier now resolve to the new card too.
    session.execute(
        update(CardAlias).where(col(CardAlias.card_id) == alias).values(card_id=card_id)
    )
    # The card that used to be `alias` is an old id of `card_id` now, not an alias of it.
    session.execute(delete(CardAlias).where(col(CardAlias.alias) == card_id))
    if alias in recorded:
        session.execute(
            update(CardAlias).where(col(CardAlias.alias) == alias).values(card_id=card_id)
        )
    else:
        session.execute(insert(CardAlias).values(alias=alias, card_id=card_id))


def _next_revision_numbers(session: Session, card_ids: Sequence[str]) -> dict[str, int]:
    numbers = {card_id: 1 for card_id in card_ids}
    for chunk in _chunks(list(card_ids), _CHUNK):
        for card_id, highest in session.execute(
            select(CardRevision.card_id, func.max(CardRevision.number))
            .where(col(CardRevision.card_id).in_(chunk))
            .group_by(CardRevision.card_id)
        ):
            numbers[card_id] = highest + 1
    return numbers


def _card_row(card: CardSource, now: datetime, *, revision: int) -> dict[str, Any]:
    meta = card.meta
    return {
        "id": meta.id,
        "deck": meta.deck,
        "title": meta.title,
        "difficulty": meta.difficulty,
        "status": "active",
        "demo_path": meta.demo.path if meta.demo else None,
        "demo_params": dict(meta.demo.params) if meta.demo else {},
        "demo_proves": list(meta.demo.proves) if meta.demo else [],
        "answer_time_s": meta.answer_time_s,
        "sources": list(meta.source),
        "file_path": card.rel_path,
        "content_hash": card.content_hash,
        "revision": revision,
        "created_at": now,
        "updated_at": now,
        "retired_at": None,
    }


def _translation_row(card_id: str, rendered: RenderedCard) -> dict[str, Any]:
    return {
        "card_id": card_id,
        "lang": rendered.lang,
        "title": rendered.title,
        "question_html": rendered.question_html,
        "answer_html": rendered.answer_html,
        "pitfalls_html": rendered.pitfalls_html,
        "key_points": rendered.key_points,
        "follow_ups": rendered.follow_ups,
        "search_text": rendered.search_text,
    }


def _insert_many(session: Session, model: type[SQLModel], rows: Iterable[dict[str, Any]]) -> None:
    # Core executemany on the table: the ORM's bulk path adds nothing for plain rows.
    table = model.__table__  # type: ignore[attr-defined]
    for chunk in _chunks(list(rows), _CHUNK * 4):
        session.execute(insert(table), chunk)


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- new cards ---------------------------------------------------------------------------


def new_card_file(
    content_dir: Path,
    title: str,
    deck: str,
    *,
    difficulty: str = "medium",
    tags: Sequence[str] = (),
    taken: Iterable[str] = (),
) -> Path:
    """Write a skeleton card under content/cards/<deck>/ with a fresh id from the title.

    The id is unique among the tree's file names and ``taken`` (pass the database's
    ids and former ids, so a retired card's id is never handed out again). Returns the
    path. The skeleton's sections are empty, so ``backprop check`` flags it until written.
    """
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*(?:/[a-z0-9][a-z0-9_-]*)*", deck):
        raise ValueError(f'deck "{deck}" must be a /-separated path of lowercase words')
    if difficulty not in ("easy", "medium", "hard"):
        raise ValueError("difficulty must be easy, medium or hard")
    used = set(taken) | {p.name.partition(".")[0] for p in card_files(content_dir)}
    card_id = unique_id(title, used)
    folder = content_dir / "cards" / deck
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{card_id}.md"
    # The same canonical layout the admin editor writes and contributors follow.
    skeleton = CardFields(
        id=card_id,
        title=title,
        deck=deck,
        difficulty=difficulty,
        tags=list(tags),
        sections={"Question": "", "Answer": "", "Key points": ""},
    )
    path.write_text(card_to_markdown(skeleton, keep_empty=True), encoding="utf-8")
    return path
