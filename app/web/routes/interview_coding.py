"""The optional coding round of a mock interview: started from the interview's report,
one exercise against its time budget, scored by its tests, shown back in the report.
The editor and judge are the exercise panel's (static/js/exercise.js, the judge process).
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from app.services.errors import ServiceError
from app.services.exercises.rounds import CodingRounds
from app.web.deps import CsrfProtected, CurrentUser
from app.web.exercise_panel import exercise_service
from app.web.i18n import request_language
from app.web.templating import no_store, templates

router = APIRouter(tags=["interview"])


def _rounds(request: Request) -> CodingRounds:
    return CodingRounds(exercise_service(request))


@router.post("/interview/{interview_id}/coding")
def start_round(
    request: Request, interview_id: int, user: CurrentUser, _: CsrfProtected
) -> Response:
    try:
        _rounds(request).start(user.id, interview_id)
    except ServiceError as exc:
        raise HTTPException(exc.status, detail=exc.message) from exc
    return RedirectResponse(f"/interview/{interview_id}/coding", status_code=303)


@router.get("/interview/{interview_id}/coding", response_class=HTMLResponse)
def round_page(request: Request, interview_id: int, user: CurrentUser) -> Response:
    try:
        view = _rounds(request).view(user.id, interview_id, request_language(request))
    except ServiceError as exc:
        raise HTTPException(exc.status, detail=exc.message) from exc
    return no_store(templates.TemplateResponse(request, "interview/coding.html", {"round": view}))


@router.post("/interview/{interview_id}/coding/submit", response_class=HTMLResponse)
async def submit(
    request: Request, interview_id: int, user: CurrentUser, _: CsrfProtected, code: str = Form("")
) -> Response:
    rounds, lang = _rounds(request), request_language(request)
    try:
        view: dict[str, Any] = await anyio.to_thread.run_sync(
            lambda: rounds.submit(user.id, interview_id, code, lang)
        )
    except ServiceError as exc:
        return templates.TemplateResponse(
            request, "exercise/_error.html", {"message": exc.message}, status_code=exc.status
        )
    return templates.TemplateResponse(request, "interview/_coding_state.html", {"round": view})


@router.post("/interview/{interview_id}/coding/finish")
def finish(request: Request, interview_id: int, user: CurrentUser, _: CsrfProtected) -> Response:
    try:
        _rounds(request).finish(user.id, interview_id)
    except ServiceError as exc:
        raise HTTPException(exc.status, detail=exc.message) from exc
    return RedirectResponse(f"/interview/{interview_id}/report", status_code=303)


@router.post("/api/interview/{interview_id}/coding/submissions")
async def submit_json(
    request: Request, interview_id: int, user: CurrentUser, _: CsrfProtected
) -> Response:
    """Body ``{"code": "..."}``: the round after the submission is judged."""
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        return JSONResponse({"detail": "The body must be a JSON object."}, status_code=422)
    rounds, lang = _rounds(request), request_language(request)
    try:
        view = await anyio.to_thread.run_sync(
            lambda: rounds.submit(user.id, interview_id, body.get("code"), lang)
        )
    except ServiceError as exc:
        return JSONResponse({"detail": exc.message, "code": exc.code}, status_code=exc.status)
    view["summary"] = view["summary"].__dict__
    return JSONResponse(view)
