"""Logout ends the cookie, cookies are Secure in production by default, sign-ups are
rate-limited per address, and a login that finds every hash slot busy gets 503."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from app.main import create_app
from app.web import security
from tests.conftest import TEST_PASSWORD, log_in, make_settings
from tests.web.test_security import api_login, page_token, set_cookie_header


def test_logout_revokes_the_cookie_but_not_other_sessions(app, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    with TestClient(app) as laptop, TestClient(app) as phone:
        log_in(laptop, "alice")
        log_in(phone, "alice")
        stolen = laptop.cookies[security.SESSION_COOKIE]
        token = page_token(laptop, "/")
        assert laptop.post("/logout", data={"csrf_token": token}).status_code in (200, 303)
        assert laptop.get("/api/me").status_code == 401
        # The cookie as it was before logout (a copy kept by an attacker) is dead too.
        with TestClient(app, cookies={security.SESSION_COOKIE: stolen}) as replay:
            assert replay.get("/api/me").status_code == 401
        assert phone.get("/api/me").json()["username"] == "alice"
        # The JSON API's logout does the same.
        api_stolen = phone.cookies[security.SESSION_COOKIE]
        phone.post("/api/auth/logout", headers={"X-CSRF-Token": page_token(phone, "/")})
        with TestClient(app, cookies={security.SESSION_COOKIE: api_stolen}) as replay:
            assert replay.get("/api/me").status_code == 401


def test_cookies_are_secure_in_production_unless_turned_off(
    tmp_path, database_url, content_dir
) -> None:  # type: ignore[no-untyped-def]
    production = make_settings(
        tmp_path, database_url, content_dir, environment="production", secret_key="s" * 40
    )
    assert production.secure_cookies
    with TestClient(create_app(production), base_url="https://testserver") as client:
        cookie = set_cookie_header(client.get("/login"))
    assert re.search(r";\s*secure(;|$)", cookie, re.I)
    plain = production.model_copy(update={"https_only_cookies": False})
    assert not plain.secure_cookies
    assert not make_settings(tmp_path, database_url, content_dir).secure_cookies


def signup(client: TestClient, name: str):  # type: ignore[no-untyped-def]
    token = page_token(client, "/signup")
    return client.post(
        "/signup",
        data={
            "username": name,
            "password": TEST_PASSWORD,
            "password_confirm": TEST_PASSWORD,
            "csrf_token": token,
        },  # fmt: skip
        follow_redirects=False,
    )


def test_signups_are_limited_per_address(tmp_path, database_url, content_dir) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, database_url, content_dir, signup_max_per_address=3)
    app = create_app(settings)
    with TestClient(app, client=("203.0.113.5", 1000)) as prober:
        assert signup(prober, "first").status_code == 303
        prober.cookies.clear()
        assert signup(prober, "first").status_code == 400  # taken: this attempt counts too
        prober.cookies.clear()
        assert signup(prober, "second").status_code == 303
        prober.cookies.clear()
        refused = signup(prober, "third")
        assert refused.status_code == 429
        assert "Too many sign-ups" in refused.text and int(refused.headers["retry-after"]) > 0
    with TestClient(app, client=("198.51.100.9", 1000)) as other:
        assert signup(other, "third").status_code == 303


def test_a_login_with_no_free_hash_slot_gets_503(
    tmp_path, database_url, content_dir, make_user
) -> None:  # type: ignore[no-untyped-def]
    from app.services import accounts

    settings = make_settings(
        tmp_path, database_url, content_dir, password_hash_concurrency=1, password_hash_wait_s=0.05
    )
    make_user("alice")
    passwords = accounts.passwords_from_settings(settings)
    with TestClient(create_app(settings)) as client, passwords._slot():
        response = api_login(client, "alice", TEST_PASSWORD)
    assert response.status_code == 503
    assert response.json()["detail"]["code"] == "busy"
