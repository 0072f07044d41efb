"""The queue executor: the web side of ``BACKPROP_DEMO_QUEUE=redis://...``.

Implements the runner contract (``app.workers.executor.Executor``) by publishing each job
to Celery on Redis; ``backprop worker`` processes, on this machine or others, run it in
their own sandboxed LocalPool and write every event to the run's ``demo_run`` row with the
same ``RunRecorder`` the local pool's events go through. So ``submit`` never calls
``on_event`` here: the database is the channel, and any web process serves the result.

No torch. Redis being down never breaks the app: ``runtime``/``submit`` raise
RunnerUnavailable with a sentence naming the queue, ``status`` reports the error.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict
from typing import Any

import redis

from app.workers.celery_app import (
    TASK_NAME,
    WORKER_STALE_S,
    lease_key,
    make_celery,
    public_url,
    queue_name,
    registry_key,
)
from app.workers.executor import Job, OnEvent, QueueFull, RunnerUnavailable, Runtime

log = logging.getLogger("backprop.demos.queue")
FORGET_AFTER_S = 3600  # a registration this stale is removed, not just ignored


class QueueExecutor:
    """Executor that sends runs to ``backprop worker`` processes through Redis."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.prefix: str = settings.demo_queue_prefix
        self.url = public_url(settings.demo_queue)
        self.redis = redis.Redis.from_url(
            settings.demo_queue, socket_connect_timeout=1, socket_timeout=3
        )
        self.celery = make_celery(settings)

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        log.info("demo runs go to the queue at %s (prefix %s)", self.url, self.prefix)

    def stop(self) -> None:
        self.redis.close()
        self.celery.close()

    # --- workers ---------------------------------------------------------------------

    def _down(self, exc: Exception) -> str:
        return (
            f"The demo queue at {self.url} cannot be reached ({exc}); demo runs are off "
            "until it is back. Everything else works."
        )

    def workers(self) -> list[dict[str, Any]]:
        """Live workers' registrations (each renews its own every few seconds).
        Raises redis.RedisError when Redis cannot be reached."""
        seconds, _micros = self.redis.time()
        found, dead = [], []
        for field, raw in self.redis.hgetall(registry_key(self.prefix)).items():
            try:
                info = json.loads(raw)
            except ValueError:
                continue
            age = seconds - float(info.get("seen_at", 0))
            if age <= WORKER_STALE_S:
                found.append(info)
            elif age > FORGET_AFTER_S:
                dead.append(field)
        if dead:  # workers killed without a goodbye: keep the registry small
            self.redis.hdel(registry_key(self.prefix), *dead)
        return sorted(found, key=lambda w: str(w.get("name")))

    def live_devices(self) -> set[str]:
        """The device kinds some live worker serves. Raises redis.RedisError."""
        return {str(w.get("device") or "cpu") for w in self.workers()}

    def _choose(self) -> tuple[Runtime, list[dict[str, Any]]]:
        try:
            workers = self.workers()
        except redis.RedisError as exc:
            raise RunnerUnavailable(self._down(exc), retry_after_s=10) from exc
        if not workers:
            raise RunnerUnavailable(
                "No demo worker is connected to the queue; start one with `backprop worker`.",
                retry_after_s=10,
            )
        # CUDA when any worker has it: the cache key (and the queue) name the device kind.
        device = "cuda" if any(w.get("device") == "cuda" for w in workers) else "cpu"
        chosen = [w for w in workers if w.get("device") == device]
        first = chosen[0]
        return (
            Runtime(device=device, torch_version=first["torch"], sandbox=first["sandbox"]),
            chosen,
        )

    # --- Executor --------------------------------------------------------------------

    def runtime(self, wait_s: float = 0.0) -> Runtime | None:
        """The device kind and torch version runs will get. Raises RunnerUnavailable
        (with the reason) when Redis is down or no worker is connected."""
        return self._choose()[0]

    def submit(self, job: Job, on_event: OnEvent) -> None:
        runtime, workers = self._choose()
        device = job.device or runtime.device
        if device != runtime.device:
            # A small demo on a GPU fleet: the CPU queue when a CPU worker is there, else
            # a GPU worker runs it on one of its CPU workers (the job says "cpu").
            try:
                cpu_workers = [w for w in self.workers() if w.get("device") == device]
            except redis.RedisError as exc:
                raise RunnerUnavailable(self._down(exc), retry_after_s=10) from exc
            if cpu_workers:
                workers = cpu_workers
            else:
                device = runtime.device
        queue = queue_name(self.prefix, device)
        capacity = sum(int(w.get("concurrency", 1)) for w in workers)
        try:
            waiting = int(self.redis.llen(queue))
            if waiting >= self.settings.demo_queue_size:
                raise QueueFull(max(1, math.ceil(waiting / max(1, capacity))))
            self.celery.send_task(TASK_NAME, args=[asdict(job)], queue=queue, retry=False)
        except QueueFull:
            raise
        except Exception as exc:  # redis or kombu connection errors
            raise RunnerUnavailable(self._down(exc), retry_after_s=10) from exc

    def status(self) -> dict[str, Any]:
        base: dict[str, Any] = {"backend": "redis", "queue": self.url, "prefix": self.prefix}
        try:
            workers = self.workers()
            queued = {
                device: int(self.redis.llen(queue_name(self.prefix, device)))
                for device in ("cpu", "cuda")
            }
        except redis.RedisError as exc:
            return {**base, "ready": False, "workers": [], "error": self._down(exc)}
        device = "cuda" if any(w.get("device") == "cuda" for w in workers) else "cpu"
        return {
            **base,
            "ready": bool(workers),
            "workers": workers,
            "queued": sum(queued.values()),
            "queued_by_device": queued,
            "queue_size": self.settings.demo_queue_size,
            "device": device if workers else None,
            "torch_version": workers[0]["torch"] if workers else None,
            "sandbox": workers[0]["sandbox"] if workers else None,
            "error": None if workers else "no demo worker is connected",
        }

    # --- leases ----------------------------------------------------------------------

    def alive_runs(self, run_ids: list[str]) -> set[str]:
        """The runs whose worker still renews its lease. Raises redis.RedisError."""
        pipe = self.redis.pipeline(transaction=False)
        for run_id in run_ids:
            pipe.exists(lease_key(self.prefix, run_id))
        return {run_id for run_id, hit in zip(run_ids, pipe.execute(), strict=True) if hit}
