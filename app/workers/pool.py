"""The in-process executor: a zygote that imported torch once, and pre-forked warm workers.

Imported by the web process: no torch here (the zygote, a separate process, imports it).

Each of ``workers`` slot threads keeps one forked, warmed-up worker waiting, takes a job
from the bounded queue, hands it to that worker, and watches it: messages on its socket,
output on its pipe (capped), the wall clock. A run that breaks a limit gets its worker's
whole process group killed by the zygote, and the slot forks a fresh worker. A worker
serves up to DEFAULT_MAX_RUNS runs (resetting seeds and torch's global settings before
each), so a warm run costs about what an in-process call does; it is retired at once
after any failure.

In parts, each a class the next one extends: ``zygote_link.ZygoteLink`` (launch, watch
and restart the zygote; fork, kill and sweep through its control socket),
``run_watch.RunWatch`` (one run on a warm worker), and ``LocalPool`` here (the queues,
the slot threads, start and stop, the Executor interface). ``pool_config`` holds the
configuration and the records they pass around.
"""

from __future__ import annotations

import collections
import logging
import math
import os
import queue
import socket
import subprocess
import threading
import time
from concurrent.futures import Future
from typing import Any

from app.workers import protocol, sandbox
from app.workers.cgroup import Cgroup, CgroupLimits
from app.workers.executor import (
    Job,
    OnEvent,
    Outcome,
    QueueFull,
    RunEvent,
    RunnerUnavailable,
    Runtime,
)
from app.workers.fair_queue import FairQueue
from app.workers.pool_config import PoolConfig, QueuedRun, WarmWorker
from app.workers.run_watch import RunWatch, drain
from app.workers.worker import DEFAULT_MAX_RUNS  # worker.py imports torch only in functions

log = logging.getLogger("backprop.demos.pool")

__all__ = ["LocalPool", "PoolConfig"]


class LocalPool(RunWatch):
    """Executor backed by local processes. Thread-safe; start() returns at once and the
    pool warms up in the background (``wait_ready`` blocks until it has)."""

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        # Round-robin by the learner who asked: one account's burst never starves another.
        # One queue per device kind: CPU slots take "cpu" jobs, CUDA slots "cuda" jobs.
        self._queues: dict[str, FairQueue[QueuedRun]] = {
            device: FairQueue(maxsize=config.queue_size) for device in ("cpu", "cuda")
        }
        self._gpu_slots_started = False
        self._stopping = threading.Event()
        self._hello = threading.Event()
        self._runtime: Runtime | None = None
        self._fatal: str | None = None
        self._ctrl: socket.socket | None = None
        self._ctrl_lock = threading.Lock()
        self._pending_spawns: collections.deque[Future] = collections.deque()
        self._pending_sweeps: collections.deque[Future] = collections.deque()
        self._exits: collections.OrderedDict[int, int] = collections.OrderedDict()
        self._exit_cond = threading.Condition()
        self._proc: subprocess.Popen | None = None
        self._threads: list[threading.Thread] = []
        self._warm = 0
        self._running = 0
        self._state_lock = threading.Lock()
        self._avg_run_s = 0.5
        self._started_at = 0.0
        self._ready_at: float | None = None
        self._cgroup: Cgroup | None = None
        self._gpu_binds = config.device != "cpu" and bool(sandbox.gpu_device_nodes())
        self._early_failures = 0
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=20)
        self.sandbox_kind = self._choose_sandbox()

    # --- lifecycle -----------------------------------------------------------------

    def _choose_sandbox(self) -> str:
        wanted = self.config.sandbox
        if wanted == "none" and not self.config.require_sandbox:
            return "none (disabled by configuration)"
        if sandbox.bwrap_path() is None:
            if wanted == "bwrap":
                raise RuntimeError("sandbox=bwrap but bwrap is not installed")
            if self.config.require_sandbox:
                self._fatal = (
                    "demo runs are refused: BACKPROP_ENVIRONMENT=production needs the "
                    "bubblewrap sandbox (/usr/bin/bwrap), and it is not installed"
                )
                return "none (refused: bwrap not installed)"
            return "none (bwrap not installed)"
        return "bwrap"

    def start(self) -> None:
        if self._threads:
            return
        self._started_at = time.perf_counter()
        if self._fatal:
            log.error("%s", self._fatal)
            return
        if not self.sandbox_kind.startswith("bwrap"):
            log.warning(
                "DEMO RUNS ARE NOT SANDBOXED: %s; only the in-process guard applies "
                "(install bubblewrap: apt-get install bubblewrap)",
                self.sandbox_kind,
            )
        if self.config.use_cgroup:
            self._cgroup = Cgroup.make(
                f"backprop-demos-{os.getpid()}-{id(self):x}", self._cgroup_limits()
            )
            if self._cgroup is not None:
                self.sandbox_kind += f" + {self._cgroup.describe()}"
        supervisor = threading.Thread(target=self._supervise, name="demo-zygote", daemon=True)
        self._threads.append(supervisor)
        supervisor.start()
        for index in range(self.config.workers):
            slot = threading.Thread(
                target=self._slot, args=(index,), name=f"demo-slot-{index}", daemon=True
            )
            self._threads.append(slot)
            slot.start()

    def _cgroup_limits(self) -> CgroupLimits:
        workers = self.config.workers
        # The zygote (torch imported: ~300 MB) plus each worker's run budget and its
        # footprint, plus the two tmpfs: a backstop, the per-run cap is RLIMIT_DATA.
        memory_mb = 1024 + workers * (self.config.memory_mb + 512) + 2 * self.config.tmp_size_mb
        return CgroupLimits(
            pids=32 + 48 * workers,
            memory_bytes=memory_mb * 1024 * 1024,
            cpus=float(workers * self.config.threads),
        )

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stops the slots and the zygote (never starting another) in well under
        ``timeout_s``; queued runs fail with "shutting down"."""
        self._stopping.set()
        for waiting in self._queues.values():
            while True:
                try:
                    item = waiting.get_nowait()
                except queue.Empty:
                    break
                self._finish(item, Outcome.failure("unavailable", "The server is shutting down."))
        self._send_ctrl({"op": "stop"})
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(2)
        if self._ctrl is not None:
            self._ctrl.close()
        if self._cgroup is not None:
            self._cgroup.destroy()
        self._threads.clear()

    def wait_ready(self, timeout_s: float = 60.0) -> bool:
        """True once the zygote is up and every slot holds a warm worker."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._fatal:
                raise RunnerUnavailable(self._fatal)
            with self._state_lock:
                if self._hello.is_set() and self._warm + self._running >= self._slots():
                    return True
            time.sleep(0.01)
        return False

    # --- Executor ------------------------------------------------------------------

    def runtime(self, wait_s: float = 0.0) -> Runtime | None:
        """Where runs execute, once the zygote said hello. Raises RunnerUnavailable at once
        (no waiting) when the runner cannot start, with the sentence saying why."""
        deadline = time.monotonic() + wait_s
        while True:
            if self._fatal:
                raise RunnerUnavailable(self._fatal_sentence(), retry_after_s=60)
            remaining = deadline - time.monotonic()
            if self._hello.wait(min(0.1, max(0.0, remaining))) or remaining <= 0:
                return self._runtime

    def submit(self, job: Job, on_event: OnEvent) -> None:
        if self._stopping.is_set():
            raise RunnerUnavailable("the demo runner is shutting down")
        if self._fatal:
            raise RunnerUnavailable(self._fatal_sentence())
        try:
            target = self._queues[self.device_for(job)]
            target.put_nowait(QueuedRun(job, on_event, time.perf_counter()), job.owner)
        except queue.Full:
            raise QueueFull(self.retry_after_s()) from None

    def _fatal_sentence(self) -> str:
        fatal = self._fatal or ""
        if fatal.startswith("demo runs are refused"):
            return fatal[0].upper() + fatal[1:] + "."
        return f"the demo runner could not start: {fatal}"

    def device_for(self, job: Job) -> str:
        """Where ``job`` runs: CUDA only when it asks for it (or asks for nothing and CUDA
        is this pool's device) and the zygote found a GPU; else the CPU."""
        runtime = self._runtime
        has_cuda = runtime is not None and runtime.device == "cuda" and self.config.gpu_workers > 0
        wanted = job.device or (runtime.device if runtime else "cpu")
        return "cuda" if wanted == "cuda" and has_cuda else "cpu"

    def _slots(self) -> int:
        return self.config.workers + (self.config.gpu_workers if self._gpu_slots_started else 0)

    def _queued(self) -> int:
        return sum(q.qsize() for q in self._queues.values())

    def retry_after_s(self) -> int:
        waiting = self._queued() / max(1, self.config.workers) + 1
        return max(1, math.ceil(waiting * self._avg_run_s))

    def status(self) -> dict[str, Any]:
        runtime = self._runtime
        with self._state_lock:
            warm, running = self._warm, self._running
        return {
            "backend": "local",
            "ready": self._hello.is_set() and warm + running >= self._slots(),
            "workers": self.config.workers,
            "warm_workers": warm,
            "running": running,
            "queued": self._queued(),
            "gpu_workers": self.config.gpu_workers if self._gpu_slots_started else 0,
            "queue_size": self.config.queue_size,
            "device": runtime.device if runtime else None,
            "torch_version": runtime.torch_version if runtime else None,
            "sandbox": self.sandbox_kind,
            "error": self._fatal,
            "warm_after_s": (
                round(self._ready_at - self._started_at, 3) if self._ready_at else None
            ),
        }

    # --- slots -----------------------------------------------------------------------

    def _new_worker(self, device: str = "cpu") -> WarmWorker | None:
        if not self._hello.wait(0.25):
            return None
        try:
            pid, fds = self._spawn(device)
        except Exception as exc:
            log.warning("could not fork a demo worker: %s", exc)
            self._stopping.wait(0.2)
            return None
        sock_fd, out_fd = fds
        sock = socket.socket(fileno=sock_fd)
        worker = WarmWorker(
            pid=pid, sock=sock, out_fd=out_fd, device_name="", deterministic=False, device=device
        )
        sock.settimeout(self.config.warmup_timeout_s)
        try:
            ready = protocol.recv(sock)
        except (OSError, protocol.FrameTooLarge):
            ready = None
        if ready is None or ready.get("op") != "ready":
            self._kill(worker)
            output = drain(out_fd, 4096).decode(errors="replace")
            worker.close()
            status = self._exit_status(pid, 2)
            if not self._stopping.is_set():
                log.error("a demo worker died while warming up (status %s): %s", status, output)
            self._stopping.wait(0.5)
            return None
        sock.settimeout(None)
        worker.device_name = ready.get("device_name", "")
        worker.deterministic = bool(ready.get("deterministic"))
        return worker

    def _max_runs(self) -> int:
        if self.config.max_runs_per_worker:
            return self.config.max_runs_per_worker
        return DEFAULT_MAX_RUNS

    def _start_gpu_slots(self) -> None:
        """Once the zygote has said it sees a GPU: the CUDA slots (never more than once)."""
        if self._gpu_slots_started or self._stopping.is_set():
            return
        self._gpu_slots_started = True
        for offset in range(self.config.gpu_workers):
            index = self.config.workers + offset
            slot = threading.Thread(
                target=self._slot, args=(index, "cuda"), name=f"demo-slot-{index}-cuda",
                daemon=True,
            )  # fmt: skip
            self._threads.append(slot)
            slot.start()

    def _slot(self, index: int, device: str = "cpu") -> None:
        worker: WarmWorker | None = None
        waiting = self._queues[device]
        while not self._stopping.is_set():
            if worker is None:
                worker = self._new_worker(device)
                if worker is None:
                    if self._fatal:
                        self._fail_queued(self._fatal_sentence())
                    continue
                with self._state_lock:
                    self._warm += 1
                    if self._ready_at is None and self._warm >= self._slots():
                        self._ready_at = time.perf_counter()
                        log.info("demo pool warm in %.2f s", self._ready_at - self._started_at)
            try:
                item = waiting.get(timeout=0.25)
            except queue.Empty:
                continue
            with self._state_lock:
                self._warm -= 1
                self._running += 1
            if item.job.fresh_worker and worker.runs > 0:
                # A throw-away process: nothing of an earlier run can be left in it.
                self._kill(worker)
                worker.close()
                worker = self._fresh_worker_for(item, device)
                if worker is None:
                    with self._state_lock:
                        self._running -= 1
                    continue
            try:
                keep = self._execute(worker, item) and not item.job.fresh_worker
            except Exception as exc:  # a bug here must not kill the slot
                log.exception("demo slot %d failed", index)
                self._finish(item, Outcome.failure("crashed", f"The runner failed: {exc}"))
                keep = False
            with self._state_lock:
                self._running -= 1
                if keep:
                    self._warm += 1
            if not keep:
                worker.close()
                worker = None
        if worker is not None:
            self._kill(worker)
            worker.close()

    def _fresh_worker_for(self, item: QueuedRun, device: str) -> WarmWorker | None:
        for _ in range(3):
            worker = self._new_worker(device)
            if worker is not None:
                return worker
            if self._stopping.is_set():
                break
        self._finish(item, Outcome.failure("unavailable", "No fresh demo worker could start."))
        return None

    def _fail_all_queued(self) -> None:
        for waiting in self._queues.values():
            while True:
                try:
                    item = waiting.get_nowait()
                except queue.Empty:
                    break
                self._finish(item, Outcome.failure("unavailable", self._fatal_sentence()))

    def _fail_queued(self, reason: str) -> None:
        try:
            item = self._queues["cpu"].get(timeout=0.25)
        except queue.Empty:
            return
        self._finish(item, Outcome.failure("unavailable", reason))

    def _finish(self, item: QueuedRun, outcome: Outcome) -> None:
        try:
            item.on_event(RunEvent("finished", item.job.run_id, 1.0, "", outcome))
        except Exception:
            log.exception("demo run %s: the finished callback failed", item.job.run_id)
