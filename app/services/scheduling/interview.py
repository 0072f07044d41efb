"""Interview-date mode: maximise predicted recall on the interview day (docs/interview-date.md).

(a) Cap: no interval jumps past the interview day without a review before it
    (grading.interview_last_day; applied when the grade is computed).
(b) Each day, the learner's review minutes go to the cards with the largest
    expected gain in recall *on the interview day* from a review now:
        gain = p * R_T(S_good) + (1 - p) * R_T(S_again) - R_T(S)
    where p is the recall now, S_good / S_again fsrs' stability after Good / Again
    now and R_T(.) the recall at the interview. Due cards and cards not yet due
    compete on the same footing; cards beyond the day's minutes wait. A card that
    was just reviewed has a small gain, so the budget spreads over the deck day by
    day instead of piling on the eve.
(c) predicted_recall(at=interview start) per deck and overall (service).

The formulas below are fsrs' (FSRS-6), vectorised with numpy so a whole deck is
ranked in a millisecond; tests check them against fsrs' own scalar methods.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import or_, select
from sqlmodel import Session

from app.models.card import Card
from app.models.review import FSRS_REVIEW, LearnerSettings, ReviewLog, ReviewState
from app.services.scheduling.day import day_bounds, day_start, local_day
from app.services.scheduling.learner import config_for
from app.services.scheduling.states import not_buried

DEFAULT_SECONDS_PER_REVIEW = 20.0


class Candidate(NamedTuple):
    card_id: str
    deck: str
    gain: float
    due: datetime


def interview_start(settings: LearnerSettings) -> datetime | None:
    if settings.interview_on is None:
        return None
    return day_start(settings.interview_on, settings.time_zone, settings.day_rollover_hour)


def cap_day(settings: LearnerSettings, now: datetime) -> date | None:
    """The interview date if it is still ahead of the learner's today, else None."""
    if settings.interview_on is None:
        return None
    today = local_day(now, settings.time_zone, settings.day_rollover_hour)
    return settings.interview_on if today < settings.interview_on else None


def active(settings: LearnerSettings, now: datetime) -> bool:
    return cap_day(settings, now) is not None and bool(settings.interview_minutes_per_day)


# --- the model, vectorised ----------------------------------------------------------


def _w(parameters: Any) -> np.ndarray:
    return np.asarray(parameters, dtype=float)


def recall(w: np.ndarray, elapsed_days: np.ndarray, stability: np.ndarray) -> np.ndarray:
    decay = -w[20]
    factor = 0.9 ** (1 / decay) - 1
    return (1 + factor * np.maximum(elapsed_days, 0) / stability) ** decay


def stability_after_good(w: np.ndarray, d: np.ndarray, s: np.ndarray, r: np.ndarray) -> np.ndarray:
    out = s * (1 + np.exp(w[8]) * (11 - d) * s ** (-w[9]) * (np.exp((1 - r) * w[10]) - 1))
    return np.maximum(out, 0.001)


def stability_after_again(w: np.ndarray, d: np.ndarray, s: np.ndarray, r: np.ndarray) -> np.ndarray:
    long_term = w[11] * d ** (-w[12]) * ((s + 1) ** w[13] - 1) * np.exp((1 - r) * w[14])
    short_term = s / np.exp(w[17] * w[18])
    return np.maximum(np.minimum(long_term, short_term), 0.001)


def gains(
    parameters: Any,
    stability: np.ndarray,
    difficulty: np.ndarray,
    days_since_review: np.ndarray,
    days_to_interview: np.ndarray | float,
) -> np.ndarray:
    """Expected gain in recall at the interview from reviewing each card now.
    Days are whole days, as fsrs counts them."""
    w = _w(parameters)
    p = recall(w, days_since_review, stability)
    to_t = np.asarray(days_to_interview, dtype=float)
    r_t_without = recall(w, days_since_review + to_t, stability)
    r_t_good = recall(w, to_t, stability_after_good(w, difficulty, stability, p))
    r_t_again = recall(w, to_t, stability_after_again(w, difficulty, stability, p))
    return p * r_t_good + (1 - p) * r_t_again - r_t_without


def daily_budget(minutes: int, seconds_per_review: float) -> int:
    return max(1, int(minutes * 60 / max(seconds_per_review, 1.0)))


def seconds_per_review(session: Session, user_id: int) -> float:
    """Median answer time of the learner's last 200 answers (20 s before any)."""
    rows = [
        d
        for d in session.execute(
            select(ReviewLog.duration_ms)
            .where(ReviewLog.user_id == user_id, ReviewLog.duration_ms.is_not(None))  # type: ignore[union-attr]
            .order_by(ReviewLog.reviewed_at.desc())  # type: ignore[attr-defined]
            .limit(200)
        ).scalars()
    ]
    if not rows:
        return DEFAULT_SECONDS_PER_REVIEW
    return float(min(max(np.median(rows) / 1000.0, 3.0), 300.0))


def review_candidates(
    session: Session, settings: LearnerSettings, now: datetime, done_today: int
) -> list[Candidate]:
    """Today's reviews in interview mode, best first: the day's remaining budget goes
    to the largest gains (due or not), then any other due card, by gain."""
    user_id = settings.user_id
    start = interview_start(settings)
    assert start is not None and settings.interview_minutes_per_day
    day_begin, _ = day_bounds(now, settings.time_zone, settings.day_rollover_hour)
    rs = ReviewState
    rows = session.execute(
        select(rs.card_id, Card.deck, rs.stability, rs.difficulty, rs.last_review_at, rs.due)
        .join(Card, Card.id == rs.card_id)
        .where(
            rs.user_id == user_id,
            rs.fsrs_state == FSRS_REVIEW,
            rs.suspended.is_(False),  # type: ignore[attr-defined]
            not_buried(now),
            Card.status == "active",
            or_(rs.due <= now, rs.last_review_at < day_begin),  # type: ignore[operator, arg-type]
        )
    ).all()
    if not rows:
        return []
    params = config_for(settings).parameters
    stability = np.array([r.stability for r in rows], dtype=float)
    difficulty = np.array([r.difficulty for r in rows], dtype=float)
    since = np.array([(now - r.last_review_at).days for r in rows], dtype=float)
    to_t = float(max((start - now).days, 0))
    g = gains(params, stability, difficulty, since, to_t)
    order = sorted(range(len(rows)), key=lambda i: (-g[i], rows[i].card_id))
    budget = daily_budget(settings.interview_minutes_per_day, seconds_per_review(session, user_id))
    left = max(0, budget - done_today)
    chosen: list[Candidate] = []
    for i in order:
        r = rows[i]
        if left > 0 or r.due <= now:
            chosen.append(Candidate(r.card_id, r.deck, float(g[i]), r.due))
            left -= 1
    return chosen


def horizon_days(settings: LearnerSettings, now: datetime) -> int | None:
    start = interview_start(settings)
    if start is None:
        return None
    return (start - now) // timedelta(days=1)
