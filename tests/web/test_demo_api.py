"""The demo API over a real pool: start, poll, stream, cache, limits, 422/429, and the
server serving pages while a hostile demo runs."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import make_settings
from tests.workers.conftest import hostile_content


def csrf_headers(client: TestClient, page: str = "/demos/quick") -> dict[str, str]:
    html = client.get(page).text
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "the demo page carries the CSRF token"
    return {"X-CSRF-Token": match.group(1)}


def wait_done(client: TestClient, run_id: str, timeout_s: float = 20) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        view = client.get(f"/api/demo-runs/{run_id}").json()
        if view["done"]:
            return view
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish")


@pytest.fixture
def demo_client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    content = hostile_content(tmp_path / "hostile")
    settings = make_settings(
        tmp_path, database_url, content, demo_workers=2, demo_timeout_s=2, demo_memory_mb=700
    )
    app = create_app(settings)
    app.state.demo_rate_limiter.burst = 1000  # these tests are about the runner
    with TestClient(app) as client:
        assert app.state.demo_service.executor.wait_ready(60)
        yield client


def test_run_lifecycle_cache_errors_and_pages_meanwhile(demo_client: TestClient) -> None:
    client = demo_client
    headers = csrf_headers(client)

    listing = client.get("/api/demos").json()
    quick = next(d for d in listing["demos"] if d["name"] == "quick")
    assert quick["params_schema"]["properties"]["a"]["maximum"] == 100
    assert quick["claims"] == {"sum-correct": "a + b is computed exactly."}
    assert listing["runner"]["ready"] and listing["runner"]["sandbox"]

    # Out of bounds: 422 naming the field; unknown demo: 404.
    bad = client.post("/api/demos/quick/runs", json={"a": 1000, "nope": 1}, headers=headers)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"a", "nope"}
    assert client.post("/api/demos/missing/runs", json={}, headers=headers).status_code == 404
    assert client.post("/api/demos/quick/runs", json={}).status_code == 403  # no CSRF token

    # A run: 202, then the result; the same params again come from the cache.
    started = client.post("/api/demos/quick/runs", json={"a": 4, "b": 5}, headers=headers)
    assert started.status_code == 202
    run = wait_done(client, started.json()["id"])
    assert run["status"] == "succeeded" and not run["cached"]
    assert run["result"]["metrics"]["sum"] == 9.0
    assert run["device"] == "cpu" and run["torch_version"] and run["timings"]["run_ms"] >= 0
    cached = client.post("/api/demos/quick/runs", json={"b": 5.0, "a": 4.0}, headers=headers)
    assert cached.status_code == 200
    assert cached.json()["cached"] and cached.json()["result"] == run["result"]
    assert cached.json()["id"] != run["id"]

    # Server-sent events end with the finished run.
    started = client.post("/api/demos/quick/runs", json={"a": 7}, headers=headers).json()
    with client.stream("GET", started["events_url"]) as stream:
        events = [line for line in stream.iter_lines() if line.startswith("event:")]
    assert events[-1] == "event: done"

    # An infinite loop: pages keep being served while it runs, then a clear reason.
    looping = client.post("/api/demos/infinite_loop/runs", json={}, headers=headers).json()
    latencies = []
    for _ in range(10):
        t = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        assert client.get("/demos/quick").status_code == 200
        latencies.append(time.perf_counter() - t)
        time.sleep(0.05)
    assert max(latencies) < 0.5
    failed = wait_done(client, looping["id"])
    assert failed["status"] == "failed" and failed["reason_code"] == "timeout"
    assert "longer than its 2 s limit" in failed["reason"]

    # Learners see the reason, never the traceback.
    raised = client.post("/api/demos/raises/runs", json={}, headers=headers).json()
    view = wait_done(client, raised["id"])
    assert view["reason"] == "The demo raised ValueError: the demo broke on purpose"
    assert "error_detail" not in view and "Traceback" not in str(view)

    # The pool recovered.
    again = client.post("/api/demos/quick/runs", json={"a": 1.5}, headers=headers).json()
    assert wait_done(client, again["id"])["status"] == "succeeded"


def test_a_full_queue_answers_429_with_retry_after(tmp_path: Path, database_url: str) -> None:
    content = hostile_content(tmp_path / "hostile")
    settings = make_settings(tmp_path, database_url, content, demo_workers=1, demo_queue_size=2)
    app = create_app(settings)
    app.state.demo_rate_limiter.burst = 1000
    with TestClient(app) as client:
        assert app.state.demo_service.executor.wait_ready(60)
        headers = csrf_headers(client)
        codes: list[int] = []
        retry: list[str] = []
        lock = threading.Lock()

        def post(i: int) -> None:
            r = client.post("/api/demos/sleepy/runs", json={"seconds": 0.3 + i / 1000},
                            headers=headers)  # fmt: skip
            with lock:
                codes.append(r.status_code)
                if r.status_code == 429:
                    retry.append(r.headers["Retry-After"])

        threads = [threading.Thread(target=post, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert set(codes) <= {202, 429} and 429 in codes and 202 in codes
        assert all(int(r) >= 1 for r in retry)
        assert client.get("/healthz").status_code == 200


def test_learners_are_rate_limited(client: TestClient, tmp_path: Path) -> None:
    # demo_workers=0 here: the limiter answers before the runner is asked.
    (client.app.state.settings.content_dir / "demos" / "quick.py").write_text(
        (Path(__file__).parents[1] / "workers/hostile_demos/quick.py").read_text()
    )
    headers = csrf_headers(client)
    codes = [
        client.post("/api/demos/quick/runs", json={}, headers=headers).status_code
        for _ in range(12)
    ]
    assert codes[:10] == [503] * 10  # no runner, but allowed through
    assert codes[10] == 429


def test_demo_page_renders_the_form_from_the_params_model(demo_client: TestClient) -> None:
    html = demo_client.get("/demos/quick").text
    assert 'data-demo="quick"' in html
    assert 'type="range"' in html and 'data-param="a"' in html
    assert "/static/js/demo.js" in html and "/static/css/demo.css" in html
    assert "<script>" not in html and "style=" not in html


def test_production_without_bubblewrap_refuses_demo_runs_with_a_clear_message(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.workers import sandbox
    from tests.conftest import log_in

    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    content = hostile_content(tmp_path / "hostile")
    settings = make_settings(
        tmp_path, database_url, content, environment="production", demo_workers=1,
        secret_key="a-real-production-secret-for-this-test",
    )  # fmt: skip
    app = create_app(settings)
    with TestClient(app) as client:
        from sqlmodel import Session

        from app.services import accounts

        with Session(app.state.engine) as session:
            accounts.create_user(
                session, "learner", "correct horse battery",
                passwords=accounts.passwords_from_settings(settings),
            )  # fmt: skip
        log_in(client, "learner")
        started = time.monotonic()
        response = client.post("/api/demos/quick/runs", json={"a": 1})
        assert time.monotonic() - started < 5
        assert response.status_code == 503
        assert "production needs the bubblewrap sandbox" in response.json()["detail"]
        assert app.state.demo_service.executor._proc is None
