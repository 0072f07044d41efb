"""The scheduler: FSRS review queue per learner, append-only review log,
interview-date mode, personal parameters.

Pure computation, with no database: clock, day, fsrs_bridge, grading, labels and
new_order. The rest take a Session: `learner` (settings), `queue` (the next card),
`answer` (grade, undo, bury, suspend, flags), `counts`, `stats`, `cram`; `interview`
ranks the reviews of interview mode, `replay` rebuilds states from the log and
`optimizer` fits personal parameters (in a separate process). `service` re-exports
them under one name.
"""

from __future__ import annotations

# Kept here for callers that look for it with the scheduler; the importer calls it directly.
from app.services.review_history import move_alias_history

__all__ = ["move_alias_history"]
