"""Fixtures for the scale-out tests: the real local Redis (a DB number of its own, and a
key prefix per test so parallel runs never see each other's queues), `backprop worker`
processes, and uvicorn web processes on PostgreSQL or SQLite."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import skip_unless_available

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REDIS_ENV = "BACKPROP_TEST_REDIS_URL"


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        skip_unless_available(f"{REDIS_ENV} is not set (CI sets it)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        skip_unless_available(f"Redis at {url} is not answering: {exc}")
    return str(url)


@pytest.fixture
def queue_prefix(redis_url: str) -> Iterator[str]:
    """A fresh key prefix; its keys are deleted afterwards."""
    import redis

    prefix = f"bptest-{uuid.uuid4().hex[:10]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = [*client.scan_iter(f"{prefix}*"), *client.scan_iter(f"_kombu.binding*.{prefix}*")]
    if keys:
        client.delete(*keys)
    client.close()


@dataclass
class WorkerProcess:
    name: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL, no goodbye: the worker, its zygote and its forked runners."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def worker_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKPROP_")}
    env.update({"BACKPROP_ENVIRONMENT": "test", "BACKPROP_SECRET_KEY": "scale-test-secret"})
    env.update(values)
    return env


def wait_registered(redis_url: str, prefix: str, name: str, worker: WorkerProcess) -> dict:
    import redis

    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            raw = client.hget(f"{prefix}:demo-workers", name)
            if raw:
                return json.loads(raw)
            if worker.process.poll() is not None:
                raise AssertionError(f"the worker exited:\n{worker.log()}")
            time.sleep(0.1)
    finally:
        client.close()
    raise AssertionError(f"the worker did not register within 60 s:\n{worker.log()}")


@pytest.fixture
def start_worker(
    tmp_path: Path, redis_url: str, queue_prefix: str
) -> Iterator[Callable[..., WorkerProcess]]:
    """``start_worker(database_url, content_dir, **env)``: a `backprop worker` process,
    registered and ready; stopped at the end of the test."""
    started: list[WorkerProcess] = []

    def start(database_url: str, content_dir: Path, wait: bool = True, **env: str) -> WorkerProcess:
        name = f"w{len(started)}-{uuid.uuid4().hex[:6]}"
        log_path = tmp_path / f"{name}.log"
        values = {
            "BACKPROP_DATABASE_URL": database_url,
            "BACKPROP_CONTENT_DIR": str(content_dir),
            "BACKPROP_DATA_DIR": str(tmp_path / "worker-data"),
            "BACKPROP_DEMO_QUEUE": redis_url,
            "BACKPROP_DEMO_QUEUE_PREFIX": queue_prefix,
            "BACKPROP_DEMO_DEVICE": "cpu",
            "BACKPROP_DEMO_WORKERS": "1",
            "BACKPROP_DEMO_MEMORY_MB": "700",
            **env,
        }
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "worker", "--name", name],
                cwd=PROJECT_ROOT, env=worker_env(**values), stdout=log_file,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        worker = WorkerProcess(name, process, log_path)
        started.append(worker)
        if wait:
            wait_registered(redis_url, queue_prefix, name, worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@dataclass
class WebProcess:
    base_url: str
    process: subprocess.Popen
    log_path: Path

    def url(self, path: str) -> str:
        return self.base_url + path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_web(root: Path, database_url: str, content_dir: Path, **env: str) -> WebProcess:
    """One uvicorn process of the app, with a data dir of its own (so nothing on disk is
    shared but the database), answering /healthz."""
    import urllib.request

    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    values = {
        "BACKPROP_DATABASE_URL": database_url,
        "BACKPROP_CONTENT_DIR": str(content_dir),
        "BACKPROP_DATA_DIR": str(root / "data"),
        "BACKPROP_DEMO_WORKERS": "0",
        **env,
    }
    log_path = root / "web.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
            cwd=PROJECT_ROOT, env=worker_env(**values), stdout=log_file,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    web = WebProcess(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise AssertionError(f"the web process exited:\n{web.log()}")
        try:
            with urllib.request.urlopen(web.url("/healthz"), timeout=2) as response:
                if response.status == 200:
                    return web
        except OSError:
            pass
        if time.monotonic() > deadline:
            web.stop()
            raise AssertionError(f"the web process did not answer within 30 s:\n{web.log()}")
        time.sleep(0.1)


@pytest.fixture
def web_processes(tmp_path: Path) -> Iterator[Callable[..., list[WebProcess]]]:
    """``web_processes(n, database_url, content_dir, **env)``: n uvicorn processes on one
    database, stopped at the end of the test."""
    started: list[WebProcess] = []

    def start(n: int, database_url: str, content_dir: Path, **env: str) -> list[WebProcess]:
        webs = [
            start_web(tmp_path / f"web{len(started) + i}", database_url, content_dir, **env)
            for i in range(n)
        ]
        started.extend(webs)
        return webs

    yield start
    for web in started:
        web.stop()
