"""The queue backend against the real local Redis: a `backprop worker` process started
here runs demos submitted through the API; killing it mid-run leaves a failed run with a
clear sentence; Redis unreachable gives a clear 503 while the rest of the app works."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import make_settings
from tests.web.test_demo_api import csrf_headers, wait_done
from tests.workers.conftest import hostile_content


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return hostile_content(tmp_path / "hostile")


def queue_client(tmp_path: Path, database_url: str, content: Path, **overrides) -> TestClient:
    settings = make_settings(tmp_path, database_url, content, **overrides)
    app = create_app(settings)
    app.state.demo_rate_limiter.burst = 1000  # these tests are about the runner
    return TestClient(app)


def wait_status(client: TestClient, run_id: str, status: str, timeout_s: float = 20) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        view = client.get(f"/api/demo-runs/{run_id}").json()
        if view["status"] == status:
            return view
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached {status!r}: {view}")


@pytest.fixture
def web(
    tmp_path: Path, database_url: str, content: Path, redis_url: str, queue_prefix: str
) -> Iterator[TestClient]:
    with queue_client(
        tmp_path, database_url, content, demo_queue=redis_url, demo_queue_prefix=queue_prefix,
        demo_lease_s=2, demo_timeout_s=30,
    ) as client:  # fmt: skip
        from tests.web.test_demo_api import logged_in

        yield logged_in(client)  # a run that misses the cache needs an account


def test_a_worker_process_runs_api_runs_and_a_killed_one_fails_its_run(
    web: TestClient, database_url: str, content: Path, start_worker
) -> None:
    headers = csrf_headers(web)
    # No worker yet: refused with a sentence that says what to do; nothing recorded.
    refused = web.post("/api/demos/quick/runs", json={"a": 1}, headers=headers)
    assert refused.status_code == 503
    assert "backprop worker" in refused.json()["detail"]

    worker = start_worker(
        database_url, content, BACKPROP_DEMO_TIMEOUT_S="30", BACKPROP_DEMO_LEASE_S="2"
    )
    runner = web.get("/api/demos").json()["runner"]
    assert runner["backend"] == "redis" and runner["ready"]
    (info,) = runner["workers"]
    assert info["name"] == worker.name and info["device"] == "cpu"
    assert "quick" in info["demos"] and info["torch"]

    started = web.post("/api/demos/quick/runs", json={"a": 4, "b": 5}, headers=headers)
    assert started.status_code == 202, started.text
    run = wait_done(web, started.json()["id"], timeout_s=30)
    assert run["status"] == "succeeded", run
    assert run["result"]["metrics"]["sum"] == 9.0 and run["device"] == "cpu"
    assert run["timings"]["run_ms"] >= 0
    again = web.post("/api/demos/quick/runs", json={"a": 4, "b": 5}, headers=headers)
    assert again.status_code == 200 and again.json()["cached"]

    # A run the sandbox stops is reported exactly as on the in-process path.
    bad = web.post("/api/demos/escape_write/runs", json={}, headers=headers).json()
    assert wait_done(web, bad["id"], timeout_s=30)["reason_code"] == "sandbox"

    # Kill the worker mid-run: the run is failed with a clear sentence, not left running.
    slow = web.post("/api/demos/sleepy/runs", json={"seconds": 25}, headers=headers).json()
    wait_status(web, slow["id"], "running")
    worker.kill()
    # Accepted just after the only worker died (its registration is still fresh): failed
    # as soon as no live worker serves its device, not after demo_queue_wait_s.
    orphan = web.post("/api/demos/quick/runs", json={"a": 3}, headers=headers)
    failed = wait_status(web, slow["id"], "failed", timeout_s=20)
    assert failed["reason_code"] == "crashed"
    assert "worker" in failed["reason"] and "lost" in failed["reason"]
    # Once its registration goes stale, new runs are refused again.
    deadline = time.monotonic() + 20
    while web.get("/api/demos").json()["runner"]["ready"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert web.post("/api/demos/quick/runs", json={"a": 2}, headers=headers).status_code == 503
    if orphan.status_code == 202:
        lost = wait_status(web, orphan.json()["id"], "failed", timeout_s=30)
        assert "No demo worker is connected" in lost["reason"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_redis_down_refuses_runs_with_a_clear_error_and_the_rest_works(
    tmp_path: Path, database_url: str, content: Path, make_user
) -> None:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    with queue_client(tmp_path, database_url, content, demo_queue=url) as client:
        assert client.get("/healthz").status_code == 200
        runner = client.get("/api/demos").json()["runner"]
        assert runner["ready"] is False and "cannot be reached" in runner["error"]
        started = time.monotonic()
        response = client.post("/api/demos/quick/runs", json={}, headers=csrf_headers(client))
        assert time.monotonic() - started < 5
        assert response.status_code == 503 and response.headers["Retry-After"]
        detail = response.json()["detail"]
        assert f"127.0.0.1:{url.split(':')[2]}" in detail and "cannot be reached" in detail
        assert "Everything else works" in detail
        assert client.get("/demos/quick").status_code == 200
        make_user("learner")
        from tests.conftest import log_in

        log_in(client, "learner")
        assert client.get("/api/review/next").status_code == 200


@pytest.mark.parametrize("device", ["cuda", "auto"])
def test_a_worker_that_cannot_see_a_gpu_says_so_and_runs_on_cpu_only_if_told(
    tmp_path: Path, database_url: str, content: Path, start_worker, device: str
) -> None:
    refused = start_worker(database_url, content, wait=False, BACKPROP_DEMO_DEVICE=device,
                           CUDA_VISIBLE_DEVICES="")  # fmt: skip
    assert refused.process.wait(120) == 3
    assert "cannot see a GPU" in refused.log() and "BACKPROP_DEMO_DEVICE=cpu" in refused.log()
