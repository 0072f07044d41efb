"""Setting the sandbox up (issue 13, 17): a virtualenv anywhere, a start that cannot work
fails at once with one sentence, a stop that is quick and starts nothing, and throw-away
workers for less trusted code."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import sysconfig
import textwrap
import time
from pathlib import Path

import pytest

from app.workers import sandbox
from app.workers.executor import RunnerUnavailable, run_blocking
from app.workers.pool import LocalPool, PoolConfig
from tests.workers.conftest import make_job

PROJECT_ROOT = Path(__file__).resolve().parents[2]
needs_bwrap = pytest.mark.skipif(
    sandbox.bwrap_path() is None, reason="bubblewrap (/usr/bin/bwrap) is not installed"
)


@needs_bwrap
def test_a_virtualenv_outside_the_project_under_tmp_works(
    tmp_path: Path, hostile_dir: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # torch and friends come from the project's environment through a .pth file; the
    # interpreter itself (sys.prefix) is the one under /tmp.
    site = sysconfig.get_paths()["purelib"]
    venv_site = next((venv / "lib").glob("python3*/site-packages"))
    (venv_site / "project.pth").write_text(site + "\n")
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from app.workers.executor import run_blocking
        from app.workers.pool import LocalPool, PoolConfig
        from tests.workers.conftest import make_job
        assert sys.prefix.startswith({str(tmp_path)!r}), sys.prefix
        content = Path({str(hostile_dir)!r})
        pool = LocalPool(PoolConfig(content_dir=content, workers=1, extra_visible=[Path({site!r})]))
        pool.start()
        assert pool.wait_ready(90), pool.status()
        assert pool.status()["sandbox"].startswith("bwrap")
        outcome = run_blocking(pool, make_job(content, "quick", a=1.0, b=2.0))
        pool.stop()
        print("RESULT", outcome.status, outcome.result["metrics"]["sum"])
    """)
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", script],
        capture_output=True, text=True, timeout=180, cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )  # fmt: skip
    assert "RESULT succeeded 3.0" in done.stdout, done.stderr[-3000:]


def test_an_interpreter_the_sandbox_cannot_start_fails_at_once_in_one_sentence(
    hostile_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/venv/bin/python3")
    pool = LocalPool(PoolConfig(content_dir=hostile_dir, workers=1))
    started = time.monotonic()
    pool.start()
    try:
        with pytest.raises(RunnerUnavailable, match="/nonexistent/venv/bin/python3"):
            pool.wait_ready(30)
        assert time.monotonic() - started < 5
        with pytest.raises(RunnerUnavailable, match="could not start"):
            pool.runtime(wait_s=10)
    finally:
        pool.stop()


def test_a_zygote_that_dies_before_hello_is_reported_not_restarted_for_minutes(
    hostile_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = LocalPool(PoolConfig(content_dir=hostile_dir, workers=1))
    monkeypatch.setattr(
        pool,
        "_zygote_command",
        lambda fd: [
            "/bin/sh",
            "-c",
            "echo 'bwrap: setting up uid map: Permission denied' >&2; exit 1",
        ],
    )
    started = time.monotonic()
    pool.start()
    try:
        with pytest.raises(RunnerUnavailable, match="bubblewrap could not set up the sandbox"):
            pool.wait_ready(30)
        assert time.monotonic() - started < 10
    finally:
        pool.stop()


def test_stop_is_quick_and_a_ctrl_c_never_restarts_the_zygote(hostile_dir: Path) -> None:
    pool = LocalPool(PoolConfig(content_dir=hostile_dir, workers=2))
    pool.start()
    assert pool.wait_ready(60)
    proc = pool._proc
    assert proc is not None
    # Ctrl+C in a terminal signals the whole foreground process group: the zygote runs in
    # its own session, so it is not in it.
    assert os.getpgid(proc.pid) != os.getpgid(0)
    launched = []
    original = pool._launch
    pool._launch = lambda: (launched.append(1), original())[1]  # type: ignore[method-assign]
    started = time.monotonic()
    pool.stop()
    assert time.monotonic() - started < 2.0
    time.sleep(0.3)
    assert launched == [], "a zygote was started during shutdown"
    assert proc.poll() is not None


@needs_bwrap
def test_fresh_worker_jobs_each_get_a_process_of_their_own(
    pool: LocalPool, hostile_dir: Path
) -> None:
    def pid_of(fresh: bool) -> int:
        job = dataclasses.replace(make_job(hostile_dir, "probe", attack="pid"), fresh_worker=fresh)
        outcome = run_blocking(pool, job)
        assert outcome.status == "succeeded", outcome
        assert outcome.result is not None
        return int(outcome.result["metrics"]["pid"])

    fresh = {pid_of(True) for _ in range(4)}
    assert len(fresh) == 4
    assert not fresh & {pid_of(False) for _ in range(4)}


def test_production_without_bwrap_refuses_runs_at_once(
    hostile_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    pool = LocalPool(PoolConfig(content_dir=hostile_dir, workers=1, require_sandbox=True))
    pool.start()
    try:
        with pytest.raises(RunnerUnavailable, match="production needs the bubblewrap sandbox"):
            pool.runtime(wait_s=10)
        assert pool._proc is None  # nothing was started unsandboxed
    finally:
        pool.stop()
