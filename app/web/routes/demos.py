"""Demo runs over HTTP: list demos, start a run, poll or stream it; the demo page.

Thin on purpose: app.services.demo_runs decides, app.workers runs. ``install(app)`` adds
the router and the pool's start/stop hooks (one line in create_app).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from app.services.demo_runs import (
    DemoCatalog,
    DemoNotFound,
    DemoRunService,
    LoginRequired,
    ParamsInvalid,
    QueueFull,
    RateLimiter,
    RedisRateLimiter,
    RunnerUnavailable,
    TooManyQueued,
    sweep_lost_runs,
)
from app.settings import Settings
from app.web.demo_panel import demo_panel
from app.web.demo_streams import SharedViews, StreamCounter
from app.web.deps import CsrfProtected, CurrentUser, OptionalUser, SessionDep
from app.web.security import client_address
from app.web.templating import templates

log = logging.getLogger("backprop.demos")
router = APIRouter()

SSE_POLL_S = 0.1
SSE_HEARTBEAT_S = 15.0
MAX_PARAMS_BYTES = 16 * 1024  # a demo's parameters are a handful of numbers
MAX_PARAMS_DEPTH = 4


def _depth(value: Any, limit: int) -> int:
    """How deeply ``value`` nests lists and dicts, counting no further than ``limit + 1``."""
    if isinstance(value, dict | list) and limit >= 0:
        children = value.values() if isinstance(value, dict) else value
        return 1 + max((_depth(child, limit - 1) for child in children), default=0)
    return 0


def parse_params_body(raw: bytes) -> tuple[dict[str, Any] | None, JSONResponse | None]:
    """The parameters object of a run request, or the 4xx that says what is wrong with
    the body: too large, not UTF-8, not JSON, nested too deeply, not an object."""

    def problem(status: int, message: str) -> tuple[None, JSONResponse]:
        return None, JSONResponse(
            {"detail": f"the body must be a JSON object of parameters: {message}",
             "errors": [{"field": "params", "message": message}]},
            status_code=status,
        )  # fmt: skip

    if not raw.strip():
        return {}, None
    if len(raw) > MAX_PARAMS_BYTES:
        return problem(413, f"larger than {MAX_PARAMS_BYTES // 1024} KiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return problem(400, f"not valid UTF-8 (byte {exc.start})")
    try:
        body = json.loads(text)
    except RecursionError:
        return problem(422, f"nested deeper than {MAX_PARAMS_DEPTH} levels")
    except ValueError as exc:
        return problem(422, f"invalid JSON ({exc})")
    if _depth(body, MAX_PARAMS_DEPTH) > MAX_PARAMS_DEPTH:
        return problem(422, f"nested deeper than {MAX_PARAMS_DEPTH} levels")
    if not isinstance(body, dict):
        return problem(422, "not an object")
    return body, None


# --- wiring ----------------------------------------------------------------------


def make_executor(settings: Settings) -> Any:
    """The executor the settings ask for: the queue (``demo_queue=redis://...``, runs go
    to ``backprop worker`` processes), the local pool, or None when demo_workers=0."""
    if settings.demo_queue:
        from app.workers.queue_executor import QueueExecutor

        return QueueExecutor(settings)
    if settings.demo_workers <= 0:
        return None
    from app.workers.pool import LocalPool, PoolConfig

    return LocalPool(PoolConfig.from_settings(settings))


def install(app: FastAPI) -> None:
    """Adds the routes, the demo service, and the executor's start/stop hooks. With the
    queue, the rate limit lives in Redis and a sweeper fails runs whose worker was lost."""
    settings: Settings = app.state.settings
    executor = make_executor(settings)
    catalog = DemoCatalog(
        settings.content_dir, require_sandbox=settings.environment == "production"
    )
    service = DemoRunService(
        app.state.engine, catalog, executor,
        max_queued_per_user=settings.demo_max_queued_per_user,
    )  # fmt: skip
    app.state.demo_streams = StreamCounter(settings.demo_streams_per_client)
    app.state.demo_views = SharedViews(SSE_POLL_S)
    app.state.demo_service = service
    queue = executor if settings.demo_queue else None
    if queue is not None:
        app.state.demo_rate_limiter = RedisRateLimiter(
            queue.redis, settings.demo_queue_prefix, per_minute=30, burst=10
        )
    else:
        app.state.demo_rate_limiter = RateLimiter(per_minute=30, burst=10)
    sweeper: list[asyncio.Task[None]] = []

    def sweep() -> int:
        if queue is None:
            # The in-process pool: renew this process's leases, fail runs whose owner
            # stopped renewing (or, on this host, is gone).
            service.renew_leases()
            return service.sweep_interrupted(settings.demo_local_lease_s)
        return sweep_lost_runs(
            service.engine,
            alive=queue.alive_runs,
            lease_s=settings.demo_lease_s,
            timeout_s=settings.demo_timeout_s,
            queue_wait_s=settings.demo_queue_wait_s,
            live_devices=queue.live_devices,
        )

    interval_s = (settings.demo_lease_s if queue is not None else settings.demo_local_lease_s) / 3

    async def sweep_forever() -> None:
        while True:
            try:
                failed = await anyio.to_thread.run_sync(sweep)
                if failed:
                    log.warning("failed %d demo runs nobody was running any more", failed)
            except Exception:
                log.exception("the demo run sweeper failed")
            await asyncio.sleep(max(1.0, interval_s))

    async def start(app: FastAPI) -> None:
        # The first sweep runs now: runs a crash left behind on this host fail at once.
        sweeper.append(asyncio.create_task(sweep_forever()))
        if executor is not None:
            executor.start()  # returns at once; warms up in the background

    async def stop(app: FastAPI) -> None:
        for task in sweeper:
            task.cancel()
        if executor is not None:
            await anyio.to_thread.run_sync(executor.stop)

    app.state.on_start.append(start)
    app.state.on_stop.append(stop)
    app.include_router(router)


def _service(request: Request) -> DemoRunService:
    return request.app.state.demo_service


def _is_admin(request: Request) -> bool:
    return getattr(request.state, "user_role", None) == "admin"


def _learner_key(request: Request) -> str:
    user_id = getattr(request.state, "user_id", None)
    return f"user:{user_id}" if user_id is not None else f"addr:{client_address(request)}"


# --- panel context (for the card page and the demo page) ------------------------------


# --- API -----------------------------------------------------------------------------


@router.get("/api/demos")
def list_demos(request: Request) -> JSONResponse:
    service = _service(request)
    demos = [info.describe() for info in service.catalog.all().values()]
    status = service.executor.status() if service.executor is not None else {"backend": None}
    return JSONResponse({"demos": demos, "runner": status})


@router.get("/api/demos/{name}")
def get_demo(request: Request, name: str) -> JSONResponse:
    try:
        info = _service(request).catalog.get(name)
    except DemoNotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return JSONResponse(info.describe())


def _too_busy(message: str, retry_after: int, status: int = 429) -> JSONResponse:
    return JSONResponse(
        {"detail": message, "retry_after_s": retry_after},
        status_code=status,
        headers={"Retry-After": str(retry_after)},
    )


@router.post("/api/demos/{name}/runs")
async def start_run(
    request: Request, name: str, user: OptionalUser, _: CsrfProtected
) -> JSONResponse:
    """202 with the run's id (200 with the result when it came from the cache). Anyone
    gets cached results; a run that must be computed needs an account (401)."""
    body, problem = parse_params_body(await request.body())
    if problem is not None:
        return problem
    service = _service(request)
    try:
        service.catalog.get(name)
    except DemoNotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    wait = request.app.state.demo_rate_limiter.acquire(_learner_key(request))
    if wait:
        return _too_busy(f"Too many demo runs; try again in {wait} s.", wait)
    try:
        run = await anyio.to_thread.run_sync(
            lambda: service.start_run(
                name, body, requested_by=user.id if user else None, may_queue=user is not None
            )
        )
    except ParamsInvalid as exc:
        return JSONResponse({"detail": str(exc), "errors": exc.errors}, status_code=422)
    except LoginRequired as exc:
        return JSONResponse({"detail": str(exc)}, status_code=401)
    except TooManyQueued as exc:
        return _too_busy(str(exc), 5)
    except QueueFull as exc:
        return _too_busy("The demo queue is full.", exc.retry_after_s)
    except RunnerUnavailable as exc:
        return _too_busy(str(exc), exc.retry_after_s, status=503)
    links = {"url": f"/api/demo-runs/{run.id}", "events_url": f"/api/demo-runs/{run.id}/events"}
    if run.cached:
        view = await anyio.to_thread.run_sync(_view, request, run.id)
        return JSONResponse({**(view or {}), **links}, status_code=200)
    return JSONResponse(
        {"id": run.id, "status": run.status, "cached": False, "done": False, **links},
        status_code=202,
    )


def _view(request: Request, run_id: str) -> dict[str, Any] | None:
    from sqlmodel import Session

    service = _service(request)
    with Session(service.engine) as session:
        run = service.get_run(session, run_id)
        if run is None:
            return None
        return service.run_view(session, run, admin=_is_admin(request))


@router.get("/api/demo-runs/{run_id}")
def get_run(request: Request, run_id: str, session: SessionDep, user: OptionalUser) -> JSONResponse:
    service = _service(request)
    run = service.get_run(session, run_id)
    if run is None:
        raise HTTPException(status_code=404, detail=f"no demo run {run_id!r}")
    return JSONResponse(service.run_view(session, run, admin=_is_admin(request)))


@router.get("/api/demo-runs/{run_id}/events")
async def run_events(request: Request, run_id: str, user: CurrentUser) -> Response:
    """Server-sent events: ``progress`` while it runs, then one ``done`` with the run.
    Needs a session (401 otherwise); a learner may hold ``demo_streams_per_client``
    streams at once (429 beyond).

    Polls the database, so any web process can stream any run; streams of one run
    share each read (``SharedViews``), and a refused stream reads nothing."""
    streams: StreamCounter = request.app.state.demo_streams
    client_key = _learner_key(request)
    if not streams.acquire(client_key):
        return _too_busy(
            f"Too many live demo streams ({streams.limit}); close one or poll "
            f"/api/demo-runs/{run_id}.",
            2,
        )
    views: SharedViews = request.app.state.demo_views
    shared_key = (run_id, _is_admin(request))  # admins see more of a failed run

    def fetch() -> Awaitable[dict[str, Any] | None]:
        return anyio.to_thread.run_sync(_view, request, run_id)

    try:
        first = await views.get(shared_key, fetch)
    except BaseException:
        streams.release(client_key)
        raise
    if first is None:
        streams.release(client_key)
        raise HTTPException(status_code=404, detail=f"no demo run {run_id!r}")
    settings: Settings = request.app.state.settings
    limit_s = settings.demo_timeout_s * 2 + settings.demo_queue_size * 2 + 60

    async def stream() -> AsyncIterator[str]:
        try:
            async for chunk in events():
                yield chunk
        finally:
            streams.release(client_key)

    async def events() -> AsyncIterator[str]:
        view: dict[str, Any] | None = first
        last_state = None
        loop = asyncio.get_running_loop()
        started = last_sent = loop.time()
        yield "retry: 1000\n\n"
        while view is not None:
            if view["done"]:
                yield f"event: done\ndata: {json.dumps(view)}\n\n"
                return
            state = (view["status"], view["progress"], view["progress_message"])
            if state != last_state:
                last_state = state
                last_sent = loop.time()
                small = {k: view[k] for k in ("id", "status", "progress", "progress_message")}
                yield f"event: progress\ndata: {json.dumps(small)}\n\n"
            elif loop.time() - last_sent > SSE_HEARTBEAT_S:
                last_sent = loop.time()
                yield ": keep-alive\n\n"
            if loop.time() - started > limit_s or await request.is_disconnected():
                return
            await asyncio.sleep(SSE_POLL_S)
            view = await views.get(shared_key, fetch)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# --- the standalone demo page ----------------------------------------------------------


@router.get("/demos/{name}", response_class=HTMLResponse)
def demo_page(request: Request, name: str) -> Response:
    demo = demo_panel(request, name)
    if demo is None:
        raise HTTPException(status_code=404, detail=f"no demo named {name!r}")
    return templates.TemplateResponse(request, "demo/page.html", {"demo": demo})
