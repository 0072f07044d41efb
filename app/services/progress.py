"""The progress page's figures, assembled from the scheduler's statistics.

Everything is per learner and read-only: reviews per day, true retention against the
desired retention, the forecast of due cards, recall by deck, the streak, and in
interview-date mode the predicted recall on the interview day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from app.services.scheduling import interview
from app.services.scheduling import service as scheduler
from app.services.scheduling.clock import SYSTEM_CLOCK, Clock
from app.services.scheduling.day import local_day

HISTORY_DAYS = 90
FORECAST_DAYS = 30
STREAK_DAYS = 366


@dataclass(frozen=True)
class InterviewOutlook:
    on: date
    days_left: int
    minutes_per_day: int | None
    recall: scheduler.RecallReport


@dataclass(frozen=True)
class ProgressReport:
    today: date
    reviews_per_day: list[tuple[date, int]]  # the last HISTORY_DAYS learner days, today last
    reviews_total: int  # in those days
    retention_month: tuple[int, float | None]  # (reviews, passed share) in the last 30 days
    retention_all: tuple[int, float | None]
    desired_retention: float
    forecast: list[tuple[date, int]]  # the next FORECAST_DAYS learner days, today first
    recall: scheduler.RecallReport
    streak: int  # consecutive learner days with an answer, ending today (or yesterday)
    reviewed_today: bool
    interview: InterviewOutlook | None


def streak(days: list[tuple[date, int]]) -> tuple[int, bool]:
    """(length, includes today) of the run of days with answers that ends today, or
    yesterday when today has none yet (the streak is not lost before the day ends)."""
    counts = [n for _, n in days]
    reviewed_today = bool(counts and counts[-1] > 0)
    run = 0
    for n in reversed(counts if reviewed_today else counts[:-1]):
        if n <= 0:
            break
        run += 1
    return run, reviewed_today


def report(session: Session, user_id: int, *, clock: Clock = SYSTEM_CLOCK) -> ProgressReport:
    settings = scheduler.load_settings(session, user_id)
    now = clock.now()
    today = local_day(now, settings.time_zone, settings.day_rollover_hour)
    year = scheduler.reviews_per_day(session, user_id, days=STREAK_DAYS, clock=clock)
    history = year[-HISTORY_DAYS:]
    run, reviewed_today = streak(year)
    outlook = None
    start = interview.interview_start(settings)
    if settings.interview_on is not None and start is not None and today <= settings.interview_on:
        outlook = InterviewOutlook(
            on=settings.interview_on,
            days_left=(settings.interview_on - today).days,
            minutes_per_day=settings.interview_minutes_per_day,
            recall=scheduler.predicted_recall(session, user_id, at=max(start, now), clock=clock),
        )
    return ProgressReport(
        today=today,
        reviews_per_day=history,
        reviews_total=sum(n for _, n in history),
        retention_month=scheduler.true_retention(session, user_id, days=30, clock=clock),
        retention_all=scheduler.true_retention(session, user_id, clock=clock),
        desired_retention=settings.desired_retention,
        forecast=scheduler.forecast(session, user_id, days=FORECAST_DAYS, clock=clock),
        recall=scheduler.predicted_recall(session, user_id, clock=clock),
        streak=run,
        reviewed_today=reviewed_today,
        interview=outlook,
    )
