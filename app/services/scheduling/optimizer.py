"""Personal FSRS parameters, fitted to the learner's own log.

Engine: fsrs-rs-python (Anki's Rust optimizer). bench/recall_bench.py measured it
against py-fsrs' torch optimizer on a real learner's 12,580 reviews: the same
accuracy class, hundreds of times faster, no torch and no pandas. It still runs
as a job in a separate process (`start_optimize_job`), never in the web process.

Like py-fsrs, the defaults stay until the log holds MIN_REVIEWS_TO_FIT (512)
answers on a later learner day than the card's previous one; the settings page
shows how many there are so far.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.models.review import SCHEDULED_KINDS, ReviewLog
from app.services.scheduling.clock import SYSTEM_CLOCK, Clock
from app.services.scheduling.day import local_day
from app.services.scheduling.learner import load_settings, lock_learner

MIN_REVIEWS_TO_FIT = 512


@dataclass(frozen=True)
class Answer:
    card_id: str
    rating: int
    day: date  # learner day of the answer


def card_histories(answers: Iterable[Answer]) -> dict[str, list[Answer]]:
    out: dict[str, list[Answer]] = {}
    for a in answers:
        out.setdefault(a.card_id, []).append(a)
    return out


def fsrs_items(histories: dict[str, list[Answer]]) -> list[Any]:
    """One training item per answer on a later day than the card's previous one,
    carrying the card's history up to it (fsrs-rs' format; delta_t in days)."""
    from fsrs_rs_python import FSRSItem, FSRSReview

    items = []
    for history in histories.values():
        reviews = []
        previous = history[0].day
        for a in history:
            delta = (a.day - previous).days
            reviews.append(FSRSReview(a.rating, delta))
            if delta > 0:
                items.append(FSRSItem(reviews=list(reviews)))
            previous = a.day
    return items


def fit(items: Sequence[Any]) -> list[float]:
    """fsrs-rs' fit, checked against py-fsrs' parameter bounds."""
    from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS
    from fsrs_rs_python import DEFAULT_PARAMETERS, FSRS

    params = FSRS(DEFAULT_PARAMETERS).compute_parameters(list(items))
    return [
        min(max(float(p), lo), hi)
        for p, lo, hi in zip(params, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=True)
    ]


@dataclass(frozen=True)
class FitReport:
    reviews: int  # answers on a later day than the card's previous one
    fitted: bool
    parameters: list[float] | None
    message: str


def user_answers(session: Session, user_id: int) -> list[Answer]:
    settings = load_settings(session, user_id)
    rows = session.execute(
        select(ReviewLog.card_id, ReviewLog.rating, ReviewLog.reviewed_at)
        .where(ReviewLog.user_id == user_id, ReviewLog.kind.in_(SCHEDULED_KINDS))  # type: ignore[attr-defined]
        .order_by(ReviewLog.reviewed_at, ReviewLog.id)
    ).all()
    tz, hour = settings.time_zone, settings.day_rollover_hour
    return [Answer(c, r, local_day(t, tz, hour)) for c, r, t in rows]


@dataclass(frozen=True)
class FitReadiness:
    """What the settings page says about fitting: how many usable reviews there are,
    how many are needed, and the last run's status and message."""

    usable_reviews: int
    needed: int
    status: str  # idle | running | done | failed
    message: str
    fitted_at: datetime | None
    fitted_on: int | None  # reviews the current personal parameters were fitted to


def readiness(session: Session, user_id: int) -> FitReadiness:
    settings = load_settings(session, user_id)
    usable = len(fsrs_items(card_histories(user_answers(session, user_id))))
    return FitReadiness(
        usable, MIN_REVIEWS_TO_FIT, settings.optimize_status, settings.optimize_message,
        settings.parameters_fitted_at, settings.parameters_review_count,
    )  # fmt: skip


def optimize_user(session: Session, user_id: int, *, clock: Clock = SYSTEM_CLOCK) -> FitReport:
    """Fit and store the learner's parameters, or keep the defaults and say why.
    Run inside session_scope(engine, write=True); takes seconds at most."""
    items = fsrs_items(card_histories(user_answers(session, user_id)))
    settings = lock_learner(session, user_id)
    n = len(items)
    if n < MIN_REVIEWS_TO_FIT:
        report = FitReport(
            n, False, None,
            f"Keeping the default parameters: {n} of the {MIN_REVIEWS_TO_FIT} reviews on a later "
            "day than the card's previous review needed to fit your own.",
        )  # fmt: skip
    else:
        params = fit(items)
        settings.parameters = params
        settings.parameters_fitted_at = clock.now()
        settings.parameters_review_count = n
        report = FitReport(n, True, params, f"Fitted to {n} reviews.")
    settings.optimize_status = "done"
    settings.optimize_message = report.message
    session.add(settings)
    session.flush()
    return report


def start_optimize_job(session: Session, user_id: int) -> subprocess.Popen[bytes]:
    """Mark the learner's fit as running and start `backprop optimize` in another
    process (the settings page polls learner settings' optimize_status). Commit
    the session after calling this."""
    settings = lock_learner(session, user_id)
    settings.optimize_status = "running"
    settings.optimize_message = "Fitting your parameters..."
    session.add(settings)
    session.flush()
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "optimize", "--user-id", str(user_id)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def answers_from_csv(path: str) -> list[tuple[str, int, datetime]]:
    """(card_id, rating, reviewed_at) rows of a py-fsrs style CSV, in time order."""
    import csv

    with open(path, newline="") as f:
        rows = [
            (r["card_id"], int(r["review_rating"]), datetime.fromisoformat(r["review_time"]))
            for r in csv.DictReader(f)
        ]
    rows.sort(key=lambda r: r[2])
    return rows
