"""The scheduler's services, under one name: what the practice pages and /api/ call.

A facade: each job lives in its own module (learner settings in `learner`, the next card
in `queue`, grade/undo/bury/suspend/flags in `answer`, the day's counts in `counts`,
statistics in `stats`, custom study in `cram`, what they raise and return in `results`).
New code may import from those modules directly; this one re-exports every name callers
used before the split.

Each takes a Session. Functions that write (grade, undo, bury, suspend, settings)
must run inside `session_scope(engine, write=True)`: they lock the learner's
settings row (FOR UPDATE on PostgreSQL; SQLite's write lock is taken at BEGIN), so
one learner's answers are applied one at a time, in order.
"""

from __future__ import annotations

from app.services.scheduling import grading, interview, new_order
from app.services.scheduling.answer import (
    FLAGS,
    bury,
    flag_of,
    grade,
    grade_with_settings,
    set_flag,
    set_suspended,
    undo,
)
from app.services.scheduling.clock import SYSTEM_CLOCK, Clock, FixedClock
from app.services.scheduling.counts import deck_counts, next_with_counts, queue_counts
from app.services.scheduling.cram import next_cram_card, raise_new_limit
from app.services.scheduling.day import day_bounds, day_start, local_day
from app.services.scheduling.due_ranking import REVIEW_WINDOW, DueRow, due_review_rows
from app.services.scheduling.fsrs_bridge import (
    DEFAULT_PARAMS,
    MemoryState,
    SchedulerConfig,
    scheduler_for,
)
from app.services.scheduling.labels import RATING_NAMES, human_interval
from app.services.scheduling.learner import (
    config_for,
    context_for,
    load_settings,
    lock_learner,
    locked_settings,
    update_settings,
)
from app.services.scheduling.queue import (
    LEARN_AHEAD,
    NEW_CANDIDATES,
    REVIEW_CANDIDATES,
    in_deck,
    new_limit,
    next_card,
    present,
)
from app.services.scheduling.results import (
    ButtonInterval,
    CardNotAvailable,
    DeckRecall,
    GradeConflict,
    GradeResult,
    IdempotencyMismatch,
    NextCard,
    NothingToUndo,
    QueueCounts,
    RecallReport,
    SchedulingError,
    UndoResult,
)
from app.services.scheduling.states import (
    FSRS_NEW,
    fsrs_state_in,
    memory_of,
    not_buried,
    recall_fn,
    snapshot,
)
from app.services.scheduling.stats import (
    forecast,
    predicted_recall,
    reviews_per_day,
    true_retention,
)

# The names these had while they were private to this module, for code written then.
_present = present
_recall_fn = recall_fn
_due_review_rows = due_review_rows
_not_buried = not_buried

__all__ = [
    "DEFAULT_PARAMS", "FLAGS", "FSRS_NEW", "LEARN_AHEAD", "NEW_CANDIDATES", "RATING_NAMES",
    "REVIEW_CANDIDATES", "REVIEW_WINDOW", "SYSTEM_CLOCK", "ButtonInterval", "CardNotAvailable",
    "Clock", "DeckRecall", "DueRow", "FixedClock", "GradeConflict", "GradeResult",
    "IdempotencyMismatch", "MemoryState", "NextCard", "NothingToUndo", "QueueCounts",
    "RecallReport", "SchedulerConfig", "SchedulingError", "UndoResult", "bury", "config_for",
    "context_for", "day_bounds", "day_start", "deck_counts", "due_review_rows", "flag_of",
    "forecast", "fsrs_state_in", "grade", "grade_with_settings", "grading", "human_interval",
    "in_deck", "interview", "local_day", "load_settings", "lock_learner", "locked_settings",
    "memory_of", "new_limit", "new_order", "next_card", "next_cram_card", "next_with_counts",
    "not_buried", "predicted_recall", "present", "queue_counts", "raise_new_limit",
    "recall_fn", "reviews_per_day", "scheduler_for", "set_flag", "set_suspended", "snapshot",
    "true_retention", "undo", "update_settings",
]  # fmt: skip
