"""Bodies are bounded before they are read: no session means 403 at once, and each
kind of visitor has its own size limit (the admin uploads the largest)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient

from tests.conftest import make_settings


def chunks(total: int, size: int = 1 << 16) -> Iterator[bytes]:
    """A body streamed without Content-Length (chunked)."""
    sent = 0
    while sent < total:
        part = min(size, total - sent)
        sent += part
        yield b"a" * part


def test_a_post_without_a_session_is_refused_before_its_body_is_read(client: TestClient) -> None:
    read = 0

    def counting() -> Iterator[bytes]:
        nonlocal read
        for part in chunks(8 << 20):
            read += len(part)
            yield part

    response = client.post(
        "/login",
        content=counting(),
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert read < 8 << 20  # refused before the whole upload was consumed


def test_anonymous_session_gets_a_small_limit(client: TestClient) -> None:
    token = client.get("/api/auth/csrf").json()["csrf_token"]
    big = "x" * (200 << 10)
    response = client.post(
        "/api/auth/login",
        json={"username": "alice", "password": big},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_learner_json_over_the_limit_gets_413_declared_or_streamed(learner_client) -> None:  # type: ignore[no-untyped-def]
    declared = learner_client.post(
        "/api/review/grade", content=b"[" * (2 << 20), headers={"content-type": "application/json"}
    )
    assert declared.status_code == 413
    streamed = learner_client.post(
        "/api/review/grade",
        content=chunks(2 << 20),
        headers={"content-type": "application/json"},
    )
    assert streamed.status_code == 413
    ok = learner_client.post("/api/review/grade", json={"card_id": "none"})
    assert ok.status_code == 422  # small bodies still reach the route


def test_admin_uploads_may_be_larger(tmp_path, database_url, content_dir, make_user) -> None:  # type: ignore[no-untyped-def]
    from app.main import create_app
    from tests.conftest import log_in

    settings = make_settings(tmp_path, database_url, content_dir, max_upload_bytes=4 << 20)
    make_user("root", role="admin")
    with TestClient(create_app(settings)) as admin:
        token = log_in(admin, "root")
        admin.headers["X-CSRF-Token"] = token
        files = {"file": ("cards.zip", b"PK" + b"\0" * (2 << 20), "application/zip")}
        upload = admin.post("/admin/upload", files=files)
        assert upload.status_code == 400  # reached the route: not a valid zip
        too_big = {"file": ("cards.zip", b"\0" * (5 << 20), "application/zip")}
        assert admin.post("/admin/upload", files=too_big).status_code == 413
        # Elsewhere the ordinary limit holds, for admins too.
        assert admin.post("/admin/preview", files=files).status_code == 413
