"""Security properties: CSRF, admin-only routes, session cookies, the login rate limit,
and that no password hash ever reaches a template or JSON."""

from __future__ import annotations

import json
import logging
import re

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app.main import create_app
from app.models.user import User, UserPublic
from app.web import security
from app.web.deps import REQUIRE_CSRF, AdminUser, CsrfProtected, CurrentUser, require_csrf
from tests.conftest import TEST_PASSWORD, log_in, make_settings

SAFE = {"GET", "HEAD", "OPTIONS"}


def page_token(client: TestClient, path: str = "/login") -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get(path).text)
    assert match, "every page carries the csrf-token meta tag"
    return match.group(1)


def set_cookie_header(response) -> str:  # type: ignore[no-untyped-def]
    headers = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    assert len(headers) == 1, headers
    return headers[0]


def add_test_routes(app: FastAPI) -> None:
    """Routes that use the dependencies the way other engineers' routes will."""
    router = APIRouter()

    @router.get("/admin/test")
    def admin_page(admin: AdminUser) -> dict:
        return {"admin": admin.username}

    @router.get("/api/admin/test")
    def admin_api(admin: AdminUser) -> dict:
        return {"admin": admin.username}

    @router.post("/api/test/echo")
    def echo(user: CurrentUser, _: CsrfProtected) -> dict:
        return {"user": user.username}

    @router.get("/test/private")
    def private(user: CurrentUser) -> dict:
        return {"user": user.username}

    guarded = APIRouter(dependencies=[REQUIRE_CSRF])

    @guarded.get("/test/guarded")
    def guarded_get() -> dict:
        return {"ok": True}

    @guarded.delete("/test/guarded")
    def guarded_delete() -> dict:
        return {"deleted": True}

    app.include_router(router)
    app.include_router(guarded)


@pytest.fixture
def app(settings):  # type: ignore[no-untyped-def]
    app = create_app(settings)
    add_test_routes(app)
    return app


# --- CSRF --------------------------------------------------------------------------


def test_form_post_without_the_token_is_refused(client: TestClient, make_user, caplog) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    page_token(client)  # the visitor has a session, just not the token in the form
    with caplog.at_level(logging.WARNING, logger="backprop.security"):
        response = client.post("/login", data={"username": "alice", "password": TEST_PASSWORD})
    assert response.status_code == 403
    assert client.get("/api/me").status_code == 401
    assert any('"csrf_refused"' in r.getMessage() for r in caplog.records)


def test_form_post_with_a_wrong_token_is_refused(client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    token = page_token(client)
    bad = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.post(
        "/login", data={"username": "alice", "password": TEST_PASSWORD, "csrf_token": bad}
    )
    assert response.status_code == 403


def test_a_token_from_another_session_is_refused(app, make_user) -> None:  # type: ignore[no-untyped-def]
    """The token is bound to the session: an attacker's own token does not transfer."""
    make_user("alice")
    with TestClient(app) as attacker, TestClient(app) as victim:
        attacker_token = page_token(attacker)
        page_token(victim)
        response = victim.post(
            "/login",
            data={"username": "alice", "password": TEST_PASSWORD, "csrf_token": attacker_token},
        )
        assert response.status_code == 403


def test_a_post_with_no_session_at_all_is_refused(client: TestClient) -> None:
    response = client.post("/logout", data={"csrf_token": "anything"})
    assert response.status_code == 403


def test_api_and_htmx_calls_need_the_header(learner_client: TestClient) -> None:
    token = learner_client.headers.pop("X-CSRF-Token")
    assert learner_client.post("/api/test/echo").status_code == 403
    assert learner_client.post("/api/test/echo", headers={"X-CSRF-Token": "x"}).status_code == 403
    ok = learner_client.post("/api/test/echo", headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and ok.json() == {"user": "learner"}
    htmx = learner_client.post(
        "/api/test/echo", headers={"X-CSRF-Token": token, "HX-Request": "true"}
    )
    assert htmx.status_code == 200
    # The meta tag on the page carries the same token the header must send.
    assert page_token(learner_client, "/") == token


def test_router_level_csrf_guards_only_unsafe_methods(learner_client: TestClient) -> None:
    token = learner_client.headers.pop("X-CSRF-Token")
    assert learner_client.get("/test/guarded").status_code == 200
    assert learner_client.delete("/test/guarded").status_code == 403
    assert (
        learner_client.delete("/test/guarded", headers={"X-CSRF-Token": token}).status_code == 200
    )


def test_login_rotates_the_token(client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    before = page_token(client)
    after = log_in(client, "alice")
    assert before != after
    client.headers.pop("X-CSRF-Token")
    assert client.post("/logout", data={"csrf_token": before}).status_code == 403


def test_every_state_changing_route_requires_csrf(app: FastAPI) -> None:
    """A net for routes added later: every POST/PUT/PATCH/DELETE must use CsrfProtected
    (or REQUIRE_CSRF on its router)."""

    def calls(dependant) -> set:  # type: ignore[no-untyped-def]
        found = {dependant.call}
        for sub in dependant.dependencies:
            found |= calls(sub)
        return found

    unguarded = [
        f"{sorted(route.methods - SAFE)} {route.path}"
        for route in app.routes
        if isinstance(route, APIRoute)
        and route.methods - SAFE
        and require_csrf not in calls(route.dependant)
    ]
    assert unguarded == []


def test_csrf_js_sets_the_header_for_htmx_and_fetch(client: TestClient) -> None:
    js = client.get("/static/js/csrf.js").text
    assert "htmx:configRequest" in js
    assert "X-CSRF-Token" in js
    assert 'meta[name="csrf-token"]' in js
    assert "backprop.fetch" in js or "window.backprop.fetch" in js


# --- admin-only routes -----------------------------------------------------------------


def test_admin_routes_refuse_learners_and_log_it(learner_client: TestClient, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.WARNING, logger="backprop.security"):
        page = learner_client.get("/admin/test")
        api = learner_client.get("/api/admin/test")
    assert page.status_code == 403
    assert api.status_code == 403
    denied = [
        json.loads(r.getMessage()) for r in caplog.records if "admin_denied" in r.getMessage()
    ]
    assert [d["path"] for d in denied] == ["/admin/test", "/api/admin/test"]
    assert all(isinstance(d["user"], int) for d in denied)


def test_admin_routes_serve_admins(admin_client: TestClient) -> None:
    assert admin_client.get("/admin/test").json() == {"admin": "admin"}


def test_admin_routes_send_visitors_to_log_in(client: TestClient) -> None:
    page = client.get("/admin/test", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")
    assert client.get("/api/admin/test").status_code == 401


def test_htmx_requests_get_hx_redirect_to_log_in(client: TestClient) -> None:
    response = client.get(
        "/test/private?x=1", headers={"HX-Request": "true"}, follow_redirects=False
    )
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/login?next=%2Ftest%2Fprivate%3Fx%3D1"


def test_a_demoted_admin_loses_access_at_once(admin_client: TestClient, make_user, engine) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    from app.services import accounts

    make_user("second", role="admin")
    with Session(engine) as session:
        admin = accounts.get_user_by_username(session, "admin")
        accounts.set_role(session, admin, "learner")  # type: ignore[arg-type]
    assert admin_client.get("/admin/test").status_code == 403


# --- the session cookie ----------------------------------------------------------------


def test_session_cookie_flags(client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    token = client.get("/api/auth/csrf").json()["csrf_token"]
    response = client.post(
        "/api/auth/login",
        json={"username": "alice", "password": TEST_PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    cookie = set_cookie_header(response)
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith(f"{security.SESSION_COOKIE}=")
    assert "httponly" in attributes
    assert re.search(r";\s*samesite=lax", cookie, re.I)
    assert re.search(r";\s*path=/(;|$)", cookie, re.I)
    assert "max-age" in attributes
    assert "secure" not in attributes  # https_only_cookies is off in tests


def test_session_cookie_is_secure_behind_https(tmp_path, database_url, content_dir) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, database_url, content_dir, https_only_cookies=True)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        cookie = set_cookie_header(client.get("/login"))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly"} <= attributes
    assert re.search(r";\s*samesite=lax", cookie, re.I)


def test_the_cookie_holds_no_secrets(client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    log_in(client, "alice")
    value = client.cookies[security.SESSION_COOKIE]
    assert "argon2" not in value and TEST_PASSWORD not in value


def test_a_tampered_cookie_is_anonymous(client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    make_user("mallory", role="admin")
    log_in(client, "alice")
    forged = security.encode_session(
        "not-the-key", security.SessionData(user_id=2, version=1, nonce="n")
    )
    client.cookies.set(security.SESSION_COOKIE, forged)
    assert client.get("/api/me").status_code == 401


def test_session_encoding_round_trip_and_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    data = security.SessionData.for_user(7, 3)
    value = security.encode_session("key", data)
    assert security.decode_session("key", value, max_age_s=60) == data
    assert security.decode_session("other", value, max_age_s=60) is None
    assert security.decode_session("key", value + "x", max_age_s=60) is None
    assert security.decode_session("key", "garbage", max_age_s=60) is None
    import itsdangerous.timed

    real = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() + 61)
    assert security.decode_session("key", value, max_age_s=60) is None


def test_csrf_tokens_are_bound_to_the_nonce_and_key() -> None:
    token = security.csrf_token_for("key", "nonce")
    assert token == security.csrf_token_for("key", "nonce")
    assert token != security.csrf_token_for("key", "other")
    assert token != security.csrf_token_for("other", "nonce")


def test_the_request_log_names_the_user(learner_client: TestClient, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO, logger="backprop.request"):
        learner_client.get("/api/me")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "backprop.request"]
    assert lines[-1]["path"] == "/api/me"
    assert isinstance(lines[-1]["user"], int)


# --- the login rate limit ----------------------------------------------------------------


@pytest.fixture
def limited_app(tmp_path, database_url, content_dir):  # type: ignore[no-untyped-def]
    settings = make_settings(
        tmp_path,
        database_url,
        content_dir,
        login_max_failures_per_account=3,
        login_max_failures_per_address=5,
    )
    return create_app(settings)


def api_login(client: TestClient, username: str, password: str):  # type: ignore[no-untyped-def]
    token = client.get("/api/auth/csrf").json()["csrf_token"]
    return client.post(
        "/api/auth/login",
        json={"username": username, "password": password},
        headers={"X-CSRF-Token": token},
    )


def test_per_account_limit_blocks_the_guesser_not_the_owner(limited_app, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    with TestClient(limited_app, client=("10.0.0.1", 1000)) as attacker:
        for i in range(3):
            assert api_login(attacker, "alice", f"guess number {i}").status_code == 401
        refused = api_login(attacker, "alice", TEST_PASSWORD)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert attacker.get("/api/me").status_code == 401
        # The form says so too.
        token = page_token(attacker)
        form = attacker.post(
            "/login",
            data={"username": "alice", "password": TEST_PASSWORD, "csrf_token": token},
        )
        assert form.status_code == 429
        assert "Too many failed logins" in form.text
        assert "retry-after" in form.headers
    # Five wrong passwords from someone else never lock the owner out.
    with TestClient(limited_app, client=("10.0.0.99", 1000)) as owner:
        assert api_login(owner, "alice", TEST_PASSWORD).status_code == 200


def test_per_address_limit_holds_across_accounts(limited_app, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    with TestClient(limited_app, client=("203.0.113.7", 1000)) as sprayer:
        for i in range(5):
            assert api_login(sprayer, f"user{i}", "Winter2026!").status_code == 401
        assert api_login(sprayer, "alice", TEST_PASSWORD).status_code == 429
    with TestClient(limited_app, client=("198.51.100.1", 1000)) as elsewhere:
        assert api_login(elsewhere, "alice", TEST_PASSWORD).status_code == 200


def test_the_limit_is_shared_by_every_web_process(
    tmp_path, database_url, content_dir, make_user
) -> None:  # type: ignore[no-untyped-def]
    """Two app instances (two processes behind a load balancer) on one database."""
    settings = make_settings(tmp_path, database_url, content_dir, login_max_failures_per_account=2)
    make_user("alice")
    one, two = create_app(settings), create_app(settings)
    with TestClient(one) as a, TestClient(two) as b:
        assert api_login(a, "alice", "wrong one").status_code == 401
        assert api_login(b, "alice", "wrong two").status_code == 401
        assert api_login(a, "alice", TEST_PASSWORD).status_code == 429
        assert api_login(b, "alice", TEST_PASSWORD).status_code == 429


# --- no password hash in templates or JSON -------------------------------------------------


def walk(value, seen=None):  # type: ignore[no-untyped-def]
    seen = seen if seen is not None else set()
    if id(value) in seen:
        return
    seen.add(id(value))
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item, seen)
    elif isinstance(value, list | tuple | set):
        for item in value:
            yield from walk(item, seen)


@pytest.mark.parametrize("path", ["/", "/account/password", "/login", "/signup"])
def test_templates_never_see_a_user_row_or_hash(learner_client: TestClient, path: str) -> None:
    response = learner_client.get(path, follow_redirects=False)
    if response.status_code == 303:  # the login and sign-up pages send a logged-in user on
        return
    context = response.context  # type: ignore[attr-defined]
    assert isinstance(context["current_user"], UserPublic)
    for value in walk({k: v for k, v in context.items() if k != "request"}):
        assert not isinstance(value, User)
        assert not (isinstance(value, str) and "$argon2" in value)
    assert "$argon2" not in response.text and "password_hash" not in response.text


def test_json_never_carries_the_hash(client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    login = api_login(client, "alice", TEST_PASSWORD)
    me = client.get("/api/me")
    for response in (login, me):
        assert "$argon2" not in response.text
        assert "password" not in response.text
    assert set(me.json()) == set(UserPublic.model_fields)
