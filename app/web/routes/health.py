"""/healthz: can the database answer, and can it take a write? Never a raw SQL error."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.services.storage import fault_kind
from app.web.deps import SessionDep

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
def healthz(request: Request, session: SessionDep) -> JSONResponse:
    try:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except DBAPIError as exc:  # the point is to report it, not to raise
        kind = fault_kind(exc)
        return JSONResponse({"status": "error", "database": kind, "writes": kind}, status_code=503)
    finally:
        session.close()  # hand the connection back before the write probe takes one
    problem = request.app.state.write_probe.problem()
    if problem is not None:
        return JSONResponse({"status": "error", "database": "ok", "writes": problem}, 503)
    return JSONResponse({"status": "ok", "database": "ok", "writes": "ok"})
