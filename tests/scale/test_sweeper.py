"""The rules that keep a queued run from being lost or run twice, on both databases:
claim_run (queued -> running once) and sweep_lost_runs (lease expired, overdue, never
taken). And the web process with the queue backend still never imports torch."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import timedelta

from sqlmodel import Session

from app.models.base import utcnow
from app.models.demo_run import DemoRun
from app.services.demo_runs import RunRecorder, claim_run, sweep_lost_runs
from app.workers.executor import Outcome, RunEvent


def add_run(engine, status: str, age_s: float) -> str:  # type: ignore[no-untyped-def]
    then = utcnow() - timedelta(seconds=age_s)
    run = DemoRun(id=uuid.uuid4().hex, demo_name="quick", code_hash="h", cache_key="k",
                  status=status, created_at=then,
                  started_at=then if status == "running" else None)  # fmt: skip
    run_id = run.id
    with Session(engine) as session:
        session.add(run)
        session.commit()
    return run_id


def status(engine, run_id: str) -> DemoRun:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as session:
        run = session.get(DemoRun, run_id)
        assert run is not None
        session.expunge(run)
        return run


def test_claim_is_once_and_the_sweeper_fails_only_lost_runs(any_engine) -> None:  # type: ignore[no-untyped-def]
    queued = add_run(any_engine, "queued", 1)
    assert claim_run(any_engine, queued) is True
    assert claim_run(any_engine, queued) is False  # a redelivered message is a no-op
    assert status(any_engine, queued).status == "running"

    leased = add_run(any_engine, "running", 30)
    lost = add_run(any_engine, "running", 30)
    young = add_run(any_engine, "running", 1)  # within its first lease: not judged yet
    overdue = add_run(any_engine, "running", 500)  # leased, but far past any timeout
    waiting = add_run(any_engine, "queued", 5)
    forgotten = add_run(any_engine, "queued", 900)
    asked: list[str] = []

    def alive(ids: list[str]) -> set[str]:
        asked.extend(ids)
        return {leased, overdue}

    failed = sweep_lost_runs(any_engine, alive=alive, lease_s=15, timeout_s=20,
                             queue_wait_s=600)  # fmt: skip
    assert failed == 3
    assert young not in asked
    for run_id in (leased, young, waiting):
        assert status(any_engine, run_id).status in ("running", "queued")
    gone = status(any_engine, lost)
    assert gone.status == "failed" and gone.reason_code == "crashed"
    assert "lost mid-run" in (gone.reason or "") and gone.finished_at is not None
    assert status(any_engine, overdue).status == "failed"
    never = status(any_engine, forgotten)
    assert never.reason_code == "unavailable" and "No demo worker took" in (never.reason or "")

    # A late result from the lost worker does not overwrite the failure.
    RunRecorder(any_engine)(
        RunEvent("finished", lost, 1.0, "", Outcome(status="succeeded", result={"x": 1}))
    )
    assert status(any_engine, lost).status == "failed"

    # Leases unreadable (Redis down): only the overdue rule applies.
    def down(ids: list[str]) -> set[str]:
        raise ConnectionError("redis down")

    stale = add_run(any_engine, "running", 30)
    assert sweep_lost_runs(any_engine, alive=down, lease_s=15, timeout_s=20,
                           queue_wait_s=600) == 0  # fmt: skip
    assert status(any_engine, stale).status == "running"


def test_the_web_process_with_the_queue_never_imports_torch(tmp_path, database_url) -> None:  # type: ignore[no-untyped-def]
    code = f"""
import sys
from fastapi.testclient import TestClient
from app.main import create_app
from app.settings import Settings
s = Settings(_env_file=None, environment="test", data_dir={str(tmp_path)!r},
             database_url={database_url!r}, secret_key="k",
             demo_queue="redis://127.0.0.1:1/0")
with TestClient(create_app(s)) as c:
    assert c.get("/api/demos").status_code == 200
    assert c.get("/healthz").status_code == 200
assert "celery" in sys.modules and "torch" not in sys.modules, "torch imported"
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-2000:]


def add_leased(engine, status: str, lease: dict | None, age_s: float = 1, device=None) -> str:  # type: ignore[no-untyped-def]
    then = utcnow() - timedelta(seconds=age_s)
    run = DemoRun(id=uuid.uuid4().hex, demo_name="quick", code_hash="h", cache_key="k",
                  status=status, created_at=then, timings=lease or {}, device=device,
                  started_at=then if status == "running" else None)  # fmt: skip
    run_id = run.id
    with Session(engine) as session:
        session.add(run)
        session.commit()
    return run_id


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_local_runs_a_crash_left_behind_fail_at_once_and_stale_leases_soon(any_engine) -> None:  # type: ignore[no-untyped-def]
    import os
    import time

    from app.services.demo_runs import INTERRUPTED_REASON, lease_owner, sweep_unleased_runs

    me = lease_owner()
    host = me.rpartition(":")[0]
    now = time.time()
    crashed = add_leased(
        any_engine, "running", {"lease_at": now, "lease_owner": f"{host}:{dead_pid()}"}
    )
    queued_crashed = add_leased(
        any_engine, "queued", {"lease_at": now, "lease_owner": f"{host}:{dead_pid()}"}
    )
    stale = add_leased(any_engine, "running", {"lease_at": now - 60, "lease_owner": "elsewhere:1"})
    alive_elsewhere = add_leased(
        any_engine, "running", {"lease_at": now, "lease_owner": "elsewhere:1"}
    )
    alive_here = add_leased(
        any_engine, "queued", {"lease_at": now, "lease_owner": f"{host}:{os.getppid()}"}
    )
    legacy_old = add_leased(any_engine, "running", None, age_s=120)
    legacy_young = add_leased(any_engine, "queued", None, age_s=1)

    assert sweep_unleased_runs(any_engine, stale_s=15, me=me) == 4
    for run_id in (crashed, queued_crashed, stale, legacy_old):
        run = status(any_engine, run_id)
        assert run.status == "failed" and run.reason == INTERRUPTED_REASON
    for run_id in (alive_elsewhere, alive_here, legacy_young):
        assert status(any_engine, run_id).status in ("queued", "running")


def test_queued_runs_for_a_device_no_live_worker_serves_fail_at_once(any_engine) -> None:  # type: ignore[no-untyped-def]
    from app.services.demo_runs import NO_WORKER_REASON

    cuda = add_leased(any_engine, "queued", None, age_s=2, device="cuda")
    cpu = add_leased(any_engine, "queued", None, age_s=2, device="cpu")
    failed = sweep_lost_runs(any_engine, alive=lambda ids: set(), lease_s=15, timeout_s=20,
                             queue_wait_s=600, live_devices=lambda: {"cpu"})  # fmt: skip
    assert failed == 1
    assert status(any_engine, cuda).reason == NO_WORKER_REASON
    assert status(any_engine, cpu).status == "queued"
    # No worker at all: every queued run fails on the next sweep (not after 10 minutes).
    assert sweep_lost_runs(any_engine, alive=lambda ids: set(), lease_s=15, timeout_s=20,
                           queue_wait_s=600, live_devices=lambda: set()) == 1  # fmt: skip
    assert status(any_engine, cpu).status == "failed"
