"""create_app(settings=None): the FastAPI application. Nothing happens at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.db import engine_for
from app.services.scheduling.optimize_jobs import OptimizeJobs
from app.services.storage import WriteProbe
from app.settings import Settings, get_settings
from app.web import errors
from app.web.body_limit import BodyLimitMiddleware
from app.web.middleware import RequestLogMiddleware
from app.web.routes import (
    admin,
    anki,
    api_review,
    auth,
    custom_study,
    demo_source,
    demos,
    exercises,
    health,
    interview,
    interview_coding,
    pages,
    practice,
    progress,
    settings_page,
)
from app.web.security import SessionCookieMiddleware
from app.web.templating import STATIC_DIR


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine_for(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for start in app.state.on_start:
            await start(app)
        try:
            yield
        finally:
            for stop in reversed(app.state.on_stop):
                await stop(app)
            engine.dispose()

    # No interactive docs in production: Swagger's assets come from a CDN the CSP blocks,
    # and the schema maps every route for a visitor. Development and tests keep them.
    public_docs = settings.environment != "production"
    app = FastAPI(
        title="Backprop",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if public_docs else None,
        redoc_url="/redoc" if public_docs else None,
        openapi_url="/openapi.json" if public_docs else None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.secret_key = settings.resolved_secret_key()
    app.state.write_probe = WriteProbe(engine)
    app.state.optimize_jobs = OptimizeJobs(settings.optimize_max_jobs)
    # Parts with background machinery (the demo pool) register start/stop hooks here.
    app.state.on_start = []
    app.state.on_stop = []

    async def close_write_probe(app: FastAPI) -> None:
        app.state.write_probe.close()

    app.state.on_stop.append(close_write_probe)

    # The last added runs first: cookie, then request log, then the body limit.
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(RequestLogMiddleware)
    app.add_middleware(SessionCookieMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    errors.install(app)
    app.include_router(health.router)
    app.include_router(pages.router)
    app.include_router(auth.router)
    app.include_router(admin.router)
    app.include_router(api_review.router)
    app.include_router(practice.router)
    app.include_router(custom_study.router)
    app.include_router(progress.router)
    app.include_router(settings_page.router)
    app.include_router(anki.router)
    app.include_router(interview.router)
    app.include_router(interview_coding.router)
    exercises.install(app)  # the exercise pages and API; the judge starts on first use
    app.include_router(demo_source.router)  # a demo's code, and learners' edited copies
    demos.install(app)  # the demo API and page, and the worker pool's start/stop hooks
    return app
