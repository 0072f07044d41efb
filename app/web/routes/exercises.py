"""Write-the-code exercises over HTTP: the exercise page and panel, and submit, hint,
give up and confirm, each as JSON (``/api/exercises/...``) and as the panel's HTML state
for htmx (``/exercises/...``). Thin: app.services.exercises decides; the judge process
(app.exercises.judge_client) runs the learner's code, never this process.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from app.services.demo_copies import DemoCopies
from app.services.errors import ServiceError
from app.services.exercises.catalog import ExerciseCatalog
from app.services.exercises.service import MAX_CODE_CHARS, ExerciseService
from app.settings import Settings
from app.web.deps import CsrfProtected, CurrentUser, OptionalUser
from app.web.exercise_panel import RATING_NAMES, exercise_panel, exercise_service
from app.web.i18n import request_language
from app.web.templating import templates

router = APIRouter()

# A JSON body holds the code (at most MAX_CODE_CHARS characters, up to 6 bytes each
# once escaped) and a few small fields.
MAX_BODY_BYTES = MAX_CODE_CHARS * 6 + 1024
JUDGE_WORKERS = 2


class LazyJudge:
    """Starts the judge process on the first submission (most app instances, and most
    tests, never judge anything) and stops it with the app."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._client: Any = None
        self._lock = threading.Lock()

    def _get_client(self) -> Any:
        with self._lock:
            if self._client is None:
                from app.exercises.judge_client import JudgeClient

                self._client = JudgeClient(workers=self.workers)
            return self._client

    def __call__(self, path: Path, code: str) -> dict[str, Any]:
        verdict: dict[str, Any] = self._get_client().judge(path, code)
        return verdict

    def run_demo(self, source: str, params: dict[str, Any]) -> dict[str, Any]:
        """A learner's edited copy of a demo, run by the same judge process."""
        outcome: dict[str, Any] = self._get_client().run_demo(source, params)
        return outcome

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


def install(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    judge = LazyJudge(JUDGE_WORKERS)
    app.state.exercise_service = ExerciseService(
        app.state.engine, ExerciseCatalog(settings.content_dir), judge
    )
    # Learners' edited demo copies are hostile code too: the same judge runs them.
    app.state.demo_copies = DemoCopies(settings.content_dir, judge.run_demo)

    async def stop(app: FastAPI) -> None:
        await anyio.to_thread.run_sync(judge.close)

    app.state.on_stop.append(stop)
    app.include_router(router)


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def _refusal(exc: ServiceError) -> JSONResponse:
    headers = {}
    retry = getattr(exc, "retry_after_s", None)
    if retry:
        headers["Retry-After"] = str(retry)
    return JSONResponse(
        {"detail": exc.message, "code": exc.code}, status_code=exc.status, headers=headers
    )


async def _json_body(request: Request) -> dict[str, Any] | JSONResponse:
    """The request's JSON object, or the 4xx that says why there is none."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        return _problem(413, f"The body is larger than {MAX_BODY_BYTES // 1024} KiB.")
    try:
        body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        return _problem(422, "The body must be a JSON object.")
    return body


async def _run(call: Callable[[], dict[str, Any]]) -> dict[str, Any] | JSONResponse:
    try:
        return await anyio.to_thread.run_sync(call)
    except ServiceError as exc:
        return _refusal(exc)


async def _api(call: Callable[[], dict[str, Any]]) -> Response:
    """The call's view as JSON, or its refusal."""
    view = await _run(call)
    return view if isinstance(view, JSONResponse) else JSONResponse(view)


# --- JSON API ------------------------------------------------------------------------


@router.get("/api/exercises")
async def list_due(request: Request, user: CurrentUser) -> Response:
    """The learner's exercise queue: due first, then never done."""
    service, lang = exercise_service(request), request_language(request)
    queue = await anyio.to_thread.run_sync(lambda: service.queue(user.id, lang))
    return JSONResponse({"exercises": queue})


@router.get("/api/exercises/{name}")
async def get_exercise(request: Request, name: str, user: OptionalUser) -> Response:
    service, lang = exercise_service(request), request_language(request)
    return await _api(lambda: service.view(user.id if user else None, name, lang))


@router.post("/api/exercises/{name}/submissions")
async def submit_json(
    request: Request, name: str, user: OptionalUser, _: CsrfProtected
) -> Response:
    """The judged attempt: ``verdict`` holds the reason, message and each test's result."""
    body = await _json_body(request)
    if isinstance(body, JSONResponse):
        return body
    service, lang = exercise_service(request), request_language(request)
    user_id = user.id if user else None
    return await _api(lambda: service.submit(user_id, name, body.get("code"), lang))


@router.post("/api/exercises/{name}/hints")
async def hint_json(request: Request, name: str, user: OptionalUser, _: CsrfProtected) -> Response:
    service, lang = exercise_service(request), request_language(request)
    return await _api(lambda: service.reveal_hint(user.id if user else None, name, lang))


@router.post("/api/exercises/{name}/give-up")
async def give_up_json(
    request: Request, name: str, user: OptionalUser, _: CsrfProtected
) -> Response:
    service, lang = exercise_service(request), request_language(request)
    return await _api(lambda: service.give_up(user.id if user else None, name, lang))


@router.post("/api/exercises/{name}/rating")
async def confirm_json(
    request: Request, name: str, user: OptionalUser, _: CsrfProtected
) -> Response:
    """Body ``{"rating": 1..4}``: logged as a review of kind "exercise" of the card."""
    body = await _json_body(request)
    if isinstance(body, JSONResponse):
        return body
    service, lang = exercise_service(request), request_language(request)
    user_id = user.id if user else None
    return await _api(lambda: service.confirm(user_id, name, body.get("rating"), lang))


# --- pages and htmx ------------------------------------------------------------------


@router.get("/exercises", response_class=HTMLResponse)
def queue_page(request: Request, user: CurrentUser) -> Response:
    queue = exercise_service(request).queue(user.id, request_language(request))
    return templates.TemplateResponse(request, "exercise/queue.html", {"queue": queue})


@router.get("/exercises/next", response_class=HTMLResponse)
def next_exercise(request: Request, user: CurrentUser) -> Response:
    """The first exercise of the queue, or the (empty) queue page."""
    queue = exercise_service(request).queue(user.id, request_language(request), limit=1)
    target = f"/exercises/{queue[0]['exercise']}" if queue else "/exercises"
    return RedirectResponse(target, status_code=303)


@router.get("/exercises/{name}", response_class=HTMLResponse)
def exercise_page(request: Request, name: str, user: OptionalUser) -> Response:
    exercise = exercise_panel(request, user.id if user else None, name=name)
    if exercise is None:
        raise HTTPException(status_code=404, detail=f"There is no exercise named {name[:64]!r}.")
    fragment = request.headers.get("HX-Request") == "true"
    return templates.TemplateResponse(
        request,
        "exercise/_panel.html" if fragment else "exercise/page.html",
        {"exercise": exercise, "rating_names": RATING_NAMES},
    )


def _state(request: Request, view: dict[str, Any] | JSONResponse) -> Response:
    """The panel's state block; a refusal is shown in it with its 4xx status (the
    panel's script lets htmx swap those in)."""
    if isinstance(view, JSONResponse):
        detail = json.loads(bytes(view.body))["detail"]
        return templates.TemplateResponse(
            request, "exercise/_error.html", {"message": detail}, status_code=view.status_code
        )
    return templates.TemplateResponse(
        request, "exercise/_state.html", {"exercise": view, "rating_names": RATING_NAMES}
    )


@router.post("/exercises/{name}/submit", response_class=HTMLResponse)
async def submit_html(
    request: Request, name: str, user: OptionalUser, _: CsrfProtected, code: str = Form("")
) -> Response:
    service, lang = exercise_service(request), request_language(request)
    user_id = user.id if user else None
    return _state(request, await _run(lambda: service.submit(user_id, name, code, lang)))


@router.post("/exercises/{name}/hint", response_class=HTMLResponse)
async def hint_html(request: Request, name: str, user: OptionalUser, _: CsrfProtected) -> Response:
    service, lang = exercise_service(request), request_language(request)
    user_id = user.id if user else None
    return _state(request, await _run(lambda: service.reveal_hint(user_id, name, lang)))


@router.post("/exercises/{name}/give-up", response_class=HTMLResponse)
async def give_up_html(
    request: Request, name: str, user: OptionalUser, _: CsrfProtected
) -> Response:
    service, lang = exercise_service(request), request_language(request)
    user_id = user.id if user else None
    return _state(request, await _run(lambda: service.give_up(user_id, name, lang)))


@router.post("/exercises/{name}/rating", response_class=HTMLResponse)
async def confirm_html(
    request: Request, name: str, user: OptionalUser, _: CsrfProtected, rating: str = Form("")
) -> Response:
    service, lang = exercise_service(request), request_language(request)
    user_id = user.id if user else None
    value: Any = int(rating) if rating.strip().isdigit() else rating
    return _state(request, await _run(lambda: service.confirm(user_id, name, value, lang)))
