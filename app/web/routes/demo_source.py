"""A demo's source, highlighted on the card and demo pages, and a learner's edited copy
run through the judge's sandbox (app.services.demo_copies), as JSON and as htmx HTML.
The shared demo, its runs and its cache are never touched."""

from __future__ import annotations

import json
from typing import Any

import anyio
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app.services.demo_copies import DemoCopies
from app.services.errors import ServiceError
from app.web.deps import CsrfProtected, OptionalUser
from app.web.templating import templates

router = APIRouter()
MAX_BODY_BYTES = 700 * 1024  # the largest copy (100,000 characters), escaped, and params


def _copies(request: Request) -> DemoCopies:
    copies: DemoCopies = request.app.state.demo_copies
    return copies


@router.get("/api/demos/{name}/source")
def demo_source(request: Request, name: str) -> JSONResponse:
    try:
        return JSONResponse({"name": name, "source": _copies(request).source(name)})
    except ServiceError as exc:
        raise HTTPException(exc.status, detail=exc.message) from exc


def _refusal(exc: ServiceError) -> JSONResponse:
    retry = getattr(exc, "retry_after_s", None)
    headers = {"Retry-After": str(retry)} if retry else {}
    return JSONResponse(
        {"detail": exc.message, "code": exc.code}, status_code=exc.status, headers=headers
    )


@router.post("/api/demos/{name}/copy-runs")
async def run_copy_json(
    request: Request, name: str, user: OptionalUser, _: CsrfProtected
) -> Response:
    """Body ``{"source": "...", "params": {...}}``: the copy's outcome (``ok``, ``reason``,
    ``message``, and ``result`` when it ran) once it has run."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        return JSONResponse({"detail": "The body is too large."}, status_code=413)
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = None
    if not isinstance(body, dict):
        return JSONResponse({"detail": "The body must be a JSON object."}, status_code=422)
    copies, user_id = _copies(request), user.id if user else None
    try:
        outcome = await anyio.to_thread.run_sync(
            lambda: copies.run_copy(user_id, name, body.get("source"), body.get("params"))
        )
    except ServiceError as exc:
        return _refusal(exc)
    return JSONResponse(outcome)


@router.post("/demos/{name}/copy", response_class=HTMLResponse)
async def run_copy_html(
    request: Request, name: str, user: OptionalUser, _: CsrfProtected, source: str = Form("")
) -> Response:
    copies, user_id = _copies(request), user.id if user else None
    try:
        outcome: dict[str, Any] = await anyio.to_thread.run_sync(
            lambda: copies.run_copy(user_id, name, source)
        )
    except ServiceError as exc:
        return templates.TemplateResponse(
            request, "exercise/_error.html", {"message": exc.message}, status_code=exc.status
        )
    return templates.TemplateResponse(request, "demo/_copy_result.html", {"outcome": outcome})
