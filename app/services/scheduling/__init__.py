"""The scheduler: FSRS review queue per learner, append-only review log,
interview-date mode, personal parameters.

Pure computation lives in clock, day, fsrs_bridge, grading, interview, replay and
optimizer; `service` applies it to the database in one transaction per answer.
"""

from __future__ import annotations

# Kept here for callers that look for it with the scheduler; the importer calls it directly.
from app.services.review_history import move_alias_history

__all__ = ["move_alias_history"]
