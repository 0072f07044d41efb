"""Bad input gets a 4xx naming the problem, never a 500; /docs is off in production."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import make_settings

HUGE = str(2**70)
JSON = {"content-type": "application/json"}


def lenient(client: TestClient) -> TestClient:
    """The same logged-in visitor, with errors raised inside the app sent back as the
    responses a real server would send (500), not raised into the test."""
    return TestClient(
        client.app, raise_server_exceptions=False, cookies=client.cookies, headers=client.headers
    )


def test_a_null_byte_in_a_content_path_is_404(client: TestClient) -> None:
    assert client.get("/content/%00.png").status_code == 404
    assert client.get("/content/cards/a%00b.png").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        b'{"card_id": "\\ud800", "rating": 3, "version": 0, "idempotency_key": "k"}',
        b'{"card_id": "a", "rating": 3, "version": 0, "idempotency_key": "\\udfff"}',
    ],
)
def test_a_lone_surrogate_in_grade_json_is_422(learner_client: TestClient, body: bytes) -> None:
    response = lenient(learner_client).post("/api/review/grade", content=body, headers=JSON)
    assert response.status_code == 422, response.text


def test_a_naive_time_on_recall_is_422(learner_client: TestClient) -> None:
    response = learner_client.get("/api/review/recall?at=2026-01-01T00:00:00")
    assert response.status_code == 422
    assert "time zone" in response.json()["detail"]["message"]
    assert learner_client.get("/api/review/recall?at=2026-01-01T00:00:00Z").status_code == 200


def test_huge_path_integers_are_4xx(admin_client: TestClient) -> None:
    strict = lenient(admin_client)
    for method, path in [
        ("get", f"/api/interview/{HUGE}"),
        ("get", f"/api/interview/{HUGE}/report"),
        ("post", f"/admin/cards/some-card/revert/{HUGE}"),
    ]:
        response = getattr(strict, method)(path)
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
    body = f'{{"card_id": "a", "rating": 3, "idempotency_key": "k", "version": {HUGE}}}'.encode()
    assert strict.post("/api/review/grade", content=body, headers=JSON).status_code < 500


def test_docs_and_schema_are_off_in_production(tmp_path, database_url, content_dir) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(
        tmp_path, database_url, content_dir, environment="production", secret_key="s" * 40
    )
    with TestClient(create_app(settings)) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert client.get(path).status_code == 404
    development = make_settings(tmp_path, database_url, content_dir)
    with TestClient(create_app(development)) as client:
        assert client.get("/openapi.json").status_code == 200
