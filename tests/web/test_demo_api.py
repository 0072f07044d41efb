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
from sqlmodel import Session, col, select

from app.main import create_app
from app.models.demo_run import DemoRun
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


def logged_in(client: TestClient, username: str = "learner") -> TestClient:
    """Creates the learner and logs the client in (runs that miss the cache need it)."""
    from app.db import session_scope
    from app.services import accounts
    from tests.conftest import TEST_PASSWORD, log_in

    app = client.app
    # A writer transaction from the start: a deferred one can deadlock with the sweeper.
    with session_scope(app.state.engine, write=True) as session:  # type: ignore[attr-defined]
        accounts.create_user(
            session, username, TEST_PASSWORD,
            passwords=accounts.passwords_from_settings(app.state.settings),  # type: ignore[attr-defined]
        )  # fmt: skip
    log_in(client, username)
    return client


@pytest.fixture
def demo_client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    content = hostile_content(tmp_path / "hostile")
    settings = make_settings(
        tmp_path, database_url, content, demo_workers=2, demo_timeout_s=2, demo_memory_mb=700,
        demo_max_queued_per_user=1000,  # these tests are about the runner
    )  # fmt: skip
    app = create_app(settings)
    app.state.demo_rate_limiter.burst = 1000  # these tests are about the runner
    with TestClient(app) as client:
        assert app.state.demo_service.executor.wait_ready(60)
        yield logged_in(client)


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
    no_csrf = client.post("/api/demos/quick/runs", json={}, headers={"X-CSRF-Token": "forged"})
    assert no_csrf.status_code == 403

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
    assert client.get("/demos/quick").status_code == 200  # warm: the first render compiles
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
    settings = make_settings(
        tmp_path, database_url, content, demo_workers=1, demo_queue_size=2,
        demo_max_queued_per_user=1000,
    )  # fmt: skip
    app = create_app(settings)
    app.state.demo_rate_limiter.burst = 1000
    with TestClient(app) as client:
        assert app.state.demo_service.executor.wait_ready(60)
        logged_in(client)
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

    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    content = hostile_content(tmp_path / "hostile")
    settings = make_settings(
        tmp_path, database_url, content, environment="production", demo_workers=1,
        secret_key="a-real-production-secret-for-this-test",
    )  # fmt: skip
    app = create_app(settings)
    # Production cookies are Secure: the client talks HTTPS, as a browser would there.
    with TestClient(app, base_url="https://testserver") as client:
        logged_in(client)
        started = time.monotonic()
        response = client.post("/api/demos/quick/runs", json={"a": 1})
        assert time.monotonic() - started < 5
        assert response.status_code == 503
        assert "production needs the bubblewrap sandbox" in response.json()["detail"]
        assert app.state.demo_service.executor._proc is None


def test_bad_bodies_get_a_4xx_naming_the_problem(client: TestClient) -> None:
    (client.app.state.settings.content_dir / "demos" / "quick.py").write_text(  # type: ignore[attr-defined]
        (Path(__file__).parents[1] / "workers/hostile_demos/quick.py").read_text()
    )
    logged_in(client)
    post = lambda body: client.post(  # noqa: E731
        "/api/demos/quick/runs", content=body, headers={"Content-Type": "application/json"}
    )
    invalid_utf8 = post(b'{"a": "\xff\xfe"}')
    assert invalid_utf8.status_code == 400 and "UTF-8" in invalid_utf8.json()["detail"]
    deep = post(b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert deep.status_code in (413, 422)
    nested = post(b'{"a": ' + b"[" * 50 + b"]" * 50 + b"}")
    assert nested.status_code == 422 and "nested deeper" in nested.json()["detail"]
    assert post(b"[1, 2]").status_code == 422
    assert post(b"{nope").status_code == 422
    assert post(b" " * 10 + b'{"a": 1}' + b" " * 20_000).status_code == 413
    assert client.get("/healthz").status_code == 200


def test_anonymous_visitors_get_cached_runs_only_and_no_streams(demo_client: TestClient) -> None:
    client = demo_client
    started = client.post("/api/demos/quick/runs", json={"a": 11}).json()
    assert wait_done(client, started["id"])["status"] == "succeeded"
    client.post("/api/auth/logout")
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    token = client.get("/api/auth/csrf").json()["csrf_token"]
    headers = {"X-CSRF-Token": token}
    cached = client.post("/api/demos/quick/runs", json={"a": 11}, headers=headers)
    assert cached.status_code == 200 and cached.json()["cached"]
    fresh = client.post("/api/demos/quick/runs", json={"a": 12}, headers=headers)
    assert fresh.status_code == 401 and "Log in" in fresh.json()["detail"]
    assert client.get(started["events_url"]).status_code == 401


def test_queued_runs_are_capped_per_learner_and_shared_fairly(
    tmp_path: Path, database_url: str
) -> None:
    content = hostile_content(tmp_path / "hostile")
    settings = make_settings(
        tmp_path, database_url, content, demo_workers=1, demo_max_queued_per_user=3,
        demo_streams_per_client=2,
    )  # fmt: skip
    app = create_app(settings)
    app.state.demo_rate_limiter.burst = 1000
    clients = []
    with TestClient(app) as first:
        assert app.state.demo_service.executor.wait_ready(60)
        # Five fresh accounts with eight runs each, then a real learner's one run.
        codes: dict[str, list[int]] = {}
        ids: list[str] = []
        for n in range(5):
            c = TestClient(app)
            clients.append(logged_in(c, f"fresh{n}"))
            for i in range(8):
                r = c.post("/api/demos/sleepy/runs", json={"seconds": 1.0 + n / 100 + i / 1000})
                codes.setdefault(f"fresh{n}", []).append(r.status_code)
                if r.status_code == 202:
                    ids.append(r.json()["id"])
                else:
                    assert "already have 3 demo runs" in r.json()["detail"]
        assert all(c.count(202) == 3 and c.count(429) == 5 for c in codes.values()), codes
        learner = logged_in(first, "learner")

        def unfinished(status: tuple[str, ...]) -> int:
            with Session(app.state.engine) as session:
                return len(session.exec(
                    select(DemoRun).where(col(DemoRun.id).in_(ids), col(DemoRun.status).in_(status))
                ).all())  # fmt: skip

        waiting = unfinished(("queued",))
        mine = learner.post("/api/demos/sleepy/runs", json={"seconds": 0.05})
        assert mine.status_code == 202
        # Streams: a session is needed, and at most two at once per learner.
        with (
            learner.stream("GET", mine.json()["events_url"]) as s1,
            learner.stream("GET", mine.json()["events_url"]) as s2,
        ):
            assert s1.status_code == s2.status_code == 200
            third = learner.get(mine.json()["events_url"])
            assert third.status_code == 429
        view = wait_done(learner, mine.json()["id"], timeout_s=30)
        assert view["status"] == "succeeded"
        # Served in turn: the learner waited for at most one run of each other account
        # (and the one running), not for every run queued before theirs.
        assert waiting >= 7, "the accounts' runs should still be waiting here"
        assert unfinished(("queued", "running")) >= waiting - 6, waiting
        for c in clients:
            c.close()


def test_runs_a_crash_left_behind_fail_at_start_up(tmp_path: Path, database_url: str) -> None:
    import subprocess
    import sys

    from app.services.demo_runs import INTERRUPTED_REASON, lease_owner

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    host = lease_owner().rpartition(":")[0]
    content = hostile_content(tmp_path / "hostile")
    settings = make_settings(tmp_path, database_url, content, demo_workers=0)
    app = create_app(settings)
    with Session(app.state.engine) as session:
        session.add(DemoRun(
            id="crashed0", demo_name="quick", code_hash="h", cache_key="k", status="running",
            timings={"lease_at": time.time(), "lease_owner": f"{host}:{proc.pid}"},
        ))  # fmt: skip
        session.commit()
    with TestClient(app) as client:
        deadline = time.monotonic() + 5
        view = client.get("/api/demo-runs/crashed0").json()
        while not view["done"] and time.monotonic() < deadline:
            time.sleep(0.05)
            view = client.get("/api/demo-runs/crashed0").json()
        assert view["status"] == "failed" and view["reason"] == INTERRUPTED_REASON
        assert "lease_at" not in view["timings"]
