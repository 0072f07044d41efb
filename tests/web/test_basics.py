"""Health, security headers, static assets and the request log, through httpx."""

from __future__ import annotations

import json
import logging

import pytest


def test_healthz_reports_the_database(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "writes": "ok"}


def test_healthz_fails_when_the_database_is_unreachable(tmp_path, content_dir) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none", content_dir)
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


def test_pages_carry_a_strict_content_security_policy(client) -> None:  # type: ignore[no-untyped-def]
    csp = client.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "http" not in csp  # no third-party origin


@pytest.mark.parametrize(
    "asset",
    [
        "/static/vendor/htmx/htmx.min.js",
        "/static/vendor/katex/katex.min.js",
        "/static/vendor/katex/katex.min.css",
        "/static/vendor/katex/fonts/KaTeX_Main-Regular.woff2",
        "/static/css/app.css",
        "/static/js/app.js",
    ],
)
def test_every_asset_is_served_by_the_app(client, asset: str) -> None:  # type: ignore[no-untyped-def]
    assert client.get(asset).status_code == 200


def test_base_page_references_no_other_origin(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/").text
    assert "http://" not in html and "https://" not in html


def test_one_structured_log_line_per_request(client, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO, logger="backprop.request"):
        client.get("/healthz")
        client.get("/no-such-page")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "backprop.request"]
    assert [(line["path"], line["status"]) for line in lines] == [
        ("/healthz", 200),
        ("/no-such-page", 404),
    ]
    assert all(line["ms"] >= 0 and line["method"] == "GET" for line in lines)


def test_card_images_are_served_but_nothing_else_under_content(client, settings) -> None:  # type: ignore[no-untyped-def]
    image = settings.content_dir / "cards" / "pic.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    (settings.content_dir / "demos" / "secret.py").write_text("TOKEN = 1\n")
    assert client.get("/content/cards/pic.png").status_code == 200
    assert client.get("/content/demos/secret.py").status_code == 404
    assert client.get("/content/../pyproject.toml").status_code == 404
    assert client.get("/content/cards/%2e%2e/%2e%2e/secret.png").status_code == 404


def test_people_get_an_error_page_and_the_api_gets_json(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/cards/no-such-card", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Not found" in page.text
    api = client.get("/api/demo-runs/999999", headers={"accept": "text/html"})
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/json")
