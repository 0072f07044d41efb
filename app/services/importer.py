"""Load the content tree into the deck tables, in one transaction.

Validate first: any problem raises ``ContentError`` with all of them and nothing is
written. Then upsert cards by id, render every language, record a revision only when
a card's files changed, retire cards whose files are gone (never delete), and move
the history of former ids (``aliases``) to the card that now carries them.
Re-importing an unchanged tree writes nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import delete, func, insert, update
from sqlmodel import Session, SQLModel, col, select

from app.content.problems import ContentError, Problem
from app.content.render import RenderedCard, RenderJob, render_batch
from app.content.render_cache import LinkTargets, RenderCache, render_key
from app.content.snapshot import KnownTree, TreeSnapshot, load_known, save_known
from app.content.tree import (
    CardSource,
    Deck,
    Progress,
    can_fork_workers,
    card_files,
    gc_paused,
    load_deck,
    worker_pool,
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
# Rendering is CPU-bound Python: above this many cards, spread it over processes.
_PARALLEL_FROM = 800
_RENDER_BATCH = 100
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
    with _rendering(deck, render_ids, progress, render_cache) as rendered_batches:
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


def _link_targets(deck: Deck, card: CardSource) -> LinkTargets:
    """Every link target the card uses -> (current id, {lang: title})."""
    links: LinkTargets = {}
    for file in card.files.values():
        for target, _line in file.parsed.links:
            current = deck.resolve(target)
            if current is not None and target not in links:
                target_card = deck.cards[current]
                # The target's own language first: it is the fallback title.
                titles = {target_card.meta.lang: target_card.files[target_card.meta.lang].title}
                titles.update({lang: f.title for lang, f in target_card.files.items()})
                links[target] = (current, titles)
    return links


def _render_job(deck: Deck, card: CardSource) -> RenderJob:
    files = [
        (lang, file.title, {name: s.text for name, s in file.sections.items()})
        for lang, file in card.files.items()
    ]
    return card.id, files, card.folder, _link_targets(deck, card)


# Set in the parent just before it forks render workers, which build their jobs from
# their inherited copy: nothing but card ids and rendered results crosses processes.
_FORKED_DECK: Deck | None = None


def _render_ids(card_ids: list[str]) -> list[tuple[str, list[RenderedCard]]]:
    assert _FORKED_DECK is not None, "only in a render worker"
    return _render_cards(_FORKED_DECK, card_ids)


def _render_cards(deck: Deck, card_ids: list[str]) -> list[tuple[str, list[RenderedCard]]]:
    return render_batch([_render_job(deck, deck.cards[card_id]) for card_id in card_ids])


RenderedBatches = Iterator[list[tuple[str, list[RenderedCard]]]]


@contextmanager
def _rendering(
    deck: Deck, card_ids: list[str], progress: Progress | None, cache: RenderCache | None
) -> Iterator[RenderedBatches]:
    """Batches of rendered cards from the yielded iterator: those the render cache holds
    first, then the others as they are rendered (see ``_rendering_missing``)."""
    keys: dict[str, bytes] = {}
    cached: list[tuple[str, list[RenderedCard]]] = []
    missing: list[str] = []
    for card_id in card_ids:
        if cache is None:
            missing.append(card_id)
            continue
        card = deck.cards[card_id]
        keys[card_id] = render_key(
            card_id, card.content_hash, card.folder, _link_targets(deck, card)
        )
        hit = cache.get(keys[card_id])
        if hit is None:
            missing.append(card_id)
        else:
            cached.append((card_id, hit))
    total = len(card_ids)

    def reported(fresh: RenderedBatches) -> RenderedBatches:
        done = 0
        for batch in chain(_chunks(cached, _RENDER_BATCH), fresh):
            done += len(batch)
            if progress:
                progress("render", done, total)
            yield batch

    def remembered(fresh: RenderedBatches) -> RenderedBatches:
        for batch in fresh:
            if cache is not None:
                for card_id, rendered in batch:
                    cache.put(keys[card_id], card_id, rendered)
            yield batch

    with _rendering_missing(deck, missing) as fresh:
        yield reported(remembered(fresh))
    if cache is not None:
        cache.save(set(deck.cards))


@contextmanager
def _rendering_missing(deck: Deck, card_ids: list[str]) -> Iterator[RenderedBatches]:
    """Batches of rendered cards, in ``card_ids`` order, from the yielded iterator.

    Above ``_PARALLEL_FROM`` cards, forked workers start rendering on entry, so the
    caller can write in the meantime; while the next batch in order is not ready, this
    process renders the next one not yet queued. Below it, batches render on demand here.
    """
    batches = [card_ids[i : i + _RENDER_BATCH] for i in range(0, len(card_ids), _RENDER_BATCH)]
    if len(card_ids) < _PARALLEL_FROM or not can_fork_workers():
        yield (_render_cards(deck, batch) for batch in batches)
        return
    global _FORKED_DECK
    _FORKED_DECK = deck
    # This process renders too, so one worker fewer than CPUs: a process more than there
    # are CPUs only adds switching (measured: more CPU seconds, no less wall time).
    workers = max(1, min(os.cpu_count() or 1, 8) - 1)
    try:
        with worker_pool(workers) as pool:
            yield _stream(pool, deck, batches, workers)
    finally:
        _FORKED_DECK = None


def _stream(
    pool: ProcessPoolExecutor, deck: Deck, batches: list[list[str]], workers: int
) -> RenderedBatches:
    # Only a few batches are queued at a time, so the rest stay free for this process
    # to take (few finished batches wait for their turn in memory); the first ones are
    # queued before the caller gets the iterator, which lets the workers start at once.
    in_flight = 2 * workers
    futures: dict[int, Future[list[tuple[str, list[RenderedCard]]]]] = {}
    here: dict[int, list[tuple[str, list[RenderedCard]]]] = {}
    next_queued = 0  # batches[next_queued:] are not started

    def top_up() -> None:
        nonlocal next_queued
        while next_queued < len(batches) and len(futures) < in_flight:
            futures[next_queued] = pool.submit(_render_ids, batches[next_queued])
            next_queued += 1

    def iterate() -> RenderedBatches:
        nonlocal next_queued
        for index in range(len(batches)):
            while index not in here:
                future = futures.get(index)
                if future is not None and future.done():
                    here[index] = futures.pop(index).result()
                elif next_queued < len(batches):
                    here[next_queued] = _render_cards(deck, batches[next_queued])
                    next_queued += 1
                elif future is not None:
                    here[index] = futures.pop(index).result()
            top_up()
            yield here.pop(index)

    top_up()
    return iterate()


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
