"""Error responses: JSON for the API, a readable page for people."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.services.errors import ServiceError
from app.web.templating import templates

TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    429: "Too many requests",
}


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


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_error)


def refusal(exc: ServiceError) -> HTTPException:
    """The HTTP answer to a service's refusal: its status, a stable code and the sentence."""
    return HTTPException(exc.status, detail={"code": exc.code, "message": exc.message})
