"""What happened to a demo run, in `demo_run`: progress and outcomes recorded, leases
renewed, runs claimed by a queue worker, and runs nobody is running any more swept."""

import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.db import session_scope
from app.models.base import utcnow
from app.models.demo_run import DemoRun
from app.workers.executor import (
    Outcome,
    RunEvent,
)

log = logging.getLogger("backprop.demos")

PROGRESS_WRITE_INTERVAL_S = 0.2

LEASE_AT, LEASE_OWNER = "lease_at", "lease_owner"
INTERRUPTED_REASON = "The run was interrupted (the server running it stopped); start it again."


def lease_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_gone(owner: str, me: str) -> bool:
    """True when ``owner`` was a process on this host that no longer exists."""
    host, _, pid = owner.rpartition(":")
    if host != me.rpartition(":")[0] or not pid.isdigit() or owner == me:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def sweep_unleased_runs(engine: Engine, *, stale_s: float, me: str) -> int:
    """The local executor's sweeper (see DemoRunService.sweep_interrupted). Reads first,
    without a write lock (it runs every few seconds in every web process, and a writer
    transaction would make SQLite refuse a concurrent deferred writer); each update is
    conditional on the status, so every process may sweep at once."""
    now = utcnow()
    cutoff = time.time() - stale_s
    with Session(engine) as session:
        rows = session.exec(
            select(DemoRun.id, DemoRun.status, DemoRun.timings, DemoRun.created_at).where(
                col(DemoRun.status).in_(("queued", "running"))
            )
        ).all()
    lost: list[tuple[str, str]] = []
    for run_id, status, timings, created_at in rows:
        lease = timings or {}
        at = lease.get(LEASE_AT)
        if isinstance(at, int | float):
            gone = at < cutoff or _owner_gone(str(lease.get(LEASE_OWNER, "")), me)
        else:  # written before leases existed: judge by age
            gone = created_at < now - timedelta(seconds=stale_s)
        if gone:
            lost.append((run_id, status))
    if not lost:
        return 0
    failed = 0
    with session_scope(engine, write=True) as session:
        for run_id, status in lost:
            result = session.execute(
                update(DemoRun)
                .where(col(DemoRun.id) == run_id, col(DemoRun.status) == status)
                .values(
                    status="failed", reason_code="unavailable", reason=INTERRUPTED_REASON,
                    finished_at=now, timings={},
                )
            )  # fmt: skip
            failed += int(getattr(result, "rowcount", 0) or 0)
    return failed


class RunRecorder:
    """Writes a run's events to its ``demo_run`` row: the one place that does, whether the
    run executes in this process's pool or in a ``backprop worker`` elsewhere. Progress
    writes are throttled to one per PROGRESS_WRITE_INTERVAL_S per run."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._last_progress: dict[str, float] = {}

    def __call__(self, event: RunEvent) -> None:
        run_id = event.run_id
        if event.kind == "progress":
            now = time.monotonic()
            if now - self._last_progress.get(run_id, 0.0) < PROGRESS_WRITE_INTERVAL_S:
                return
            self._last_progress[run_id] = now
        with session_scope(self.engine, write=True) as session:
            run = session.get(DemoRun, run_id)
            if run is None or run.status in ("succeeded", "failed"):
                return  # gone, or already failed by the sweeper: the first word stands
            if event.kind == "started":
                run.status = "running"
                run.started_at = run.started_at or utcnow()
            elif event.kind == "progress":
                run.progress = event.fraction
                run.progress_message = event.message[:200]
            elif event.outcome is not None:
                self._last_progress.pop(run_id, None)
                _apply_outcome(run, event.outcome)
            session.add(run)


def claim_run(engine: Engine, run_id: str) -> bool:
    """Moves a queued run to running; False when it is not queued any more (finished,
    failed by the sweeper, or claimed by another worker after a redelivery), so a queue
    that delivers a message twice never runs it twice."""
    with session_scope(engine, write=True) as session:
        result = session.execute(
            update(DemoRun)
            .where(col(DemoRun.id) == run_id, col(DemoRun.status) == "queued")
            .values(status="running", started_at=utcnow())
        )
        return bool(getattr(result, "rowcount", 0) == 1)


LOST_REASON = (
    "The demo worker running this was lost mid-run (its process stopped or its machine "
    "went away); start the run again."
)


NO_WORKER_REASON = "No demo worker is connected to the queue; start one with `backprop worker`."


def sweep_lost_runs(
    engine: Engine,
    *,
    alive: Callable[[list[str]], set[str]],
    lease_s: float,
    timeout_s: float,
    queue_wait_s: float,
    live_devices: Callable[[], set[str]] | None = None,
) -> int:
    """Fails runs nobody is working on any more; returns how many. Never leaves a run
    'running' forever:

    - running, started more than ``lease_s`` ago, and ``alive(ids)`` (the runs whose
      worker still renews its lease) does not include it: the worker was lost;
    - running longer than the demo timeout plus a lease: lost whatever the leases say;
    - queued longer than ``queue_wait_s``: no worker took it;
    - queued for a device (``cpu``/``cuda``) that no live worker serves now
      (``live_devices()``: the devices of workers seen within the stale window): the run
      would only wait out ``queue_wait_s``.

    Safe to call from every web process at once: each update is conditional on the status.
    """
    now = utcnow()
    failed = 0
    with session_scope(engine, write=True) as session:
        running = session.exec(
            select(DemoRun.id, DemoRun.started_at)
            .where(DemoRun.status == "running")
            .where(col(DemoRun.started_at) < now - timedelta(seconds=lease_s))
        ).all()
        ids = [run_id for run_id, _ in running]
        try:
            live = alive(ids) if ids else set()
        except Exception as exc:  # leases unreadable (Redis down): only the backstop applies
            log.warning("demo run leases unreadable, only failing overdue runs: %s", exc)
            live = set(ids)
        backstop = now - timedelta(seconds=timeout_s + lease_s)
        lost = [
            run_id
            for run_id, started in running
            if run_id not in live or (started is not None and started < backstop)
        ]
        stale = session.exec(
            select(DemoRun.id)
            .where(DemoRun.status == "queued")
            .where(DemoRun.created_at < now - timedelta(seconds=queue_wait_s))
        ).all()
        orphaned: list[str] = []
        if live_devices is not None:
            queued = session.exec(
                select(DemoRun.id, DemoRun.device).where(DemoRun.status == "queued")
            ).all()
            if queued:
                try:
                    devices = live_devices()
                except Exception as exc:  # Redis down: the queue-wait backstop applies
                    log.warning("demo workers unreadable: %s", exc)
                    devices = None
                if devices is not None:
                    orphaned = [i for i, device in queued if (device or "cpu") not in devices]
        for run_id, code, reason, status in [
            *((i, "crashed", LOST_REASON, "running") for i in lost),
            *(
                (i, "unavailable",
                 f"No demo worker took the run within {queue_wait_s:g} s; start it again later.",
                 "queued")
                for i in stale
            ),
            *((i, "unavailable", NO_WORKER_REASON, "queued") for i in orphaned),
        ]:  # fmt: skip
            result = session.execute(
                update(DemoRun)
                .where(col(DemoRun.id) == run_id, col(DemoRun.status) == status)
                .values(status="failed", reason_code=code, reason=reason, finished_at=now)
            )
            failed += int(getattr(result, "rowcount", 0) or 0)
    return failed


def _apply_outcome(run: DemoRun, outcome: Outcome) -> None:
    run.status = outcome.status
    run.reason_code = outcome.reason_code
    run.reason = outcome.reason
    run.error_detail = outcome.detail
    run.output = outcome.output
    run.result = outcome.result
    run.device = outcome.device or run.device
    run.device_name = outcome.device_name or run.device_name
    run.torch_version = outcome.torch_version or run.torch_version
    run.deterministic = outcome.deterministic
    run.timings = outcome.timings
    run.progress = 1.0 if outcome.status == "succeeded" else run.progress
    run.finished_at = utcnow()
    if run.started_at is None:
        run.started_at = run.finished_at
