"""JSON API of the scheduler under /api/review: everything a client needs to drive a
practice session (OpenAPI at /docs). Thin: parse, call a service, return its model."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from pydantic import BaseModel

from app.db import session_scope
from app.models.review import GradeIn, LearnerSettingsPublic, LearnerSettingsUpdate
from app.services.scheduling import interview, service
from app.services.scheduling.optimize_jobs import OptimizeJobs
from app.web.deps import REQUIRE_CSRF, CurrentUser, EngineDep

router = APIRouter(prefix="/api/review", tags=["review"], dependencies=[REQUIRE_CSRF])


class NextOut(BaseModel):
    card: service.NextCard | None
    counts: service.QueueCounts


class DayCount(BaseModel):
    day: date
    count: int


class StatsOut(BaseModel):
    forecast: list[DayCount]
    reviews_per_day: list[DayCount]
    true_retention_reviews: int
    true_retention: float | None


class InterviewOut(BaseModel):
    interview_on: date | None
    active: bool
    recall: service.RecallReport | None


class Problem(BaseModel):
    code: str
    message: str


ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem},
    404: {"model": Problem},
    422: {"model": Problem},
}


@router.get("/next", response_model=NextOut)
def next_card(user: CurrentUser, engine: EngineDep) -> NextOut:
    """The card to answer now (null when done for today) and what is left today."""
    with session_scope(engine) as s:
        return NextOut(card=service.next_card(s, user.id), counts=service.queue_counts(s, user.id))


@router.post("/grade", response_model=service.GradeResult, responses=ERRORS)
def grade(body: GradeIn, user: CurrentUser, engine: EngineDep) -> service.GradeResult:
    """Record an answer. The same idempotency_key again returns the first result; a card
    that changed since it was shown (another tab) is refused with 409 `conflict`."""
    with session_scope(engine, write=True) as s:
        return service.grade(
            s, user.id, body.card_id, body.rating, idempotency_key=body.idempotency_key,
            expected_version=body.version, duration_ms=body.duration_ms, kind=body.kind,
        )  # fmt: skip


@router.post("/undo", response_model=service.UndoResult, responses=ERRORS)
def undo(user: CurrentUser, engine: EngineDep) -> service.UndoResult:
    """Take back the last answer; the card's state is restored exactly."""
    with session_scope(engine, write=True) as s:
        return service.undo(s, user.id)


@router.post("/cards/{card_id}/{action}", responses=ERRORS)
def card_action(
    card_id: str,
    action: Annotated[str, Path(pattern="^(bury|suspend|unsuspend)$")],
    user: CurrentUser,
    engine: EngineDep,
) -> dict[str, int]:
    """bury (until tomorrow), suspend or unsuspend a card. Returns its new version."""
    with session_scope(engine, write=True) as s:
        if action == "bury":
            version = service.bury(s, user.id, card_id)
        elif action in ("suspend", "unsuspend"):
            version = service.set_suspended(s, user.id, card_id, action == "suspend")
        else:
            raise HTTPException(404, detail={"code": "unknown_action", "message": action})
    return {"version": version}


@router.get("/cram/next", response_model=service.NextCard | None)
def cram_next(
    user: CurrentUser,
    engine: EngineDep,
    since: datetime,
    deck: str | None = None,
    tag: str | None = None,
) -> service.NextCard | None:
    """Custom study of one deck or tag; grade with kind "cram" (schedule untouched)."""
    with session_scope(engine) as s:
        return service.next_cram_card(s, user.id, deck=deck, tag=tag, since=since)


@router.get("/stats", response_model=StatsOut)
def stats(
    user: CurrentUser, engine: EngineDep, days: Annotated[int, Query(ge=1, le=365)] = 30
) -> StatsOut:
    """Due forecast, answers per day and true retention."""
    with session_scope(engine) as s:
        total, rate = service.true_retention(s, user.id)
        return StatsOut(
            forecast=[DayCount(day=d, count=n) for d, n in service.forecast(s, user.id, days=days)],
            reviews_per_day=[
                DayCount(day=d, count=n) for d, n in service.reviews_per_day(s, user.id, days=days)
            ],
            true_retention_reviews=total,
            true_retention=rate,
        )


@router.get("/recall", response_model=service.RecallReport)
def recall(
    user: CurrentUser, engine: EngineDep, at: datetime | None = None
) -> service.RecallReport:
    """Predicted recall per deck and overall, now or at `at` (with its time zone)."""
    if at is not None and at.tzinfo is None:
        raise HTTPException(
            422,
            detail={
                "code": "naive_time",
                "message": "at= needs a time zone, e.g. 2026-05-01T09:00:00Z",
            },
        )
    with session_scope(engine) as s:
        return service.predicted_recall(s, user.id, at=at)


@router.get("/interview", response_model=InterviewOut)
def interview_status(user: CurrentUser, engine: EngineDep) -> InterviewOut:
    """Interview-date mode: predicted recall on the interview day, per deck and overall."""
    with session_scope(engine) as s:
        settings = service.load_settings(s, user.id)
        start = interview.interview_start(settings)
        now = service.SYSTEM_CLOCK.now()
        return InterviewOut(
            interview_on=settings.interview_on,
            active=interview.active(settings, now),
            recall=service.predicted_recall(s, user.id, at=start) if start else None,
        )


@router.get("/settings", response_model=LearnerSettingsPublic)
def get_settings(user: CurrentUser, engine: EngineDep) -> LearnerSettingsPublic:
    with session_scope(engine) as s:
        return LearnerSettingsPublic.model_validate(service.load_settings(s, user.id).model_dump())


@router.patch("/settings", response_model=LearnerSettingsPublic)
def patch_settings(
    body: LearnerSettingsUpdate, user: CurrentUser, engine: EngineDep
) -> LearnerSettingsPublic:
    try:
        with session_scope(engine, write=True) as s:
            row = service.update_settings(s, user.id, body)
            return LearnerSettingsPublic.model_validate(row.model_dump())
    except ValueError as exc:
        raise HTTPException(422, detail={"code": "invalid_settings", "message": str(exc)}) from exc


@router.post(
    "/optimize", status_code=status.HTTP_202_ACCEPTED, response_model=LearnerSettingsPublic
)
def optimize(request: Request, user: CurrentUser, engine: EngineDep) -> LearnerSettingsPublic:
    """Start fitting personal parameters in a separate process; poll GET /settings
    (optimize_status: running, done, failed; optimize_message says why defaults stay).
    Asking again while the fit runs starts nothing; 429 `optimizer_busy` when the
    server's fitting slots are all taken."""
    jobs: OptimizeJobs = request.app.state.optimize_jobs
    with session_scope(engine, write=True) as s:
        jobs.start(s, user.id)
        return LearnerSettingsPublic.model_validate(service.load_settings(s, user.id).model_dump())
