"""Sign-up, login, logout, password change: HTML forms and a small JSON API.

The JSON API lets another client drive Backprop: ``GET /api/auth/csrf`` (starts a
session, returns its token), ``POST /api/auth/login`` with ``X-CSRF-Token``, then any
call with the token returned by login, ``GET /api/me``, ``POST /api/auth/logout``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlmodel import Session

from app.models.user import UserPublic
from app.services import accounts
from app.web.deps import CsrfProtected, CurrentUser, OptionalUser, SessionDep, SettingsDep
from app.web.security import (
    client_address,
    cookie_session,
    csrf_token,
    end_this_session,
    forget_resolved_user,
    log_refused_login,
    login_limits,
    signup_limits,
    too_many_attempts,
)
from app.web.templating import templates

router = APIRouter()

FormStr = Annotated[str, Form()]


def _passwords(request: Request) -> accounts.Passwords:
    return accounts.passwords_from_settings(request.app.state.settings)


def safe_next(target: str | None) -> str:
    """Only same-site paths: no scheme, no host, no ``//evil`` or ``/\\evil``."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _start_session(request: Request, user_id: int, session_version: int) -> None:
    cookie_session(request).log_in(user_id, session_version)
    forget_resolved_user(request)


def _log_in(
    request: Request, session: Session, username: str, password: str
) -> accounts.LoginResult:
    result = accounts.log_in(
        session,
        username,
        password,
        client_address(request),
        passwords=_passwords(request),
        limits=login_limits(request),
    )
    if result.retry_after is not None:
        log_refused_login(request, username, result.retry_after)
    elif result.user is not None:
        assert result.user.id is not None
        _start_session(request, result.user.id, result.user.session_version)
    return result


# --- login -------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: OptionalUser, next: str = "/") -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return templates.TemplateResponse(request, "auth/login.html", {"next": safe_next(next)})


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: SessionDep,
    _: CsrfProtected,
    username: FormStr = "",
    password: FormStr = "",
    next: FormStr = "/",
) -> Response:
    result = _log_in(request, session, username, password)
    if result.user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    if result.retry_after is not None:
        error = str(too_many_attempts(result.retry_after).detail)
        status, headers = 429, {"Retry-After": str(result.retry_after)}
    else:
        error, status, headers = "Wrong username or password.", 400, {}
    return templates.TemplateResponse(
        request,
        "auth/login.html",
        {"next": safe_next(next), "username": username, "error": error},
        status_code=status,
        headers=headers,
    )


@router.post("/logout")
def logout(
    request: Request,
    session: SessionDep,
    user: OptionalUser,
    _: CsrfProtected,
    everywhere: FormStr = "",
) -> Response:
    """Ends this session; with ``everywhere=1`` every session of this account."""
    if user is not None and everywhere:
        found = accounts.get_user(session, user.id)
        if found is not None:
            accounts.end_all_sessions(session, found)
    end_this_session(request, session)
    return RedirectResponse("/", status_code=303)


# --- sign-up -----------------------------------------------------------------


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request, settings: SettingsDep, user: OptionalUser) -> Response:
    if user is not None:
        return RedirectResponse("/", status_code=303)
    return templates.TemplateResponse(
        request, "auth/signup.html", {}, status_code=200 if settings.signup_open else 403
    )


@router.post("/signup", response_class=HTMLResponse)
def signup_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: CsrfProtected,
    username: FormStr = "",
    password: FormStr = "",
    password_confirm: FormStr = "",
) -> Response:
    if not settings.signup_open:
        return templates.TemplateResponse(request, "auth/signup.html", {}, status_code=403)
    wait = accounts.record_signup_attempt(
        session, client_address(request), limits=signup_limits(request)
    )
    if wait is not None:
        minutes = max(1, (wait + 59) // 60)
        return templates.TemplateResponse(
            request,
            "auth/signup.html",
            {
                "username": username,
                "error": f"Too many sign-ups from your address. Try again in {minutes} minutes.",
            },
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    try:
        if password != password_confirm:
            raise accounts.AccountError("The two passwords differ.", field="password_confirm")
        user = accounts.create_user(session, username, password, passwords=_passwords(request))
    except accounts.AccountError as exc:
        return templates.TemplateResponse(
            request,
            "auth/signup.html",
            {"username": username, "error": exc.message, "error_field": exc.field},
            status_code=400,
        )
    assert user.id is not None
    _start_session(request, user.id, user.session_version)
    return RedirectResponse("/", status_code=303)


# --- password ----------------------------------------------------------------


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, user: CurrentUser) -> Response:
    return templates.TemplateResponse(request, "auth/password.html", {})


@router.post("/account/password", response_class=HTMLResponse)
def password_submit(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    _: CsrfProtected,
    current_password: FormStr = "",
    password: FormStr = "",
    password_confirm: FormStr = "",
) -> Response:
    """Changes the password and logs out every other session; this one stays logged in."""
    found = accounts.get_user(session, user.id)
    if found is None:  # deleted between the two lookups
        raise HTTPException(status_code=401, detail="Not logged in.")
    try:
        if password != password_confirm:
            raise accounts.AccountError("The two new passwords differ.", field="password_confirm")
        found = accounts.change_password(
            session, found, current_password, password, passwords=_passwords(request)
        )
    except accounts.AccountError as exc:
        return templates.TemplateResponse(
            request,
            "auth/password.html",
            {"error": exc.message, "error_field": exc.field},
            status_code=400,
        )
    assert found.id is not None
    _start_session(request, found.id, found.session_version)
    return templates.TemplateResponse(request, "auth/password.html", {"changed": True})


# --- JSON API ----------------------------------------------------------------


class LoginBody(BaseModel):
    username: str
    password: str


class CsrfOut(BaseModel):
    csrf_token: str


class LoginOut(BaseModel):
    user: UserPublic
    csrf_token: str


@router.get("/api/auth/csrf", response_model=CsrfOut)
def api_csrf(request: Request) -> CsrfOut:
    """This session's CSRF token (starting an anonymous session: keep the cookie)."""
    return CsrfOut(csrf_token=csrf_token(request))


@router.post("/api/auth/login", response_model=LoginOut)
def api_login(request: Request, session: SessionDep, body: LoginBody, _: CsrfProtected) -> LoginOut:
    """Logs in; returns the user and the new session's CSRF token (the old one is void)."""
    result = _log_in(request, session, body.username, body.password)
    if result.retry_after is not None:
        raise too_many_attempts(result.retry_after)
    if result.user is None:
        raise HTTPException(status_code=401, detail="Wrong username or password.")
    return LoginOut(user=accounts.to_public(result.user), csrf_token=csrf_token(request))


@router.post("/api/auth/logout", response_model=CsrfOut)
def api_logout(request: Request, session: SessionDep, _: CsrfProtected) -> CsrfOut:
    """Ends this session; returns the token of the fresh anonymous one."""
    end_this_session(request, session)
    return CsrfOut(csrf_token=csrf_token(request))


@router.get("/api/me", response_model=UserPublic)
def api_me(user: CurrentUser) -> UserPublic:
    return user
