"""Error responses: JSON for the API, a readable page for people."""

from __future__ import annotations

import errno
import json
import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, DBAPIError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.services.errors import ServiceError
from app.services.storage import StorageUnavailable, fault_kind, is_storage_fault
from app.web.templating import templates

TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    413: "Too large",
    429: "Too many requests",
    500: "Server error",
    503: "Try again shortly",
}

log = logging.getLogger("backprop.errors")

# OS errors that mean "the disk cannot take it", not "the code is wrong".
_STORAGE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EIO}


def wants_html(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.headers.get("hx-request"):
        return False
    return "text/html" in request.headers.get("accept", "")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if not wants_html(request) or exc.status_code < 400:
        return await http_exception_handler(request, exc)
    detail = exc.detail if isinstance(exc.detail, str) else ""
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "status": exc.status_code,
            "title": TITLES.get(exc.status_code, "Error"),
            "detail": detail,
        },
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


def _sentence(request: Request, status: int, code: str, message: str) -> Response:
    if wants_html(request):
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": status, "title": TITLES.get(status, "Error"), "detail": message},
            status_code=status,
        )
    return JSONResponse({"detail": {"code": code, "message": message}}, status_code=status)


async def service_error(request: Request, exc: Exception) -> Response:
    """A service's refusal that no route caught: its status, code and sentence."""
    assert isinstance(exc, ServiceError)
    return _sentence(request, exc.status, exc.code, exc.message)


def _storage_fault(request: Request, kind: str) -> Response:
    probe = getattr(request.app.state, "write_probe", None)
    if probe is not None:
        probe.record(kind)  # /healthz reports it at once
    refusal = StorageUnavailable(kind)
    return _sentence(request, refusal.status, refusal.code, refusal.message)


async def database_error(request: Request, exc: Exception) -> Response:
    """Disk full, read-only or unreachable database: 503 with a sentence (the
    transaction was rolled back). Anything else: 500, never the SQL text."""
    assert isinstance(exc, DBAPIError)
    if isinstance(exc, DataError):  # the database refused a value: out of range, too long
        return _sentence(
            request, 422, "out_of_range", "A value in the request is out of range or malformed."
        )
    if is_storage_fault(exc):
        log.error("storage fault on %s %s: %s", request.method, request.url.path, fault_kind(exc))
        return _storage_fault(request, fault_kind(exc))
    log.exception("database error on %s %s", request.method, request.url.path, exc_info=exc)
    return _sentence(request, 500, "server_error", "Something went wrong on our side.")


async def os_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OSError)
    if exc.errno in _STORAGE_ERRNOS:
        log.error("storage fault on %s %s: %s", request.method, request.url.path, exc)
        return _storage_fault(request, "disk full" if exc.errno == errno.ENOSPC else "read-only")
    log.exception("OS error on %s %s", request.method, request.url.path, exc_info=exc)
    return _sentence(request, 500, "server_error", "Something went wrong on our side.")


async def validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's 422, written as ASCII JSON: the input it echoes may hold text that
    UTF-8 cannot encode (a lone surrogate), which must not turn a 422 into a 500."""
    assert isinstance(exc, RequestValidationError)
    body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True, default=str)
    return Response(body, status_code=422, media_type="application/json")


async def unencodable_text(request: Request, exc: Exception) -> Response:
    return _sentence(
        request, 422, "invalid_text", "The request holds text that is not valid Unicode."
    )


async def number_out_of_range(request: Request, exc: Exception) -> Response:
    # SQLite stores 64-bit integers; no id or count here comes near that.
    return _sentence(request, 422, "out_of_range", "A number in the request is out of range.")


async def statement_error(request: Request, exc: Exception) -> Response:
    """A value the driver could not even send (SQLAlchemy wraps it): bad input when it
    is text or a number it cannot encode; otherwise ours, and never the SQL."""
    orig = getattr(exc, "orig", None)
    if isinstance(orig, UnicodeError):
        return await unencodable_text(request, exc)
    if isinstance(orig, OverflowError):
        return await number_out_of_range(request, exc)
    log.exception("statement error on %s %s", request.method, request.url.path, exc_info=exc)
    return _sentence(request, 500, "server_error", "Something went wrong on our side.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(OSError, os_error)
    app.add_exception_handler(StatementError, statement_error)
    app.add_exception_handler(UnicodeError, unencodable_text)
    app.add_exception_handler(OverflowError, number_out_of_range)
    app.add_exception_handler(RequestValidationError, validation_error)
