"""Our review state <-> fsrs.Card, and fsrs.Scheduler per learner configuration.

The memory model is py-fsrs itself (Scheduler.review_card). Its edges, handled here:
- it accepts only datetimes whose tzinfo is exactly timezone.utc: `as_utc` converts;
- it has no "new" state: a card with no review state is ours, and becomes
  fsrs' Learning/step 0 with no stability at its first answer;
- Card() without card_id sleeps 1 ms: we always pass card_id=0 (fsrs uses the id
  only to label its ReviewLog, which we do not keep);
- its fuzz draws from the global `random` generator, which threads share: we
  turn fsrs' fuzz off and fuzz ourselves with a generator seeded per card and
  review (grading.choose_interval), which also lets us balance the load.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from fsrs import Card as FsrsCard
from fsrs import Scheduler, State
from fsrs.scheduler import DEFAULT_PARAMETERS

DEFAULT_PARAMS: tuple[float, ...] = tuple(DEFAULT_PARAMETERS)


def as_utc(instant: datetime) -> datetime:
    """The same instant with tzinfo exactly timezone.utc (what fsrs insists on)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: every datetime in Backprop is UTC-aware")
    return instant.astimezone(UTC) if instant.tzinfo is not UTC else instant


@dataclass(frozen=True)
class MemoryState:
    """What the log determines about one (learner, card): fsrs' card plus our counters."""

    fsrs_state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review_at: datetime | None
    reps: int = 0
    lapses: int = 0
    leech: bool = False

    def with_(self, **changes: object) -> MemoryState:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SchedulerConfig:
    parameters: tuple[float, ...] = DEFAULT_PARAMS
    desired_retention: float = 0.9
    learning_steps_s: tuple[int, ...] = (60, 600)
    relearning_steps_s: tuple[int, ...] = (600,)
    maximum_interval_d: int = 36500


@lru_cache(maxsize=512)
def _scheduler(
    parameters: tuple[float, ...],
    desired_retention: float,
    learning_steps_s: tuple[int, ...],
    relearning_steps_s: tuple[int, ...],
    maximum_interval_d: int,
) -> Scheduler:
    return Scheduler(
        parameters=parameters,
        desired_retention=desired_retention,
        learning_steps=tuple(timedelta(seconds=s) for s in learning_steps_s),
        relearning_steps=tuple(timedelta(seconds=s) for s in relearning_steps_s),
        maximum_interval=maximum_interval_d,
        enable_fuzzing=False,
    )


def scheduler_for(config: SchedulerConfig) -> Scheduler:
    """fsrs' Scheduler for this configuration (cached; it is immutable in use)."""
    return _scheduler(
        tuple(config.parameters),
        float(config.desired_retention),
        tuple(config.learning_steps_s),
        tuple(config.relearning_steps_s),
        int(config.maximum_interval_d),
    )


def to_fsrs(state: MemoryState | None, now: datetime) -> FsrsCard:
    if state is None:
        return FsrsCard(card_id=0, state=State.Learning, step=0, due=as_utc(now))
    return FsrsCard(
        card_id=0,
        state=State(state.fsrs_state),
        step=state.step,
        stability=state.stability,
        difficulty=state.difficulty,
        due=as_utc(state.due),
        last_review=as_utc(state.last_review_at) if state.last_review_at else None,
    )
