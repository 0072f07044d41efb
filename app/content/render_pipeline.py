"""Render cards in bulk for an import: cached renders first, then the rest, in forked
workers when there are many (the parent writes to the database meanwhile), in card-id
order. Pure computation: the database never crosses into a worker."""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from itertools import chain
from typing import TypeVar

from app.content.render import RenderedCard, RenderJob, render_batch
from app.content.render_cache import LinkTargets, RenderCache, render_key
from app.content.tree import CardSource, Deck, Progress

# Rendering is CPU-bound Python: above this many cards, spread it over processes.
PARALLEL_FROM = 800
RENDER_BATCH = 100
T = TypeVar("T")


def link_targets(deck: Deck, card: CardSource) -> LinkTargets:
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
    return card.id, files, card.folder, link_targets(deck, card)


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
def rendering(
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
            card_id, card.content_hash, card.folder, link_targets(deck, card)
        )
        hit = cache.get(keys[card_id])
        if hit is None:
            missing.append(card_id)
        else:
            cached.append((card_id, hit))
    total = len(card_ids)

    def reported(fresh: RenderedBatches) -> RenderedBatches:
        done = 0
        for batch in chain(_batches(cached, RENDER_BATCH), fresh):
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

    Above ``PARALLEL_FROM`` cards, forked workers start rendering on entry, so the
    caller can write in the meantime; while the next batch in order is not ready, this
    process renders the next one not yet queued. Below it, batches render on demand here.
    """
    batches = [card_ids[i : i + RENDER_BATCH] for i in range(0, len(card_ids), RENDER_BATCH)]
    if len(card_ids) < PARALLEL_FROM or not can_fork_workers():
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


def _batches(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def can_fork_workers() -> bool:
    """Forked workers start in milliseconds; fork only from a single-threaded process
    (a thread holding a lock at fork time would leave the child stuck)."""
    return (
        (os.cpu_count() or 1) > 1
        and threading.active_count() == 1
        and "fork" in multiprocessing.get_all_start_methods()
    )


def worker_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """Forked workers for pure computation (one per CPU, up to 8, by default). They touch
    no database connection the parent holds and leave with os._exit, so the parent's open
    transaction is never disturbed."""
    workers = workers or min(os.cpu_count() or 1, 8)
    return ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_start
    )


def _worker_start() -> None:
    # The parent may have paused the collector (gc_paused); a worker collects again, but
    # never scans what it inherited (scanning would also copy every page of it).
    gc.freeze()
    gc.enable()
