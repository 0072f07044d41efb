"""Browser fixtures, shared by every browser test.

``live_server``: the real app under uvicorn in a subprocess, on a free loopback port, with
its own data dir, a migrated SQLite database and the project's content imported.
``browser_page``: a Playwright (sync) page in Debian's Chromium that fails the test on a
console error or on any request to another origin, and leaves a screenshot in the test's
tmp dir. Mark tests ``@pytest.mark.browser``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app import migrate

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class LiveServer:
    base_url: str
    data_dir: Path
    content_dir: Path
    database_url: str
    log_path: Path
    process: subprocess.Popen

    def url(self, path: str) -> str:
        return self.base_url + path

    def get_json(self, path: str) -> dict:
        with urllib.request.urlopen(self.url(path), timeout=10) as response:
            return json.loads(response.read())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def import_content(database_url: str, content_dir: Path) -> None:
    """Imports the cards with the importer when it is there; a page test without cards
    (the standalone demo page) still works when it is not."""
    try:
        from app.db import make_engine, session_scope
        from app.services.importer import import_tree
    except ImportError:
        warnings.warn("app.services.importer is not available: no cards imported", stacklevel=2)
        return
    engine = make_engine(database_url)
    try:
        with session_scope(engine, write=True) as session:
            import_tree(session, content_dir)
    except Exception as exc:  # noqa: BLE001 - the server is still useful without cards
        warnings.warn(f"content import failed, no cards imported: {exc}", stacklevel=2)
    finally:
        engine.dispose()


def start_live_server(
    root: Path, content_dir: Path, env: dict[str, str] | None = None, ready_path: str = "/healthz"
) -> LiveServer:
    data_dir = root / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{data_dir / 'backprop.db'}"
    migrate.upgrade(database_url)
    import_content(database_url, content_dir)
    port = free_port()
    environment = {
        **os.environ,
        "BACKPROP_ENVIRONMENT": "test",
        "BACKPROP_DATA_DIR": str(data_dir),
        "BACKPROP_DATABASE_URL": database_url,
        "BACKPROP_CONTENT_DIR": str(content_dir),
        "BACKPROP_SECRET_KEY": "browser-test-secret",
        "BACKPROP_DEMO_WORKERS": "1",
        "BACKPROP_DEMO_DEVICE": "cpu",
        **(env or {}),
    }
    log_path = root / "server.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
        cwd=PROJECT_ROOT, env=environment, stdout=log_file, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    log_file.close()
    server = LiveServer(f"http://127.0.0.1:{port}", data_dir, content_dir, database_url,
                        log_path, process)  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}):\n{server.log()}")
        try:
            with urllib.request.urlopen(server.url(ready_path), timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_live_server(server)
            raise RuntimeError(f"the server did not answer within 30 s:\n{server.log()}")
        time.sleep(0.1)


def stop_live_server(server: LiveServer) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, 9)
            server.process.wait(5)


@pytest.fixture(scope="session")
def live_server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., LiveServer]]:
    """``live_server_factory(content_dir=None, env=None)``: more servers with other content
    or settings; all are stopped at the end of the session."""
    started: list[LiveServer] = []

    def make(content_dir: Path | None = None, env: dict[str, str] | None = None) -> LiveServer:
        root = tmp_path_factory.mktemp("live")
        server = start_live_server(root, content_dir or PROJECT_ROOT / "content", env)
        started.append(server)
        return server

    yield make
    for server in started:
        stop_live_server(server)


@pytest.fixture(scope="session")
def live_server(live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    """The app on the project's content, one per test session."""
    return live_server_factory()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(browser, live_server: LiveServer, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A fresh page; ``page.goto(live_server.url("/..."))``. Fails the test on console
    errors, uncaught exceptions, and requests to any origin but the live server's."""
    context = browser.new_context(base_url=live_server.base_url)
    page = context.new_page()
    errors: list[str] = []
    foreign: list[str] = []
    own = urlsplit(live_server.base_url).netloc

    failed: list[str] = []

    def on_console(msg) -> None:  # type: ignore[no-untyped-def]
        # Chromium asks for /favicon.ico on its own; its 404 is not the page's error.
        if msg.type == "error" and "favicon.ico" not in (msg.location or {}).get("url", ""):
            errors.append(msg.text)

    def on_response(response) -> None:  # type: ignore[no-untyped-def]
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            failed.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("response", on_response)

    def check_request(request) -> None:  # type: ignore[no-untyped-def]
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != own:
            foreign.append(request.url)

    page.on("request", check_request)
    page.errors = errors  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        # A failed screenshot must not hide the real failure.
        with contextlib.suppress(Exception):
            page.screenshot(path=str(tmp_path / "screenshot.png"), full_page=True)
        context.close()
    # A 4xx/5xx a test provokes on purpose (page.request) does not pass through here.
    assert not errors, f"console errors: {errors}; failed responses: {failed}"
    assert not foreign, f"requests to other origins: {foreign}"


def wait_until(page, expression: str, timeout_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Poll a JavaScript expression until it is truthy. Playwright's wait_for_function
    compiles its predicate with eval, which the app's Content-Security-Policy forbids."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s} s: {expression}")
        time.sleep(0.05)


def editor_server(
    live_server_factory: Callable[..., LiveServer],
    tmp_path_factory,
    prefix: str,  # type: ignore[no-untyped-def]
) -> LiveServer:
    """A server on a private content tree (the editor writes files): the project's demos
    and no cards, with an admin "editor" and a learner "learner"."""
    from sqlmodel import Session

    from app.db import make_engine
    from app.services import accounts
    from app.settings import Settings
    from tests.conftest import TEST_PASSWORD

    content = tmp_path_factory.mktemp(prefix) / "content"
    (content / "cards").mkdir(parents=True)
    shutil.copytree(PROJECT_ROOT / "content" / "demos", content / "demos")
    server = live_server_factory(content_dir=content)
    settings = Settings(_env_file=None, environment="test", database_url=server.database_url)  # type: ignore[call-arg]
    engine = make_engine(server.database_url)
    with Session(engine) as session:
        for name, role in (("editor", "admin"), ("learner", "learner")):
            accounts.create_user(
                session, name, TEST_PASSWORD, role=role,
                passwords=accounts.passwords_from_settings(settings),
            )  # fmt: skip
    engine.dispose()
    return server


def copy_content(source: Path, target: Path) -> Path:
    """A private copy of a content tree, for a server a test may change."""
    shutil.copytree(source, target)
    return target
