"""Signed cookie sessions, CSRF tokens bound to them, and the login rate-limit check.

Stateless on purpose (several web processes behind a load balancer): the session lives
in a signed cookie (itsdangerous), the CSRF token is derived from it with the app's
secret key, and the rate limit lives in the database (``app.services.accounts``).

The cookie holds ``{"u": user id or null, "v": session version, "n": nonce}``:

- every visitor gets one, logged in or not, so the login and sign-up forms carry a CSRF
  token too; it is created lazily the first time a page asks for a token;
- the nonce changes at login and logout, so a token seen before login is useless after;
- the version must equal ``User.session_version``, so a password change or "log out
  everywhere" invalidates every cookie issued before it;
- "log out" ends one cookie: its nonce goes into ``revoked_session`` until it expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.models.user import UserPublic
from app.services import accounts

log = logging.getLogger("backprop.security")

SESSION_COOKIE = "backprop_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_SESSION_SALT = "backprop.session"
_CSRF_CONTEXT = b"backprop.csrf:"


# --- the session cookie ------------------------------------------------------


@dataclass(frozen=True)
class SessionData:
    user_id: int | None
    version: int
    nonce: str

    @classmethod
    def anonymous(cls) -> SessionData:
        return cls(user_id=None, version=0, nonce=secrets.token_urlsafe(18))

    @classmethod
    def for_user(cls, user_id: int, version: int) -> SessionData:
        return cls(user_id=user_id, version=version, nonce=secrets.token_urlsafe(18))


@lru_cache(maxsize=8)  # one per secret key; it is immutable in use
def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SESSION_SALT)


def encode_session(secret_key: str, data: SessionData) -> str:
    return _serializer(secret_key).dumps({"u": data.user_id, "v": data.version, "n": data.nonce})


def decode_session(secret_key: str, value: str, max_age_s: int) -> SessionData | None:
    """The session in a cookie value, or None when it is forged, expired or malformed."""
    try:
        raw = _serializer(secret_key).loads(value, max_age=max_age_s)
        user_id, version, nonce = raw["u"], raw["v"], raw["n"]
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if not isinstance(nonce, str) or not nonce or not isinstance(version, int):
        return None
    if user_id is not None and not isinstance(user_id, int):
        return None
    return SessionData(user_id=user_id, version=version, nonce=nonce)


class CookieSession:
    """The visitor's session for one request. Changes are written back as one
    Set-Cookie header when the response starts (by ``SessionCookieMiddleware``)."""

    def __init__(self, data: SessionData | None) -> None:
        self.data = data
        self.changed = False

    def ensure(self) -> SessionData:
        """The current session, starting an anonymous one if there is none."""
        if self.data is None:
            self._set(SessionData.anonymous())
        assert self.data is not None
        return self.data

    def log_in(self, user_id: int, session_version: int) -> None:
        """A fresh session (new nonce, so a new CSRF token) for this user."""
        self._set(SessionData.for_user(user_id, session_version))

    def log_out(self) -> None:
        """Back to a fresh anonymous session (forms keep working after logout)."""
        self._set(SessionData.anonymous())

    def _set(self, data: SessionData) -> None:
        self.data = data
        self.changed = True


def session_cookie_header(value: str, *, max_age_s: int, secure: bool) -> tuple[bytes, bytes]:
    """``Set-Cookie``: HttpOnly, SameSite=Lax, Path=/, Secure when serving over HTTPS."""
    response = Response()
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max_age_s,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    return next((k, v) for k, v in response.raw_headers if k == b"set-cookie")


class SessionCookieMiddleware:
    """Decodes the session cookie into ``request.state.cookie_session`` and writes it back
    when a route changed it. Pure ASGI; reads the key and settings from ``app.state``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        secret_key: str = state.secret_key
        settings = state.settings
        data = None
        request = Request(scope)
        raw = request.cookies.get(SESSION_COOKIE)
        if raw:
            data = decode_session(secret_key, raw, settings.session_max_age_s)
        cookie = CookieSession(data)
        scope.setdefault("state", {})["cookie_session"] = cookie

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and cookie.changed and cookie.data:
                header = session_cookie_header(
                    encode_session(secret_key, cookie.data),
                    max_age_s=settings.session_max_age_s,
                    secure=settings.secure_cookies,
                )
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def cookie_session(request: Request) -> CookieSession:
    """This request's session (an empty one when the middleware is not installed)."""
    cookie = getattr(request.state, "cookie_session", None)
    if cookie is None:
        cookie = CookieSession(None)
        request.state.cookie_session = cookie
    return cookie


# --- CSRF --------------------------------------------------------------------


def csrf_token_for(secret_key: str, nonce: str) -> str:
    """The CSRF token for a session nonce: an HMAC, so nothing is stored server-side."""
    digest = hmac.new(secret_key.encode(), _CSRF_CONTEXT + nonce.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def csrf_token(request: Request) -> str:
    """The token for this visitor's session (starting an anonymous session if needed).
    Put it in forms as the hidden field ``csrf_token``; scripts send it as X-CSRF-Token."""
    data = cookie_session(request).ensure()
    return csrf_token_for(request.app.state.secret_key, data.nonce)


async def verify_csrf(request: Request) -> None:
    """Raises 403 unless a state-changing request carries this session's token, in the
    X-CSRF-Token header (htmx, fetch, API clients) or the ``csrf_token`` form field.
    Safe methods (GET, HEAD, OPTIONS) pass."""
    if request.method in SAFE_METHODS:
        return
    data = cookie_session(request).data
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if data is None or not sent:
        _refuse_csrf(request, "missing")
    expected = csrf_token_for(request.app.state.secret_key, data.nonce)  # type: ignore[union-attr]
    if not hmac.compare_digest(expected.encode(), sent.encode()):  # type: ignore[union-attr]
        _refuse_csrf(request, "mismatch")


def _refuse_csrf(request: Request, reason: str) -> None:
    log.warning(
        json.dumps(
            {
                "event": "csrf_refused",
                "reason": reason,
                "method": request.method,
                "path": request.url.path,
                "address": client_address(request),
            }
        )
    )
    raise HTTPException(
        status_code=403,
        detail="CSRF token missing or invalid. Reload the page and try again.",
    )


# --- the current user --------------------------------------------------------


def resolve_user(request: Request) -> UserPublic | None:
    """The logged-in user for this request, or None. Checks the cookie's session version
    against the database, once per request (cached on request.state). Sets
    ``request.state.user`` / ``user_id`` / ``user_role`` for logs and templates."""
    if getattr(request.state, "auth_resolved", False):
        return request.state.user
    user: UserPublic | None = None
    data = cookie_session(request).data
    if data is not None and data.user_id is not None:
        with Session(request.app.state.engine) as session:
            user = accounts.public_user_for_session(session, data.user_id, data.version, data.nonce)
    request.state.user = user
    request.state.user_id = user.id if user else None
    request.state.user_role = user.role if user else None
    request.state.auth_resolved = True
    return user


def forget_resolved_user(request: Request) -> None:
    """After login, logout or a password change in this request, resolve afresh."""
    request.state.auth_resolved = False


def template_context(request: Request) -> dict[str, Any]:
    """Jinja context processor: ``current_user`` (UserPublic or None), ``csrf_token``
    and ``signup_open`` on every page."""
    return {
        "current_user": resolve_user(request),
        "csrf_token": csrf_token(request),
        "signup_open": request.app.state.settings.signup_open,
    }


# --- the login rate limit ----------------------------------------------------


def client_address(request: Request) -> str:
    """The client's address as the server sees it. Behind a load balancer, run uvicorn
    with --proxy-headers and --forwarded-allow-ips so this is the real client."""
    return request.client.host if request.client else "unknown"


def login_limits(request: Request) -> accounts.LoginLimits:
    return accounts.LoginLimits.from_settings(request.app.state.settings)


def signup_limits(request: Request) -> accounts.SignupLimits:
    return accounts.SignupLimits.from_settings(request.app.state.settings)


def end_this_session(request: Request, session: Session) -> None:
    """Log out: this cookie is revoked server-side (a copy of it stops working too),
    and the visitor gets a fresh anonymous session."""
    data = cookie_session(request).data
    if data is not None and data.user_id is not None:
        accounts.revoke_session(
            session,
            data.user_id,
            data.nonce,
            max_age_s=request.app.state.settings.session_max_age_s,
        )
    cookie_session(request).log_out()
    forget_resolved_user(request)


def too_many_attempts(retry_after: int) -> HTTPException:
    minutes = max(1, (retry_after + 59) // 60)
    unit = "minute" if minutes == 1 else "minutes"
    return HTTPException(
        status_code=429,
        detail=f"Too many failed logins. Try again in {minutes} {unit}.",
        headers={"Retry-After": str(retry_after)},
    )


def log_refused_login(request: Request, username: str, retry_after: int) -> None:
    log.warning(
        json.dumps(
            {
                "event": "login_rate_limited",
                "username": accounts.normalize_username(username)[:64],
                "address": client_address(request),
                "retry_after": retry_after,
            }
        )
    )
