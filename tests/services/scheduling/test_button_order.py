"""The four buttons never tie: as in Anki, Easy lands after Good, and Good after Hard,
whenever both graduate to review ("14 h" / "14 h" was shown before)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from app.models.review import LearnerSettings
from app.services.scheduling import grading
from app.services.scheduling.service import context_for

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def history(ratings: tuple[int, ...]) -> tuple[grading.MemoryState | None, datetime]:
    ctx = context_for(LearnerSettings(user_id=1), None)
    state, at = None, NOW
    for rating in ratings:
        state = grading.review(state, rating, at, ctx, seed=1, fuzz=False).state
        at = max(at + timedelta(minutes=5), state.due)
    return state, at


def test_good_and_easy_never_show_the_same_interval() -> None:
    ctx = context_for(LearnerSettings(user_id=1), None)
    for ratings in itertools.product([1, 2, 3, 4], repeat=3):
        state, at = history(ratings)
        shown = grading.preview(state, at, ctx)
        assert shown["hard"] <= shown["good"] < shown["easy"], (ratings, shown)


def test_a_learning_card_at_its_last_step_easy_is_a_day_after_good() -> None:
    ctx = context_for(LearnerSettings(user_id=1), None)
    state, at = history((1, 1, 3))  # Good now graduates to tomorrow; so did Easy
    shown = grading.preview(state, at, ctx)
    assert shown["good"] < timedelta(days=1)
    assert shown["easy"] - shown["good"] >= timedelta(days=1)
    # What the button shows is what answering does.
    easy = grading.review(state, 4, at, ctx, seed=0, fuzz=False)
    assert easy.interval == shown["easy"]
