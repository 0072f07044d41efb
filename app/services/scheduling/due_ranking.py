"""Due reviews ranked in SQL, lowest predicted recall first."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    Float,
    Integer,
    String,
    bindparam,
    text,
)
from sqlmodel import Session

from app.db import read_rows
from app.models.base import UTCDateTime
from app.models.review import (
    FSRS_REVIEW,
)

REVIEW_WINDOW = 200  # due cards ranked per call: a default day of reviews (see due_review_rows)

# Due reviews, lowest predicted recall first, ranked in SQL. Recall (1 + f t/S)^decay
# falls as t/S grows, for any parameters, so "lowest recall first" is "largest t/S
# first", with t in whole days as fsrs.get_card_retrievability counts them (and no
# stability or last review: recall 0, first of all). The ranking looks at the
# REVIEW_WINDOW oldest due cards (the (learner, state, due) index yields them in
# order), so its cost is bounded whatever the size of the deck or the backlog: a
# backlog larger than the window (months of missed days) is worked through oldest
# first, weakest first within the window. Only the rows asked for leave the database.
_DUE_WINDOW = f"""
    SELECT card_id, due, version, stability, last_review_at FROM review_state
    WHERE user_id = :user_id AND fsrs_state = {FSRS_REVIEW} AND due <= :now
      AND suspended = {{false}} AND (buried_until IS NULL OR buried_until <= :now)
    ORDER BY due, card_id LIMIT {REVIEW_WINDOW}
"""
# Whole days from last_review_at to :now, exactly as timedelta.days counts them.
_ELAPSED_DAYS = {
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff': whole calendar days, less one when the
    # time of day has not come round yet (exact; julianday of a date is exact).
    "sqlite": "(julianday(substr(:now, 1, 10)) - julianday(substr(w.last_review_at, 1, 10))"
    " - (substr(:now, 12) < substr(w.last_review_at, 12)))",
    "postgresql": "floor(extract(epoch from (:now - w.last_review_at)) / 86400)",
}
_MAX = {"sqlite": "max", "postgresql": "greatest"}
_FALSE = {"sqlite": "0", "postgresql": "false"}


# The deck comes from a scalar subquery, one primary-key lookup per windowed row: as a
# join, PostgreSQL planned a hash join over every card (a full scan of the deck).
@cache
def _due_reviews_statement(dialect: str) -> Any:
    sql = f"""
        SELECT * FROM (
          SELECT w.card_id, w.due, w.version, w.stability, w.last_review_at,
            (SELECT c.deck FROM card AS c WHERE c.id = w.card_id AND c.status = 'active')
              AS deck
          FROM ({_DUE_WINDOW.format(false=_FALSE[dialect])}) AS w
        ) AS w
        WHERE w.deck IS NOT NULL
        ORDER BY
          CASE WHEN w.stability IS NULL OR w.last_review_at IS NULL THEN 0 ELSE 1 END,
          {_MAX[dialect]}(0, {_ELAPSED_DAYS[dialect]}) * 1.0 / w.stability DESC,
          w.due, w.card_id
        LIMIT :limit
    """
    return (
        text(sql)
        .bindparams(bindparam("now", type_=UTCDateTime()), bindparam("limit", type_=Integer))
        .columns(
            card_id=String,
            due=UTCDateTime(),
            version=Integer,
            stability=Float,
            last_review_at=UTCDateTime(),
            deck=String,
        )
    )


def due_review_rows(session: Session, user_id: int, now: datetime, limit: int) -> list[Any]:
    """Due reviews of active cards, lowest predicted recall first, at most `limit`."""
    statement = _due_reviews_statement(session.get_bind().dialect.name)
    params = {"user_id": user_id, "now": now, "limit": limit}
    return [DueRow(*row) for row in read_rows(session, statement, params).all()]


class DueRow(NamedTuple):
    card_id: str
    due: datetime
    version: int
    stability: float | None
    last_review_at: datetime | None
    deck: str
