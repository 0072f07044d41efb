"""Sign-up, login, logout and password change through the pages and the JSON API."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import TEST_PASSWORD, log_in, make_settings


def page_token(client: TestClient, path: str = "/login") -> str:
    """The CSRF token from a page's hidden form field (and its meta tag: they agree)."""
    html = client.get(path).text
    field = re.search(r'name="csrf_token" value="([^"]+)"', html)
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert field and meta and field.group(1) == meta.group(1)
    return field.group(1)


def signup(client: TestClient, username: str = "alice", password: str = TEST_PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(
        "/signup",
        data={
            "username": username,
            "password": password,
            "password_confirm": password,
            "csrf_token": page_token(client, "/signup"),
        },
        follow_redirects=False,
    )


def form_login(client: TestClient, username: str, password: str, next: str = "/"):  # type: ignore[no-untyped-def]
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "next": next,
            "csrf_token": page_token(client),
        },
        follow_redirects=False,
    )


# --- sign-up -------------------------------------------------------------------


def test_signup_logs_the_new_user_in(client: TestClient) -> None:
    response = signup(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    me = client.get("/api/me")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    assert me.json()["role"] == "learner"
    home = client.get("/")
    assert "alice" in home.text and "Log out" in home.text


def test_signup_shows_the_problem_and_keeps_the_username(client: TestClient) -> None:
    response = signup(client, "alice", "short")
    assert response.status_code == 400
    assert "at least 8 characters" in response.text
    assert 'value="alice"' in response.text
    assert client.get("/api/me").status_code == 401


def test_signup_passwords_must_match(client: TestClient) -> None:
    response = client.post(
        "/signup",
        data={
            "username": "alice",
            "password": TEST_PASSWORD,
            "password_confirm": TEST_PASSWORD + "x",
            "csrf_token": page_token(client, "/signup"),
        },
    )
    assert response.status_code == 400
    assert "differ" in response.text


def test_signup_taken_username(client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    response = signup(client, "Alice")
    assert response.status_code == 400
    assert "taken" in response.text


def test_signup_can_be_closed(tmp_path, database_url, content_dir) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, database_url, content_dir, signup_open=False)
    with TestClient(create_app(settings)) as client:
        page = client.get("/signup")
        assert page.status_code == 403
        assert "Sign-up is closed" in page.text
        assert 'href="/signup"' not in client.get("/login").text
        token = page_token(client)
        response = client.post(
            "/signup",
            data={
                "username": "alice",
                "password": TEST_PASSWORD,
                "password_confirm": TEST_PASSWORD,
                "csrf_token": token,
            },
        )
        assert response.status_code == 403
        assert client.get("/api/me").status_code == 401


# --- login and logout --------------------------------------------------------------


def test_form_login_redirects_to_next(client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    response = form_login(client, "alice", TEST_PASSWORD, next="/account/password")
    assert response.status_code == 303
    assert response.headers["location"] == "/account/password"
    assert client.get("/account/password").status_code == 200


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil", "javascript:x"]
)
def test_login_never_redirects_off_site(client: TestClient, make_user, target: str) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    response = form_login(client, "alice", TEST_PASSWORD, next=target)
    assert response.headers["location"] == "/"


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    wrong = form_login(client, "alice", "wrong password")
    unknown = form_login(client, "nobody", "wrong password")
    assert wrong.status_code == unknown.status_code == 400
    assert "Wrong username or password." in wrong.text
    assert "Wrong username or password." in unknown.text
    assert client.get("/api/me").status_code == 401


def test_login_page_when_logged_in_goes_on(client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    log_in(client, "alice")
    response = client.get("/login?next=/account/password", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/password"


def test_logout(client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    form_login(client, "alice", TEST_PASSWORD)
    token = page_token(client, "/")
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/api/me").status_code == 401
    assert "Log in" in client.get("/").text


def test_logout_everywhere_ends_other_sessions(app, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    with TestClient(app) as laptop, TestClient(app) as phone:
        log_in(laptop, "alice")
        log_in(phone, "alice")
        response = laptop.post("/logout", data={"everywhere": "1"})
        assert response.status_code == 200  # followed the redirect home
        assert laptop.get("/api/me").status_code == 401
        assert phone.get("/api/me").status_code == 401


# --- password change ---------------------------------------------------------------


def test_password_page_needs_login(client: TestClient) -> None:
    response = client.get("/account/password", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount%2Fpassword"


def test_change_password_keeps_this_session_and_ends_the_others(app, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    with TestClient(app) as laptop, TestClient(app) as phone:
        log_in(laptop, "alice")
        log_in(phone, "alice")
        token = page_token(laptop, "/account/password")
        response = laptop.post(
            "/account/password",
            data={
                "current_password": TEST_PASSWORD,
                "password": "a brand new passphrase",
                "password_confirm": "a brand new passphrase",
                "csrf_token": token,
            },
        )
        assert response.status_code == 200
        assert "Password changed" in response.text
        assert laptop.get("/api/me").status_code == 200
        assert phone.get("/api/me").status_code == 401
    with TestClient(app) as fresh:
        assert form_login(fresh, "alice", TEST_PASSWORD).status_code == 400
        assert form_login(fresh, "alice", "a brand new passphrase").status_code == 303


def test_change_password_wrong_current(client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    log_in(client, "alice")
    response = client.post(
        "/account/password",
        data={
            "current_password": "not it at all",
            "password": "a brand new passphrase",
            "password_confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 400
    assert "Current password is wrong" in response.text
    assert client.get("/api/me").status_code == 200


# --- the JSON API --------------------------------------------------------------------


def test_api_login_me_logout(client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    anonymous_token = client.get("/api/auth/csrf").json()["csrf_token"]
    response = client.post(
        "/api/auth/login",
        json={"username": "alice", "password": TEST_PASSWORD},
        headers={"X-CSRF-Token": anonymous_token},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["username"] == "alice"
    token = body["csrf_token"]
    assert token != anonymous_token  # a new session at login

    me = client.get("/api/me")
    assert me.status_code == 200 and me.json()["id"] == body["user"]["id"]

    # The pre-login token is void now.
    stale = client.post("/api/auth/logout", headers={"X-CSRF-Token": anonymous_token})
    assert stale.status_code == 403
    out = client.post("/api/auth/logout", headers={"X-CSRF-Token": token})
    assert out.status_code == 200
    assert client.get("/api/me").status_code == 401


def test_api_login_wrong_password(client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    token = client.get("/api/auth/csrf").json()["csrf_token"]
    response = client.post(
        "/api/auth/login",
        json={"username": "alice", "password": "nope nope"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "Wrong username or password."}


def test_api_me_anonymous_is_401_not_a_redirect(client: TestClient) -> None:
    response = client.get("/api/me", follow_redirects=False)
    assert response.status_code == 401


def test_nav_shows_login_links_to_visitors(client: TestClient) -> None:
    html = client.get("/").text
    assert 'href="/login"' in html and 'href="/signup"' in html
    assert '<script src="/static/js/csrf.js" defer></script>' in html
