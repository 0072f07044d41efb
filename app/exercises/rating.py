"""The rating a submission suggests; the learner confirms or changes it before it is
logged as a review of kind ``exercise``."""

from __future__ import annotations

from dataclasses import dataclass

AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4
# "Quick": solved within this share of the exercise's time budget.
QUICK_SHARE = 0.25


@dataclass(frozen=True)
class Attempt:
    """What the learner did on one exercise since opening it."""

    passed: bool
    failed_submissions: int = 0
    hints_used: int = 0
    gave_up: bool = False
    seconds: float = 0.0


def suggest_rating(attempt: Attempt, time_budget_s: int) -> int:
    """Gave up or never passed: Again. Passed after failures or hints: Hard. Passed at
    the first try without hints: Good, or Easy when quick."""
    if attempt.gave_up or not attempt.passed:
        return AGAIN
    if attempt.failed_submissions or attempt.hints_used:
        return HARD
    if attempt.seconds <= time_budget_s * QUICK_SHARE:
        return EASY
    return GOOD
