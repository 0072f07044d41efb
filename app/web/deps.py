"""Typed dependency aliases, in one place.

Accounts (see the section at the end):
    user: CurrentUser     logged-in UserPublic; pages redirect to /login, /api gets 401
    user: OptionalUser    UserPublic or None
    admin: AdminUser      UserPublic with role "admin"; others 403 (logged)
    _: CsrfProtected      on every POST/PUT/PATCH/DELETE route (or REQUIRE_CSRF per router)
After any of the user dependencies, ``request.state.user_id`` / ``user_role`` are set.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.models.user import UserPublic
from app.settings import Settings
from app.web.security import resolve_user, verify_csrf

security_log = logging.getLogger("backprop.security")
T = TypeVar("T")


# async: no I/O, so FastAPI calls them on the event loop instead of in a pool thread.
async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


async def run_db(engine: Engine, func: Callable[..., T], *args: Any) -> T:
    """Run blocking database work from an async route. On SQLite it runs inline on the
    event loop: the queries take well under a millisecond, and a pool thread per request
    would only add hand-offs and fights over the GIL (and SQLite has one writer anyway).
    Over a network (PostgreSQL) it runs in the thread pool, so the loop never waits."""
    if engine.dialect.name == "sqlite":
        return func(*args)
    return await run_in_threadpool(func, *args)


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]


# --- accounts ----------------------------------------------------------------
# Sessions are signed cookies (app.web.security); the user is checked against the
# database once per request and cached, so using several of these in one route is free.


async def get_optional_user(request: Request) -> UserPublic | None:
    """The logged-in user, or None. Never raises."""
    return await run_db(request.app.state.engine, resolve_user, request)


async def get_current_user(request: Request) -> UserPublic:
    """The logged-in user. Otherwise: 401 JSON for /api/...; for htmx requests 401 with
    ``HX-Redirect`` to the login page; for pages a 303 to /login?next=<this page>."""
    user = await run_db(request.app.state.engine, resolve_user, request)
    if user is not None:
        return user
    if request.url.path.startswith("/api/"):
        raise HTTPException(status_code=401, detail="Not logged in.")
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    login_url = f"/login?{urlencode({'next': target})}"
    if request.headers.get("HX-Request"):
        raise HTTPException(
            status_code=401, detail="Not logged in.", headers={"HX-Redirect": login_url}
        )
    raise HTTPException(status_code=303, detail="Log in first.", headers={"Location": login_url})


def get_admin_user(
    request: Request, user: Annotated[UserPublic, Depends(get_current_user)]
) -> UserPublic:
    """The logged-in user if an admin; 403 (and a ``admin_denied`` warning in the
    ``backprop.security`` log) for anyone else. Not logged in: as ``CurrentUser``."""
    if user.role != "admin":
        security_log.warning(
            json.dumps(
                {
                    "event": "admin_denied",
                    "user": user.id,
                    "method": request.method,
                    "path": request.url.path,
                }
            )
        )
        raise HTTPException(status_code=403, detail="Admins only.")
    return user


async def require_csrf(request: Request) -> None:
    """403 unless a state-changing request (POST, PUT, PATCH, DELETE) carries the
    session's CSRF token: the ``csrf_token`` form field, or the ``X-CSRF-Token`` header
    (htmx requests get it from static/js/csrf.js; fetch via ``backprop.fetch``)."""
    await verify_csrf(request)


OptionalUser = Annotated[UserPublic | None, Depends(get_optional_user)]
"""``user: OptionalUser``: a UserPublic or None."""
CurrentUser = Annotated[UserPublic, Depends(get_current_user)]
"""``user: CurrentUser``: a UserPublic; anonymous visitors are sent to log in."""
AdminUser = Annotated[UserPublic, Depends(get_admin_user)]
"""``admin: AdminUser``: a UserPublic with role "admin"; learners get 403."""
CsrfProtected = Annotated[None, Depends(require_csrf)]
"""``_: CsrfProtected`` on a POST/PUT/PATCH/DELETE route. For a whole router:
``APIRouter(dependencies=[REQUIRE_CSRF])`` (GET routes on it pass untouched)."""
REQUIRE_CSRF = Depends(require_csrf)
