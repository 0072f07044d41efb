"""``backprop worker``: takes demo runs from the Redis queue and runs them in this
machine's sandboxed LocalPool, exactly as the in-process path does (same zygote, same
limits), writing every event to the database.

Lifecycle: check Redis, start the pool (the zygote imports torch once and reports the
device), refuse to start on a missing GPU unless CPU is allowed, register in Redis with
the demos it can run, then consume ``<prefix>.demos.<device>`` with Celery's threads pool
(one thread per pool slot). A heartbeat thread renews the registration and the lease of
every run in progress; a worker that dies stops renewing, and the web's sweeper fails its
runs with a clear sentence.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from app.db import make_engine
from app.services.demo_runs import DemoCatalog, RunRecorder, claim_run
from app.workers.celery_app import (
    HEARTBEAT_S,
    TASK_NAME,
    lease_key,
    make_celery,
    public_url,
    queue_name,
    registry_key,
)
from app.workers.executor import (
    Job,
    Outcome,
    QueueFull,
    RunEvent,
    RunnerUnavailable,
    run_blocking,
)
from app.workers.pool import LocalPool, PoolConfig

log = logging.getLogger("backprop.worker")


class WorkerError(Exception):
    """A reason this worker cannot start, written for the operator."""


@dataclass
class WorkerContext:
    settings: Any
    name: str
    pool: LocalPool
    redis: Any
    recorder: RunRecorder
    device: str = "cpu"
    info: dict[str, Any] = field(default_factory=dict)
    active: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def prefix(self) -> str:
        return str(self.settings.demo_queue_prefix)

    # --- runs -------------------------------------------------------------------------

    def _renew(self, run_id: str) -> None:
        self.redis.set(lease_key(self.prefix, run_id), self.name, ex=int(self.lease_s()))

    def lease_s(self) -> float:
        return max(float(self.settings.demo_lease_s), 2 * HEARTBEAT_S)

    def execute(self, payload: dict[str, Any]) -> str:
        """Runs one queued job unless another delivery already did; returns what happened."""
        run_id = str(payload["run_id"])
        if not claim_run(self.recorder.engine, run_id):
            return "skipped"  # finished, failed by the sweeper, or taken by another worker
        with self.lock:
            self.active.add(run_id)
        try:
            self._renew(run_id)
        except redis.RedisError as exc:
            log.warning("run %s: could not write its lease: %s", run_id, exc)
        try:
            name = str(payload["demo_name"])
            path = Path(self.settings.content_dir) / "demos" / f"{name}.py"
            if not name.isidentifier() or not path.is_file():
                self._fail(run_id, f"The demo worker {self.name} has no demo named {name!r}.")
                return "failed"
            job = Job(
                run_id=run_id,
                demo_name=name,
                demo_path=str(path),  # this machine's copy; the worker checks its hash
                code_hash=str(payload["code_hash"]),
                params=dict(payload["params"]),
                seed=int(payload.get("seed", 0)),
                device=str(payload.get("device") or ""),
            )
            outcome = run_blocking(self.pool, job, self.recorder)
            return outcome.status
        except (QueueFull, RunnerUnavailable) as exc:
            self._fail(run_id, f"The demo worker {self.name} could not run it: {exc}")
            return "failed"
        finally:
            with self.lock:
                self.active.discard(run_id)
            with contextlib.suppress(redis.RedisError):
                self.redis.delete(lease_key(self.prefix, run_id))

    def _fail(self, run_id: str, reason: str) -> None:
        self.recorder(RunEvent("finished", run_id, 1.0, "", Outcome.failure("unavailable", reason)))

    # --- heartbeat --------------------------------------------------------------------

    def register(self) -> None:
        seconds, _ = self.redis.time()
        self.redis.hset(
            registry_key(self.prefix), self.name, json.dumps({**self.info, "seen_at": seconds})
        )

    def heartbeat(self) -> None:
        while not self.stopping.wait(HEARTBEAT_S):
            try:
                self.register()
                with self.lock:
                    active = list(self.active)
                for run_id in active:
                    self._renew(run_id)
            except redis.RedisError as exc:
                log.warning("worker %s: Redis unreachable: %s", self.name, exc)

    def unregister(self) -> None:
        with contextlib.suppress(redis.RedisError):
            self.redis.hdel(registry_key(self.prefix), self.name)


def alive_here(settings: Any, name: str | None = None) -> str | None:
    """The name of a live worker registered from this host (or named ``name``), else None:
    the container health check."""
    from app.workers.celery_app import WORKER_STALE_S

    client = redis.Redis.from_url(settings.demo_queue, socket_connect_timeout=2, socket_timeout=3)
    try:
        now, _ = client.time()
        entries = client.hgetall(registry_key(settings.demo_queue_prefix))
    except redis.RedisError:
        return None
    finally:
        client.close()
    host = socket.gethostname()
    for raw_name, raw in entries.items():
        worker = raw_name.decode() if isinstance(raw_name, bytes) else str(raw_name)
        if (worker == name if name else worker.startswith(f"{host}:")) and (
            now - float(json.loads(raw).get("seen_at", 0)) <= WORKER_STALE_S
        ):
            return worker
    return None


def start_pool(settings: Any, concurrency: int, device: str) -> LocalPool:
    """The sandboxed pool this worker runs demos in, warm; raises WorkerError."""
    config = PoolConfig.from_settings(
        settings, workers=concurrency, device=device, queue_size=concurrency * 2 + 2
    )
    pool = LocalPool(config)
    pool.start()
    try:
        ready = pool.wait_ready(180)
    except RunnerUnavailable as exc:
        pool.stop()
        if device == "cuda" and "CUDA" in str(exc):
            visible = os.environ.get("CUDA_VISIBLE_DEVICES", "(unset)")
            raise WorkerError(
                f"This worker cannot see a GPU (torch finds no CUDA device; "
                f"CUDA_VISIBLE_DEVICES={visible}). Give the container a GPU, or set "
                "BACKPROP_DEMO_DEVICE=cpu (or --device cpu) to run demos on CPU."
            ) from exc
        raise WorkerError(f"The demo runner could not start: {exc}") from exc
    if not ready:
        pool.stop()
        raise WorkerError("The demo runner did not warm up within 180 s.")
    return pool


def serve(
    settings: Any, *, concurrency: int, device: str, name: str | None = None, echo: Any = print
) -> int:
    """Runs the worker until it is stopped (SIGTERM/SIGINT: finish the runs in hand);
    returns the exit status. Raises WorkerError for a reason not to start."""
    url = public_url(settings.demo_queue)
    client = redis.Redis.from_url(settings.demo_queue, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise WorkerError(f"Cannot reach the demo queue at {url}: {exc}") from exc
    engine = make_engine(settings.database_url, pool_size=concurrency + 2)
    pool = start_pool(settings, concurrency, device)
    runtime = pool.runtime()
    assert runtime is not None
    if runtime.device == "cpu" and device == "auto":
        # A worker exists to run demos on its GPU: falling back to CPU is a choice to
        # make explicitly, not something to find out from slow runs.
        pool.stop()
        engine.dispose()
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "(unset)")
        raise WorkerError(
            f"This worker cannot see a GPU (torch finds no CUDA device; "
            f"CUDA_VISIBLE_DEVICES={visible}). Set BACKPROP_DEMO_DEVICE=cpu (or --device cpu) "
            "to run demos on CPU, or give it a GPU."
        )
    worker_name = name or f"{socket.gethostname()}:{os.getpid()}"
    demos = sorted(DemoCatalog(settings.content_dir).all())
    context = WorkerContext(
        settings=settings, name=worker_name, pool=pool, redis=client,
        recorder=RunRecorder(engine), device=runtime.device,
    )  # fmt: skip
    context.info = {
        "name": worker_name,
        "device": runtime.device,
        "gpus": os.environ.get("CUDA_VISIBLE_DEVICES") if runtime.device == "cuda" else None,
        "torch": runtime.torch_version,
        "sandbox": runtime.sandbox,
        "concurrency": concurrency,
        "demos": demos,
    }
    queue = queue_name(context.prefix, runtime.device)
    echo(
        f"backprop worker {worker_name}: device {runtime.device}, torch {runtime.torch_version}, "
        f"sandbox {runtime.sandbox}, {concurrency} slot(s), queue {queue} on {url}"
    )
    echo(f"demos it can run ({len(demos)}): {', '.join(demos)}")
    celery = make_celery(settings)

    @celery.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)
    def run_demo(payload: dict[str, Any]) -> str:
        return context.execute(payload)

    context.register()
    beat = threading.Thread(target=context.heartbeat, name="worker-heartbeat", daemon=True)
    beat.start()
    try:
        worker = celery.Worker(
            hostname=f"{worker_name}@backprop",
            queues=[queue],
            pool="threads",
            concurrency=concurrency,
            loglevel="WARNING",
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            quiet=True,
        )
        worker.start()
        return int(worker.exitcode or 0)
    finally:
        context.stopping.set()
        context.unregister()
        pool.stop()
        engine.dispose()
