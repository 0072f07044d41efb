"""Demo runs: whether a run needs to run at all (the result cache), handing it to an
executor, and what learners see of it. No fastapi, no torch.

The executor (``app.workers.executor.Executor``) runs the code; this module decides
whether it needs to run at all, and ``demo_run_records`` records what happened in
``demo_run``, so any web process can serve a run's state and result later. The catalog
lives in ``demo_catalog`` and the rate limits in ``demo_rate_limits``; their names are
re-exported here for callers.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.db import session_scope
from app.models.base import utcnow
from app.models.demo_run import DemoRun
from app.services.demo_catalog import (  # noqa: F401  (re-exported)
    DEVICE_NOTES,
    CardDemo,
    DemoCatalog,
    DemoInfo,
    DemoNotFound,
    DemoSpec,
    LoginRequired,
    ParamsInvalid,
    TooManyQueued,
    cache_key,
    canonical_params,
    card_demos,
    read_claims,
    run_device,
)
from app.services.demo_rate_limits import RateLimiter, RedisRateLimiter
from app.services.demo_run_records import (  # noqa: F401  (re-exported)
    INTERRUPTED_REASON,
    LEASE_AT,
    LEASE_OWNER,
    LOST_REASON,
    NO_WORKER_REASON,
    PROGRESS_WRITE_INTERVAL_S,
    RunRecorder,
    claim_run,
    lease_owner,
    sweep_lost_runs,
    sweep_unleased_runs,
)
from app.workers.executor import (
    Executor,
    Job,
    QueueFull,
    RunEvent,
    RunnerUnavailable,
    Runtime,
)

log = logging.getLogger("backprop.demos")

__all__ = [
    "CardDemo",
    "DemoCatalog",
    "DemoNotFound",
    "LoginRequired",
    "TooManyQueued",
    "DemoRunService",
    "ParamsInvalid",
    "QueueFull",
    "RateLimiter",
    "RedisRateLimiter",
    "RunRecorder",
    "RunnerUnavailable",
    "claim_run",
    "sweep_lost_runs",
    "cache_key",
    "canonical_params",
    "card_demos",
    "read_claims",
]

# --- runs ------------------------------------------------------------------------------


def cards_with_failing_claims(session: Session, catalog: DemoCatalog) -> set[str]:
    """Active cards whose demo's latest finished run with the card's own parameters (on the
    demo's current code) reports a failed claim the card relies on. Cards whose demo has not
    run with those parameters yet are not listed: unknown is not failing. Two queries,
    whatever the number of cards."""
    from app.models import Card

    failing: set[str] = set()
    wanted: list[tuple[Card, str, str, dict[str, Any]]] = []  # card, demo, code hash, params
    cards = session.exec(
        select(Card).where(Card.status == "active", col(Card.demo_path).is_not(None))
    ).all()
    for card in cards:
        name = Path(card.demo_path or "").stem
        try:
            spec = catalog.get(name).spec
            wanted.append((card, name, spec.code_hash, canonical_params(spec, card.demo_params)))
        except (DemoNotFound, ParamsInvalid):
            failing.add(card.id)  # a card pointing at a broken demo cannot be backed by it
    if not wanted:
        return failing
    runs_by_code: dict[tuple[str, str], list[DemoRun]] = {}  # newest first
    runs = session.exec(
        select(DemoRun)
        .where(
            col(DemoRun.demo_name).in_({name for _, name, _, _ in wanted}),
            DemoRun.status == "succeeded",
            DemoRun.cached == False,  # noqa: E712  (SQL comparison)
        )
        .order_by(col(DemoRun.finished_at).desc())
    ).all()
    for run in runs:
        runs_by_code.setdefault((run.demo_name, run.code_hash), []).append(run)
    for card, name, code_hash, params in wanted:
        candidates = runs_by_code.get((name, code_hash), [])
        latest = next((run for run in candidates if run.params == params), None)
        if latest is None or not latest.result:
            continue
        passed = {c["id"]: c["passed"] for c in latest.result.get("claims", [])}
        if any(not passed.get(claim_id, False) for claim_id in card.demo_proves):
            failing.add(card.id)
    return failing


class DemoRunService:
    """Starts runs (or serves them from the cache) and records their progress."""

    def __init__(
        self,
        engine: Engine,
        catalog: DemoCatalog,
        executor: Executor | None,
        seed: int = 0,
        *,
        max_queued_per_user: int = 3,
    ) -> None:
        self.engine = engine
        self.catalog = catalog
        self.executor = executor
        self.seed = seed
        self.max_queued_per_user = max_queued_per_user
        self._recorder = RunRecorder(engine)
        # Runs this process handed to a local executor and that have not finished: their
        # leases are renewed (renew_leases) so other processes know they are alive.
        self._live: set[str] = set()
        self._live_lock = threading.Lock()
        self.owner = lease_owner()

    def runtime(self, wait_s: float = 0.0) -> Runtime | None:
        return self.executor.runtime(wait_s) if self.executor is not None else None

    def start_run(
        self,
        name: str,
        raw_params: dict[str, Any] | None,
        *,
        requested_by: int | None = None,
        use_cache: bool = True,
        wait_runtime_s: float = 10.0,
        may_queue: bool = True,
    ) -> DemoRun:
        """Validates, then returns a finished cached run or a queued one.

        ``may_queue=False`` (an anonymous visitor): only cached results are served.
        Raises DemoNotFound, ParamsInvalid, LoginRequired, TooManyQueued, QueueFull or
        RunnerUnavailable; on the last four nothing is recorded.
        """
        info = self.catalog.get(name)
        spec = info.spec
        params = canonical_params(spec, raw_params)
        runtime = None if self.executor is None else self.executor.runtime(wait_runtime_s)
        if runtime is None:
            raise RunnerUnavailable("the demo runner is not available (still starting or off)")
        device = run_device(info.meta, runtime)
        key = cache_key(spec, params, dataclasses.replace(runtime, device=device), self.seed)
        with session_scope(self.engine, write=True) as session:
            source = None
            if use_cache:
                source = session.exec(
                    select(DemoRun)
                    .where(DemoRun.cache_key == key, DemoRun.status == "succeeded")
                    .where(col(DemoRun.cached).is_(False))
                    .order_by(col(DemoRun.finished_at).desc())
                    .limit(1)
                ).first()
            if source is None:
                if not may_queue:
                    raise LoginRequired(
                        "Log in to start a new demo run; results already computed are "
                        "shown without an account."
                    )
                if requested_by is not None and self.max_queued_per_user > 0:
                    waiting = session.exec(
                        select(func.count())
                        .select_from(DemoRun)
                        .where(DemoRun.requested_by == requested_by)
                        .where(col(DemoRun.status).in_(("queued", "running")))
                    ).one()
                    if waiting >= self.max_queued_per_user:
                        raise TooManyQueued(self.max_queued_per_user)
            now = utcnow()
            run = DemoRun(
                id=uuid.uuid4().hex,
                demo_name=spec.name,
                code_hash=spec.code_hash,
                params=params,
                cache_key=key,
                requested_by=requested_by,
                created_at=now,
                device=device,  # where it will run; the queue's sweeper fails runs per device
                timings=self._lease(),
            )
            if source is not None:
                run.status = "succeeded"
                run.cached = True
                run.source_run_id = source.id
                run.progress = 1.0
                run.device, run.device_name = source.device, source.device_name
                run.torch_version, run.deterministic = source.torch_version, source.deterministic
                run.timings = {"cached_from_ms": source.timings.get("total_ms", 0.0)}
                run.started_at = run.finished_at = now
            session.add(run)
        if run.cached:
            return run
        job = Job(
            run_id=run.id,
            demo_name=spec.name,
            demo_path=str(spec.path),
            code_hash=spec.code_hash,
            params=params,
            seed=self.seed,
            owner=f"user:{requested_by}" if requested_by is not None else "",
            device=device,
        )
        try:
            assert self.executor is not None
            with self._live_lock:
                self._live.add(run.id)
            self.executor.submit(job, self._on_event)
        except (QueueFull, RunnerUnavailable):
            with self._live_lock:
                self._live.discard(run.id)
            with session_scope(self.engine, write=True) as session:
                stale = session.get(DemoRun, run.id)
                if stale is not None:
                    session.delete(stale)
            raise
        return run

    def _on_event(self, event: RunEvent) -> None:
        self._recorder(event)
        if event.kind == "finished":
            with self._live_lock:
                self._live.discard(event.run_id)

    def _lease(self) -> dict[str, Any]:
        return {LEASE_AT: time.time(), LEASE_OWNER: self.owner}

    def renew_leases(self) -> int:
        """Marks this process's unfinished runs alive (one UPDATE); returns how many.
        Only for the local executor: queued runs of the queue have their own leases."""
        with self._live_lock:
            live = list(self._live)
        if not live:
            return 0
        with session_scope(self.engine, write=True) as session:
            result = session.execute(
                update(DemoRun)
                .where(col(DemoRun.id).in_(live))
                .where(col(DemoRun.status).in_(("queued", "running")))
                .values(timings=self._lease())
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def get_run(self, session: Session, run_id: str) -> DemoRun | None:
        return session.get(DemoRun, run_id)

    def run_view(self, session: Session, run: DemoRun, *, admin: bool = False) -> dict[str, Any]:
        """The JSON a client sees: the result (from the source run when cached), never the
        traceback unless ``admin``."""
        result = run.result
        output = run.output
        if run.cached and run.source_run_id:
            source = session.get(DemoRun, run.source_run_id)
            if source is not None:
                result, output = source.result, source.output
        view: dict[str, Any] = {
            "id": run.id,
            "demo": run.demo_name,
            "status": run.status,
            "done": run.status in ("succeeded", "failed"),
            "cached": run.cached,
            "params": run.params,
            "progress": run.progress,
            "progress_message": run.progress_message,
            "reason_code": run.reason_code,
            "reason": run.reason,
            "result": result,
            "device": run.device,
            "device_note": self.device_note(run),
            "device_name": run.device_name,
            "torch_version": run.torch_version,
            "deterministic": run.deterministic,
            "timings": {k: v for k, v in (run.timings or {}).items() if not k.startswith("lease_")},
            "created_at": run.created_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        }
        if admin:
            view["error_detail"] = run.error_detail
            view["output"] = output
        return view

    def device_note(self, run: DemoRun) -> str | None:
        """Where the run ran and why, in one sentence for the panel."""
        if run.device is None:
            return None
        try:
            benefits = self.catalog.get(run.demo_name).meta.benefits_from_gpu
        except DemoNotFound:
            benefits = False
        return DEVICE_NOTES[(run.device == "cuda", benefits)]

    def sweep_interrupted(self, stale_s: float) -> int:
        """Fails runs of the local executor that nobody is running any more: queued or
        running, and their lease (renewed every few seconds by the process that owns them)
        is older than ``stale_s``, or their owner was a process on this host that is gone
        (a crash, then a restart: failed at once). Returns how many."""
        return sweep_unleased_runs(self.engine, stale_s=stale_s, me=self.owner)
