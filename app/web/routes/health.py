"""/healthz: can the database answer, and can it take a write? Never a raw SQL error.

Async, with its database work run by ``run_db`` (inline on SQLite, a pool thread on
PostgreSQL): a liveness check must not queue behind requests that fill the thread pool
(forty sign-ups waiting for an Argon2 slot, say).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from app.services.storage import WriteProbe, fault_kind
from app.web.deps import EngineDep, run_db

router = APIRouter()


def _check(engine: Engine, probe: WriteProbe) -> tuple[int, dict[str, str]]:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:  # the point is to report it, not to raise
        kind = fault_kind(exc)
        return 503, {"status": "error", "database": kind, "writes": kind}
    problem = probe.problem()
    if problem is not None:
        return 503, {"status": "error", "database": "ok", "writes": problem}
    return 200, {"status": "ok", "database": "ok", "writes": "ok"}


@router.get("/healthz", include_in_schema=False)
async def healthz(request: Request, engine: EngineDep) -> JSONResponse:
    status, body = await run_db(engine, _check, engine, request.app.state.write_probe)
    return JSONResponse(body, status_code=status)
