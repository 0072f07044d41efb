"""Request bodies are bounded before anything reads them.

A state-changing request without a session cookie is refused at once: its CSRF check
could never pass, so there is no reason to spool its body. Otherwise the body may be at
most ``max_body_bytes`` (``max_anonymous_body_bytes`` for a visitor not logged in,
enough for the login and sign-up forms), and ``max_upload_bytes`` on the admin upload
routes. A declared Content-Length over the limit gets 413 before a byte is read; a body
that grows past it while streaming is cut off with 413 as well.
"""

from __future__ import annotations

import contextlib
import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.security import SAFE_METHODS

log = logging.getLogger("backprop.security")

# The admin routes that take files (the route itself checks that the user is an admin).
UPLOAD_PATHS = frozenset({"/admin/upload", "/admin/anki"})


NO_SESSION = "CSRF token missing or invalid. Reload the page and try again."


class BodyTooLarge(Exception):
    pass


async def _answer(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Pure ASGI; runs inside SessionCookieMiddleware (it reads the decoded session)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def _limit(self, scope: Scope, logged_in: bool) -> int:
        settings = scope["app"].state.settings
        if not logged_in:
            return int(settings.max_anonymous_body_bytes)
        if scope["path"] in UPLOAD_PATHS:
            return int(settings.max_upload_bytes)
        return int(settings.max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        cookie = scope.get("state", {}).get("cookie_session")
        data = cookie.data if cookie is not None else None
        if data is None:
            log.warning(
                json.dumps(
                    {
                        "event": "csrf_refused",
                        "reason": "no session",
                        "method": scope["method"],
                        "path": scope["path"],
                    }
                )  # fmt: skip
            )
            await _answer(
                send, 403, "CSRF token missing or invalid. Reload the page and try again."
            )
            return
        limit = self._limit(scope, data.user_id is not None)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        try:
            too_big = declared is not None and int(declared) > limit
        except ValueError:
            await _answer(send, 400, "Content-Length is not a number.")
            return
        if too_big:
            await _answer(send, 413, f"The request body is larger than {limit} bytes.")
            return

        received = 0
        answered = False  # the 413 went out; whatever the app sends afterwards is dropped

        async def bounded_receive() -> Message:
            nonlocal received, answered
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not started:
                        answered = True
                        await _answer(send, 413, f"The request body is larger than {limit} bytes.")
                    raise BodyTooLarge
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if answered:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        # Answered above (or the response had already started): nothing more to send.
        with contextlib.suppress(BodyTooLarge):
            await self.app(scope, bounded_receive, tracking_send)
