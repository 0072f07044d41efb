"""Mock interviews: pages under /interview, the JSON API under /api/interview.

The pages are plain forms (POST/redirect/GET), so a reload always shows the stored
state; static/js/interview.js adds the countdown (from the server's remaining time),
keyboard shortcuts, the auto-submit at zero and draft saving. Every step names the
question position it answers: a stale page or a second device changes nothing.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from app.db import session_scope, write_session
from app.models.user import UserPublic
from app.services.exercises.rounds import CodingRounds
from app.services.interview import report as reports
from app.services.interview import service
from app.web import charts
from app.web.deps import REQUIRE_CSRF, CsrfProtected, CurrentUser, EngineDep
from app.web.exercise_panel import exercise_service
from app.web.i18n import LANGUAGES, normalise
from app.web.templating import no_store, templates

router = APIRouter(tags=["interview"])
TREND_SLOTS = 10
api = APIRouter(prefix="/api/interview", tags=["interview"], dependencies=[REQUIRE_CSRF])


def _lang(user: UserPublic) -> str:
    return normalise(user.locale) or "en"


# --- JSON shapes -----------------------------------------------------------------------


class PointOut(BaseModel):
    text: str
    html: str
    suggested: bool
    ticked: bool
    words: list[str] = []  # the learner's words that matched this point


class StepOut(BaseModel):
    id: int
    status: str  # active | finished | discarded
    phase: str  # answering | reviewing | finished | discarded
    position: int | None
    kind: str | None  # main | follow_up
    main_index: int
    main_total: int
    card_id: str | None
    deck: str | None
    title: str
    prompt: str
    question_html: str
    answer_html: str
    budget_s: int | None
    started_at: datetime | None
    deadline_at: datetime | None
    remaining_ms: int
    draft: str
    answer: str
    late: bool
    skipped: bool
    self_check: bool
    points: list[PointOut]
    demo_name: str | None


class SummaryOut(BaseModel):
    id: int
    status: str
    created_at: datetime
    finished_at: datetime | None
    score: float | None
    questions: int


class ListOut(BaseModel):
    active: int | None
    interviews: list[SummaryOut]


class DraftIn(BaseModel):
    position: int = Field(ge=0)
    text: str = Field(default="", max_length=service.MAX_ANSWER_CHARS)


class AnswerIn(DraftIn):
    skip: bool = False


class ConfirmIn(BaseModel):
    position: int = Field(ge=0)
    ticks: list[bool] = Field(default_factory=list, max_length=50)


def step_out(step: service.Step) -> StepOut:
    q = step.question
    iv = step.interview
    return StepOut(
        id=iv.id or 0,
        status=iv.status,
        phase=step.phase,
        position=q.position if q else None,
        kind=q.kind if q else None,
        main_index=step.main_index,
        main_total=step.main_total,
        card_id=q.card_id if q else None,
        deck=q.deck if q else None,
        title=step.title,
        prompt=q.prompt if q else "",
        question_html=step.question_html,
        answer_html=step.answer_html if step.phase == "reviewing" else "",
        budget_s=q.budget_s if q else None,
        started_at=q.started_at if q else None,
        deadline_at=q.deadline_at if q else None,
        remaining_ms=step.remaining_ms,
        draft=q.draft if q else "",
        answer=q.answer if q else "",
        late=bool(q and q.late),
        skipped=bool(q and q.skipped),
        self_check=step.self_check,
        points=[PointOut(**{**vars(p), "words": list(p.words)}) for p in step.points]
        if step.phase == "reviewing"
        else [],
        demo_name=step.demo_name,
    )


def _summaries(engine: Any, user_id: int) -> ListOut:
    with session_scope(engine) as s:
        rows = service.history(s, user_id)
        active = service.active_interview(s, user_id)
    return ListOut(
        active=active.id if active else None,
        interviews=[
            SummaryOut(
                id=r.id or 0,
                status=r.status,
                created_at=r.created_at,
                finished_at=r.finished_at,
                score=r.score,
                questions=len(r.plan),
            )
            for r in rows
        ],
    )


# --- API -------------------------------------------------------------------------------


@api.get("", response_model=ListOut)
def api_list(user: CurrentUser, engine: EngineDep) -> ListOut:
    """The learner's interviews, newest first, and the unfinished one (to resume)."""
    return _summaries(engine, user.id)


@api.post("", response_model=StepOut, status_code=201)
def api_start(body: service.InterviewConfig, user: CurrentUser, engine: EngineDep) -> StepOut:
    """Start an interview (an unfinished one is discarded); its first question is on the clock."""
    with write_session(engine) as s:
        iv = service.start(s, user.id, body)
        return step_out(service.step(s, user.id, iv.id or 0))


@api.get("/{interview_id}", response_model=StepOut)
def api_step(interview_id: int, user: CurrentUser, engine: EngineDep) -> StepOut:
    """Where the interview is: the question, its phase and the time left (from the server)."""
    with session_scope(engine) as s:
        return step_out(service.step(s, user.id, interview_id))


@api.put("/{interview_id}/draft", status_code=204)
def api_draft(interview_id: int, body: DraftIn, user: CurrentUser, engine: EngineDep) -> Response:
    """Keep the answer being typed (a reload or another device finds it)."""
    with write_session(engine) as s:
        service.save_draft(s, user.id, interview_id, body.position, body.text)
    return Response(status_code=204)


@api.post("/{interview_id}/answer", response_model=StepOut)
def api_answer(interview_id: int, body: AnswerIn, user: CurrentUser, engine: EngineDep) -> StepOut:
    """Hand in (or skip) the answer; after the deadline it is recorded as late."""
    with write_session(engine) as s:
        service.answer(s, user.id, interview_id, body.position, body.text, skip=body.skip)
        return step_out(service.step(s, user.id, interview_id))


@api.post("/{interview_id}/confirm", response_model=StepOut)
def api_confirm(
    interview_id: int, body: ConfirmIn, user: CurrentUser, engine: EngineDep
) -> StepOut:
    """Confirm the key-point ticks; moves on to the follow-up, the next question or the end."""
    with write_session(engine) as s:
        service.confirm(s, user.id, interview_id, body.position, body.ticks)
        return step_out(service.step(s, user.id, interview_id))


@api.post("/{interview_id}/discard", status_code=204)
def api_discard(interview_id: int, user: CurrentUser, engine: EngineDep) -> Response:
    with write_session(engine) as s:
        service.discard(s, user.id, interview_id)
    return Response(status_code=204)


@api.get("/{interview_id}/report")
def api_report(
    request: Request, interview_id: int, user: CurrentUser, engine: EngineDep
) -> dict[str, Any]:
    """The finished interview's report (409 while it is still running), with its coding
    round (null when it had none)."""
    with session_scope(engine) as s:
        rep = reports.build(s, user.id, interview_id)
    coding = CodingRounds(exercise_service(request)).summary(user.id, interview_id)
    return {**reports.to_dict(rep), "coding": asdict(coding) if coding else None}


@api.get("/{interview_id}/report.md", response_class=PlainTextResponse)
def api_report_markdown(interview_id: int, user: CurrentUser, engine: EngineDep) -> Response:
    return report_markdown(interview_id, user, engine)


# --- pages ----------------------------------------------------------------------------


@router.get("/interview", response_class=HTMLResponse)
def start_page(
    request: Request, user: CurrentUser, engine: EngineDep, error: str | None = None
) -> Response:
    with session_scope(engine) as s:
        decks = service.deck_choices(s)
    listing = _summaries(engine, user.id)
    context = {
        "decks": decks,
        "listing": listing,
        "languages": LANGUAGES,
        "default_lang": _lang(user),
        "error": error,
    }
    return no_store(templates.TemplateResponse(request, "interview/start.html", context))


@router.post("/interview")
def start_form(
    user: CurrentUser,
    _: CsrfProtected,
    engine: EngineDep,
    length_mode: Annotated[str, Form()] = "questions",
    length: Annotated[int, Form(ge=1, le=180)] = 5,
    scope: Annotated[str, Form()] = "decks",
    decks: Annotated[list[str] | None, Form()] = None,
    difficulties: Annotated[list[str] | None, Form()] = None,
    lang: Annotated[str, Form()] = "en",
    follow_ups: Annotated[str, Form()] = "",
) -> Response:
    try:
        config = service.InterviewConfig(
            questions=min(length, 30) if length_mode == "questions" else None,
            minutes=length if length_mode == "minutes" else None,
            decks=[] if scope == "weakest" else list(decks or []),
            weakest=scope == "weakest",
            difficulties=list(difficulties or []),
            follow_ups=follow_ups == "on",
            lang=normalise(lang) or "en",
        )
        with write_session(engine) as s:
            iv = service.start(s, user.id, config)
    except ValidationError as exc:
        return RedirectResponse(f"/interview?error={exc.errors()[0]['msg']}", status_code=303)
    except service.InterviewError as exc:
        return RedirectResponse(f"/interview?error={exc.message}", status_code=303)
    return RedirectResponse(f"/interview/{iv.id}", status_code=303)


def _page_step(engine: Any, user: UserPublic, interview_id: int) -> service.Step:
    with session_scope(engine) as s:
        return service.step(s, user.id, interview_id)


@router.get("/interview/{interview_id}", response_class=HTMLResponse)
def step_page(
    request: Request, interview_id: int, user: CurrentUser, engine: EngineDep
) -> Response:
    step = _page_step(engine, user, interview_id)
    if step.phase == "finished":
        return RedirectResponse(f"/interview/{interview_id}/report", status_code=303)
    if step.phase == "discarded":
        return RedirectResponse("/interview", status_code=303)
    context = {"step": step, "q": step.question, "interview": step.interview}
    return no_store(templates.TemplateResponse(request, "interview/step.html", context))


@router.post("/interview/{interview_id}/answer")
def answer_form(
    interview_id: int,
    user: CurrentUser,
    _: CsrfProtected,
    engine: EngineDep,
    position: Annotated[int, Form()],
    answer: Annotated[str, Form(max_length=service.MAX_ANSWER_CHARS)] = "",
    action: Annotated[str, Form()] = "done",
) -> Response:
    try:
        with write_session(engine) as s:
            service.answer(s, user.id, interview_id, position, answer, skip=action == "skip")
    except service.StaleStep:
        pass  # already handed in (a double submit or another device): show where it is
    return RedirectResponse(f"/interview/{interview_id}", status_code=303)


@router.post("/interview/{interview_id}/confirm")
def confirm_form(
    interview_id: int,
    user: CurrentUser,
    _: CsrfProtected,
    engine: EngineDep,
    position: Annotated[int, Form()],
    size: Annotated[int, Form(ge=1, le=50)] = 1,
    tick: Annotated[list[int] | None, Form()] = None,
) -> Response:
    ticked = set(tick or [])
    try:
        with write_session(engine) as s:
            service.confirm(s, user.id, interview_id, position, [i in ticked for i in range(size)])
    except service.StaleStep:
        pass
    return RedirectResponse(f"/interview/{interview_id}", status_code=303)


@router.post("/interview/{interview_id}/discard")
def discard_form(
    interview_id: int, user: CurrentUser, _: CsrfProtected, engine: EngineDep
) -> Response:
    try:
        with write_session(engine) as s:
            service.discard(s, user.id, interview_id)
    except service.StaleStep:
        pass
    return RedirectResponse("/interview", status_code=303)


@router.get("/interview/{interview_id}/report", response_class=HTMLResponse)
def report_page(
    request: Request, interview_id: int, user: CurrentUser, engine: EngineDep
) -> Response:
    try:
        with session_scope(engine) as s:
            rep = reports.build(s, user.id, interview_id)
    except service.StaleStep:
        return RedirectResponse(f"/interview/{interview_id}", status_code=303)
    # At least TREND_SLOTS bars wide, so one interview is not one wall-to-wall bar.
    pad = max(0, TREND_SLOTS - len(rep.trend))
    trend = charts.bar_chart(
        [""] * pad + [f"#{t.interview_id}" for t in rep.trend],
        [0.0] * pad + [round(t.score * 100) for t in rep.trend],
        tick_every=1 if len(rep.trend) <= TREND_SLOTS else 3,
        tick_labels=[""] * pad + [t.finished_at.strftime("%m-%d") for t in rep.trend],
        y_max=100,
        y_format="{:.0f}%",
        value_format="{:.0f}%",
        height=180,
        css=[""] * pad
        + ["is-current" if t.interview_id == interview_id else "" for t in rep.trend],
    )
    deck_chart = charts.share_bars([d.deck for d in rep.decks], [d.score for d in rep.decks])
    context = {
        "report": rep,
        "coding": CodingRounds(exercise_service(request)).summary(user.id, interview_id),
        "trend_chart": trend,
        "deck_chart": deck_chart,
        "mapping": [(reports.mapping_share(lo), r) for lo, r in rep.mapping],
    }
    return no_store(templates.TemplateResponse(request, "interview/report.html", context))


@router.get("/interview/{interview_id}/report.md", response_class=PlainTextResponse)
def report_markdown(interview_id: int, user: CurrentUser, engine: EngineDep) -> Response:
    """The report as a Markdown file (a download)."""
    with session_scope(engine) as s:
        rep = reports.build(s, user.id, interview_id)
    return PlainTextResponse(
        reports.to_markdown(rep),
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="mock-interview-{interview_id}.md"'},
    )


router.include_router(api)  # one router for app/main.py: pages and API
