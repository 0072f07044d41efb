"""Pure grading: (state, rating, now, context) -> (new state, what to log). No database.

Review-state cards are due at the start of a learner day, as in Anki; the day is
chosen from fsrs' interval by a fuzz seeded per (learner, card, review number)
and weighted towards lighter days (Anki 24.11's load balancer: weight
(1/cards_due)^2 * (1/interval) over the fuzz range), then capped so that no
interval jumps past the interview day without a review before it.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from fsrs import Rating, State
from fsrs.scheduler import FUZZ_RANGES

from app.models.review import FSRS_LEARNING, FSRS_RELEARNING, FSRS_REVIEW
from app.services.scheduling.day import day_start, local_day
from app.services.scheduling.fsrs_bridge import (
    MemoryState,
    SchedulerConfig,
    as_utc,
    scheduler_for,
    to_fsrs,
)
from app.services.scheduling.labels import RATING_NAMES

RATINGS = (Rating.Again, Rating.Hard, Rating.Good, Rating.Easy)

# Counts of Review-state cards due on each learner day in [first, last] (the card
# being graded excluded). None: no load balancing (plain seeded fuzz).
LoadFn = Callable[[date, date], Mapping[date, int]]


@dataclass(frozen=True)
class GradingContext:
    config: SchedulerConfig
    time_zone: str = "UTC"
    rollover_hour: int = 4
    leech_threshold: int = 8
    interview_on: date | None = None


@dataclass(frozen=True)
class Outcome:
    state: MemoryState
    kind: str  # learn | review | relearn
    was_new: bool
    interval: timedelta  # due - now
    became_leech: bool


def kind_of(previous: MemoryState | None) -> str:
    if previous is None or previous.fsrs_state == FSRS_LEARNING:
        return "learn"
    return "review" if previous.fsrs_state == FSRS_REVIEW else "relearn"


def review_seed(user_id: int, card_id: str, reps: int) -> int:
    """Seed of the fuzz for one review: the same (learner, card, review number) always
    draws the same number, so replaying the log reproduces every due date."""
    digest = hashlib.sha256(f"{user_id}:{card_id}:{reps}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def fuzz_range(interval_d: int, maximum_interval_d: int) -> tuple[int, int]:
    """fsrs' fuzz range for an interval (same constants and rounding as fsrs)."""
    if interval_d < 2.5:
        return interval_d, interval_d
    delta = 1.0
    for r in FUZZ_RANGES:
        delta += r["factor"] * max(min(float(interval_d), r["end"]) - r["start"], 0.0)
    lo = max(2, round(interval_d - delta))
    hi = min(round(interval_d + delta), maximum_interval_d)
    return min(lo, hi), hi


def interview_last_day(today: date, interview_on: date | None) -> int | None:
    """Longest interval (days) that still brings the card back before the interview
    day, or None when no cap applies (no interview, or it is tomorrow or past)."""
    if interview_on is None:
        return None
    room = (interview_on - today).days - 1  # due on the eve at the latest
    return room if room >= 1 else None


def choose_interval(
    interval_d: int,
    *,
    today: date,
    seed: int,
    maximum_interval_d: int,
    load: LoadFn | None,
    cap_d: int | None,
) -> int:
    """The interval in days a Review-state card gets: fuzzed, load-balanced, capped."""
    if cap_d is not None and interval_d > cap_d:
        lo, hi = fuzz_range(cap_d, maximum_interval_d)
        hi = min(hi, cap_d)
        lo = min(lo, hi)
    else:
        lo, hi = fuzz_range(interval_d, maximum_interval_d)
        if cap_d is not None:
            hi = min(hi, cap_d)
            lo = min(lo, hi)
    if lo >= hi:
        return max(1, hi)
    rng = random.Random(seed)
    days = list(range(lo, hi + 1))
    if load is None:
        return days[min(int(rng.random() * len(days)), len(days) - 1)]
    counts = load(today + timedelta(days=lo), today + timedelta(days=hi))
    weights = [
        (1.0 / max(counts.get(today + timedelta(days=d), 0), 1)) ** 2 * (1.0 / d) for d in days
    ]
    x = rng.random() * sum(weights)
    for d, w in zip(days, weights, strict=True):
        x -= w
        if x < 0:
            return d
    return days[-1]


def review(
    previous: MemoryState | None,
    rating: int,
    now: datetime,
    context: GradingContext,
    *,
    seed: int,
    load: LoadFn | None = None,
    fuzz: bool = True,
) -> Outcome:
    """The state after answering `rating` at `now`. Pure; fsrs does the memory model."""
    if rating not in (1, 2, 3, 4):
        raise ValueError(f"rating must be 1 (Again) to 4 (Easy), got {rating}")
    now = as_utc(now)
    scheduler = scheduler_for(context.config)
    card, _ = scheduler.review_card(to_fsrs(previous, now), Rating(rating), now)
    kind = kind_of(previous)
    reps = (previous.reps if previous else 0) + 1
    lapses = previous.lapses if previous else 0
    if previous is not None and previous.fsrs_state == FSRS_REVIEW and rating == Rating.Again:
        lapses += 1

    due = card.due
    if card.state == State.Review:
        today = local_day(now, context.time_zone, context.rollover_hour)
        interval_d = max(1, (card.due - now).days)
        cap_d = interview_last_day(today, context.interview_on)
        # As Anki: a better answer is never scheduled sooner than a worse one, and Easy
        # (Good) lands at least a day after Good (Hard) when that also graduates.
        below = _review_days(previous, rating - 1, now, context) if rating >= 3 else None
        floor_d = below + 1 if below is not None else 1
        interval_d = max(interval_d, floor_d)
        if fuzz:
            interval_d = choose_interval(
                interval_d,
                today=today,
                seed=seed,
                maximum_interval_d=context.config.maximum_interval_d,
                load=load,
                cap_d=cap_d,
            )
            interval_d = max(interval_d, floor_d) if cap_d is None else interval_d
        elif cap_d is not None:
            interval_d = min(interval_d, cap_d)
        due = day_start(
            today + timedelta(days=interval_d), context.time_zone, context.rollover_hour
        )

    threshold = context.leech_threshold
    became_leech = (
        lapses > (previous.lapses if previous else 0)
        and lapses >= threshold
        and (lapses - threshold) % max(math.ceil(threshold / 2), 1) == 0
    )
    state = MemoryState(
        fsrs_state=int(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=due,
        last_review_at=now,
        reps=reps,
        lapses=lapses,
        leech=(previous.leech if previous else False) or became_leech,
    )
    return Outcome(
        state=state,
        kind=kind,
        was_new=previous is None,
        interval=due - now,
        became_leech=became_leech,
    )


def _review_days(
    previous: MemoryState | None, rating: int, now: datetime, context: GradingContext
) -> int | None:
    """Days until the review `rating` would schedule (unfuzzed, uncapped), or None when
    that rating keeps the card in (re)learning."""
    outcome = review(previous, rating, now, replace(context, interview_on=None), seed=0, fuzz=False)
    if outcome.state.fsrs_state != int(State.Review):
        return None
    today = local_day(now, context.time_zone, context.rollover_hour)
    due_day = local_day(outcome.state.due, context.time_zone, context.rollover_hour)
    return (due_day - today).days


def preview(
    previous: MemoryState | None, now: datetime, context: GradingContext
) -> dict[str, timedelta]:
    """The interval each button would give, before answering (unfuzzed, capped)."""
    return {
        RATING_NAMES[int(r)]: review(previous, int(r), now, context, seed=0, fuzz=False).interval
        for r in RATINGS
    }


def is_learning(state: MemoryState) -> bool:
    return state.fsrs_state in (FSRS_LEARNING, FSRS_RELEARNING)
