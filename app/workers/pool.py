"""The in-process executor: a zygote that imported torch once, and pre-forked warm workers.

Imported by the web process: no torch here (the zygote, a separate process, imports it).

Each of ``workers`` slot threads keeps one forked, warmed-up worker waiting, takes a job
from the bounded queue, hands it to that worker, and watches it: messages on its socket,
output on its pipe (capped), the wall clock. A run that breaks a limit gets its worker's
whole process group killed by the zygote, and the slot forks a fresh worker. A worker
serves up to DEFAULT_MAX_RUNS runs (resetting seeds and torch's global settings before
each), so a warm run costs about what an in-process call does; it is retired at once
after any failure.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import math
import os
import queue
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.workers import limits, protocol, sandbox
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
from app.workers.worker import DEFAULT_MAX_RUNS  # worker.py imports torch only in functions

log = logging.getLogger("backprop.demos.pool")
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class PoolConfig:
    content_dir: Path
    workers: int = 2
    device: str = "auto"
    timeout_s: float = 20.0
    memory_mb: int = 2048
    output_bytes: int = 64 * 1024
    queue_size: int = 32
    sandbox: str = "auto"  # "auto": bwrap when installed; "bwrap": required; "none"
    # Production refuses to run demos without bwrap (sandbox "auto" then means "bwrap").
    require_sandbox: bool = False
    tmp_size_mb: int = 256  # the sandbox's private /tmp (and /dev/shm), all workers together
    use_cgroup: bool = True  # pids/memory/CPU limits on the whole sandbox where allowed
    gpu_memory_fraction: float = 0.0  # per CUDA worker; 0: 0.9 / gpu_workers
    # CUDA workers added to the ``workers`` CPU ones when the zygote finds a GPU: only
    # demos that declare BENEFITS_FROM_GPU go to them (Job.device == "cuda").
    gpu_workers: int = 1
    threads: int = 1
    max_runs_per_worker: int | None = None  # None: worker.DEFAULT_MAX_RUNS
    warmup_timeout_s: float = 60.0
    extra_visible: Sequence[Path] = field(default_factory=tuple)

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> PoolConfig:
        values: dict[str, Any] = dict(
            content_dir=Path(settings.content_dir),
            workers=settings.demo_workers,
            device=settings.demo_device,
            timeout_s=settings.demo_timeout_s,
            memory_mb=settings.demo_memory_mb,
            output_bytes=settings.demo_output_kb * 1024,
            queue_size=settings.demo_queue_size,
            require_sandbox=settings.environment == "production",
            tmp_size_mb=settings.demo_tmp_mb,
            gpu_memory_fraction=settings.demo_gpu_memory_fraction,
            gpu_workers=settings.demo_gpu_workers,
        )
        values.update(overrides)
        return cls(**values)


@dataclass
class _Worker:
    pid: int
    sock: socket.socket
    out_fd: int
    device_name: str
    deterministic: bool
    runs: int = 0
    device: str = "cpu"

    def close(self) -> None:
        try:
            self.sock.close()
        finally:
            with contextlib.suppress(OSError):
                os.close(self.out_fd)


@dataclass
class _Queued:
    job: Job
    on_event: OnEvent
    queued_at: float


class ZygoteStartError(RuntimeError):
    """The zygote died before it said hello; the message names the likely cause."""


class LocalPool:
    """Executor backed by local processes. Thread-safe; start() returns at once and the
    pool warms up in the background (``wait_ready`` blocks until it has)."""

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        # Round-robin by the learner who asked: one account's burst never starves another.
        # One queue per device kind: CPU slots take "cpu" jobs, CUDA slots "cuda" jobs.
        self._queues: dict[str, FairQueue[_Queued]] = {
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
            target.put_nowait(_Queued(job, on_event, time.perf_counter()), job.owner)
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

    # --- the zygote ------------------------------------------------------------------

    def _zygote_command(self, fd: int) -> list[str]:
        config = {
            "content_dir": str(self.config.content_dir),
            "device": self.config.device,
            "memory_mb": self.config.memory_mb,
            "threads": self.config.threads,
            "max_runs": self.config.max_runs_per_worker,
            "private_tmp": self.sandbox_kind.startswith("bwrap"),
            "gpu_memory_fraction": (
                self.config.gpu_memory_fraction or 0.9 / max(1, self.config.gpu_workers)
            ),
        }
        command = [
            sys.executable, "-m", "app.workers.zygote", "--fd", str(fd),
            "--config", json.dumps(config),
        ]  # fmt: skip
        if self.sandbox_kind.startswith("bwrap"):
            command = sandbox.bwrap_command(command, self.sandbox_spec())
        return command

    def sandbox_spec(self) -> sandbox.SandboxSpec:
        """What the zygote and its workers see: the interpreter (bound by the sandbox
        itself), the ``app`` package and the demo directory, read-only; GPU nodes only
        when this host has them and the pool may use CUDA."""
        binds = [PROJECT_ROOT / "app", self.config.content_dir / "demos"]
        return sandbox.SandboxSpec(
            binds=[*binds, *self.config.extra_visible],
            tmp_size_mb=self.config.tmp_size_mb,
            gpu=self._gpu_binds,
            env=self._zygote_env(),
        )

    def _zygote_env(self) -> dict[str, str]:
        return {
            "PYTHONPATH": str(PROJECT_ROOT),
            "OMP_NUM_THREADS": str(self.config.threads),
            "MKL_NUM_THREADS": str(self.config.threads),
        }

    def _launch(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sandbox.check_interpreter_visible()
        # The server's environment holds secrets (the key, database passwords): the zygote
        # (and bwrap itself, whose environment is /proc/1/environ inside) gets none of it.
        env = sandbox.sandbox_env()
        if not self.sandbox_kind.startswith("bwrap"):
            env.update(self._zygote_env())
        joiner = self._cgroup.joiner() if self._cgroup is not None else None
        # Runs in the supervisor thread, which lives as long as the pool: bwrap's
        # --die-with-parent follows the thread that started it. Its own session: a Ctrl+C
        # on the server's terminal must not reach (and so restart) the zygote.
        try:
            self._proc = subprocess.Popen(
                self._zygote_command(theirs.fileno()),
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                cwd="/",
                env=env,
                start_new_session=True,
                preexec_fn=joiner,
            )
        finally:
            if self._cgroup is not None:
                self._cgroup.close_joiner()
        theirs.close()
        assert self._proc.stderr is not None
        threading.Thread(
            target=self._pump_stderr, args=(self._proc.stderr,), name="demo-zygote-stderr",
            daemon=True,
        ).start()  # fmt: skip
        ours.settimeout(self.config.warmup_timeout_s + 60)
        try:
            data = ours.recv(1 << 20)
        except TimeoutError:
            data = b""
        ours.settimeout(0.5)
        if not data:
            code = self._proc.wait()
            time.sleep(0.05)  # let the stderr pump catch the last line
            raise ZygoteStartError(self._start_error(code))
        hello = json.loads(data)
        if hello.get("op") == "fatal":
            self._proc.wait()
            self._fatal = hello.get("error", "unknown error")
            raise RuntimeError(hello.get("traceback") or self._fatal)
        if hello["device"] == "cpu" and self._gpu_binds:
            # Binds for a GPU the zygote could not use: start again without /dev nodes.
            self._gpu_binds = False
            self._proc.kill()
            self._proc.wait()
            raise ZygoteStartError(
                "the zygote resolved no CUDA device; restarting without GPU binds"
            )
        self._ctrl = ours
        self._runtime = Runtime(
            device=hello["device"], torch_version=hello["torch"], sandbox=self.sandbox_kind
        )
        log.info(
            "demo zygote up: torch %s on %s, imported in %.2f s, %s demos preloaded, sandbox: %s",
            hello["torch"], hello["device"], hello["import_s"], hello["demos"], self.sandbox_kind,
        )  # fmt: skip
        self._early_failures = 0
        self._hello.set()
        if hello["device"] == "cuda":
            self._start_gpu_slots()

    def _pump_stderr(self, stream: Any) -> None:
        """Logs the zygote's (and its workers' early) stderr, keeping the last lines for
        the one-sentence error when it cannot start."""
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            if line:
                self._stderr_tail.append(line)
                log.warning("zygote: %s", line)
        stream.close()

    def _start_error(self, code: int) -> str:
        last = next((line for line in reversed(self._stderr_tail) if line.strip()), "")
        if "execvp" in last or "No such file" in last:
            return (
                f"the sandbox cannot start the interpreter {sys.executable} ({last}); "
                "is the virtualenv on a path the sandbox binds?"
            )
        if "bwrap" in last:
            return f"bubblewrap could not set up the sandbox: {last}"
        return f"the zygote exited with status {code} before saying hello: {last or 'no output'}"

    def _supervise(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                self._launch()
            except Exception as exc:
                if self._stopping.is_set():
                    return
                log.error("demo zygote failed to start: %s", exc)
                if self._fatal:
                    self._fail_all_queued()
                    return  # a configuration problem; retrying will not help
                if isinstance(exc, ZygoteStartError | sandbox.SandboxUnavailable):
                    self._early_failures += 1
                    # The same failure three times before any hello: a set-up problem,
                    # said once, instead of restarting for minutes.
                    if self._early_failures >= 3 or isinstance(exc, sandbox.SandboxUnavailable):
                        self._fatal = str(exc)
                        self._fail_all_queued()
                        return
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 10)
                continue
            backoff = 0.5
            self._read_control()
            self._hello.clear()
            while self._pending_spawns:
                self._pending_spawns.popleft().set_exception(RuntimeError("zygote exited"))
            while self._pending_sweeps:
                self._pending_sweeps.popleft().set_result(0)
            if self._proc is not None:
                try:
                    self._proc.wait(3)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            if not self._stopping.is_set():
                log.error("demo zygote exited; starting a new one")

    def _read_control(self) -> None:
        ctrl = self._ctrl
        assert ctrl is not None
        while True:
            try:
                data, fds, _flags, _addr = socket.recv_fds(ctrl, 65536, 2)
            except TimeoutError:
                if self._stopping.is_set() and (
                    self._proc is None or self._proc.poll() is not None
                ):
                    return
                continue
            except OSError:
                return
            if not data:
                return
            message = json.loads(data)
            op = message.get("op")
            if op == "spawned":
                future = self._pending_spawns.popleft()
                future.set_result((int(message["pid"]), fds))
            elif op == "swept":
                if self._pending_sweeps:
                    self._pending_sweeps.popleft().set_result(message.get("killed", 0))
            elif op == "exited":
                with self._exit_cond:
                    self._exits[int(message["pid"])] = int(message["status"])
                    while len(self._exits) > 1000:
                        self._exits.popitem(last=False)
                    self._exit_cond.notify_all()

    def _send_ctrl(self, message: dict[str, Any]) -> bool:
        with self._ctrl_lock:
            ctrl = self._ctrl
            if ctrl is None:
                return False
            try:
                ctrl.send(json.dumps(message).encode())
                return True
            except OSError:
                return False

    def _spawn(self, device: str = "cpu") -> tuple[int, list[int]]:
        future: Future = Future()
        with self._ctrl_lock:
            if self._ctrl is None or not self._hello.is_set():
                raise RuntimeError("zygote not ready")
            self._pending_spawns.append(future)
            try:
                self._ctrl.send(json.dumps({"op": "spawn", "device": device}).encode())
            except OSError:
                self._pending_spawns.remove(future)
                raise
        try:
            return future.result(timeout=30)
        except FutureTimeout:
            raise RuntimeError("the zygote did not fork a worker within 30 s") from None

    def _sweep(self, wait_s: float = 1.0) -> None:
        """Asks the zygote to kill stray processes and clean the private /tmp, and waits
        for it (about a millisecond: the sandbox's /proc holds a handful of processes)."""
        future: Future = Future()
        with self._ctrl_lock:
            if self._ctrl is None:
                return
            self._pending_sweeps.append(future)
            try:
                self._ctrl.send(b'{"op": "sweep"}')
            except OSError:
                self._pending_sweeps.remove(future)
                return
        with contextlib.suppress(FutureTimeout):
            future.result(timeout=wait_s)

    def _kill(self, worker: _Worker) -> None:
        if not self._send_ctrl({"op": "kill", "pid": worker.pid}) and self.sandbox_kind != "bwrap":
            # No PID namespace: the pid is ours to kill directly.
            for kill in (os.killpg, os.kill):
                try:
                    kill(worker.pid, 9)
                    break
                except (ProcessLookupError, PermissionError):
                    continue

    def _exit_status(self, pid: int, wait_s: float) -> int | None:
        with self._exit_cond:
            self._exit_cond.wait_for(lambda: pid in self._exits, wait_s)
            return self._exits.pop(pid, None)

    # --- slots -----------------------------------------------------------------------

    def _new_worker(self, device: str = "cpu") -> _Worker | None:
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
        worker = _Worker(
            pid=pid, sock=sock, out_fd=out_fd, device_name="", deterministic=False, device=device
        )
        sock.settimeout(self.config.warmup_timeout_s)
        try:
            ready = protocol.recv(sock)
        except (OSError, protocol.FrameTooLarge):
            ready = None
        if ready is None or ready.get("op") != "ready":
            self._kill(worker)
            output = _drain(out_fd, 4096).decode(errors="replace")
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
        worker: _Worker | None = None
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

    def _fresh_worker_for(self, item: _Queued, device: str) -> _Worker | None:
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

    def _finish(self, item: _Queued, outcome: Outcome) -> None:
        try:
            item.on_event(RunEvent("finished", item.job.run_id, 1.0, "", outcome))
        except Exception:
            log.exception("demo run %s: the finished callback failed", item.job.run_id)

    def _execute(self, worker: _Worker, item: _Queued) -> bool:
        """Runs one job on ``worker``; returns whether the worker can take another."""
        job, config = item.job, self.config
        timeout_s = job.timeout_s or config.timeout_s
        started = time.perf_counter()
        runtime = self._runtime
        try:
            item.on_event(RunEvent("started", job.run_id))
        except Exception:
            log.exception("demo run %s: the started callback failed", job.run_id)
        message = {
            "op": "run", "run_id": job.run_id, "name": job.demo_name, "path": job.demo_path,
            "code_hash": job.code_hash, "params": job.params, "seed": job.seed,
            "timeout_s": timeout_s, "threads": config.threads,
        }  # fmt: skip
        sock, out_fd = worker.sock, worker.out_fd
        oom_before = self._cgroup.oom_kills() if self._cgroup is not None else None
        final: dict[str, Any] | None = None
        failure: tuple[str, str] | None = None
        output = bytearray()
        try:
            protocol.send(sock, message)
        except OSError:
            failure = ("crashed", "The worker was gone before the run started.")
        sock.setblocking(False)
        os.set_blocking(out_fd, False)
        frames = protocol.FrameBuffer()
        deadline = started + timeout_s
        with selectors.DefaultSelector() as sel:
            sel.register(sock, selectors.EVENT_READ, "sock")
            sel.register(out_fd, selectors.EVENT_READ, "out")
            while final is None and failure is None:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    failure = ("timeout", f"The demo ran longer than its {timeout_s:g} s limit.")
                    break
                if self._stopping.is_set():
                    failure = ("unavailable", "The server is shutting down.")
                    break
                for key, _ in sel.select(min(remaining, 0.5)):
                    if key.data == "out":
                        data = _read(out_fd)
                        if data is None:
                            continue
                        if not data:
                            sel.unregister(out_fd)
                            continue
                        output += data
                        if len(output) > config.output_bytes:
                            failure = (
                                "output",
                                f"The demo printed more than {config.output_bytes // 1024} KiB.",
                            )
                            break
                    else:
                        try:
                            data = sock.recv(1 << 20)
                        except BlockingIOError:
                            continue
                        except OSError:
                            data = b""
                        if not data:
                            status = self._exit_status(worker.pid, 2.0)
                            oom = None
                            if oom_before is not None and self._cgroup is not None:
                                oom = self._cgroup.oom_kills() > oom_before
                            failure = limits.describe_exit(status, config.memory_mb, oom)
                            break
                        try:
                            messages = frames.feed(data)
                        except protocol.FrameTooLarge:
                            failure = ("invalid", "The demo's result is too large.")
                            break
                        for msg in messages:
                            if msg["op"] == "progress":
                                try:
                                    item.on_event(RunEvent("progress", job.run_id,
                                        msg["fraction"], msg.get("message", "")))  # fmt: skip
                                except Exception:
                                    log.exception("demo run %s: progress callback", job.run_id)
                            elif msg["op"] in ("result", "error"):
                                final = msg
        keep = failure is None and final is not None
        if failure is not None and failure[0] != "crashed":
            self._kill(worker)
        # Whatever the run left behind (processes it forked and detached, files outside
        # its temp dir) goes now, before the run is reported and before any next run.
        self._sweep()
        if len(output) <= config.output_bytes:
            output += _drain(out_fd, config.output_bytes + 1 - len(output))
        finished = time.perf_counter()
        text = bytes(output[: config.output_bytes]).decode(errors="replace")
        if len(output) > config.output_bytes:
            text += f"\n[output cut at {config.output_bytes // 1024} KiB]"
        common: dict[str, Any] = dict(
            output=text,
            device=worker.device,
            device_name=worker.device_name,
            torch_version=runtime.torch_version if runtime else None,
            deterministic=worker.deterministic,
        )
        timings = {
            "queue_ms": round((started - item.queued_at) * 1000, 3),
            "total_ms": round((finished - started) * 1000, 3),
        }
        if final is not None and final["op"] == "result":
            timings["run_ms"] = round(final["run_ms"], 3)
            timings["prepare_ms"] = round(final.get("prepare_ms", 0.0), 3)
            timings["serialize_ms"] = round(final.get("serialize_ms", 0.0), 3)
            timings["overhead_ms"] = round(timings["total_ms"] - final["run_ms"], 3)
            outcome = Outcome(status="succeeded", result=final["result"], timings=timings, **common)
        elif final is not None:
            code = final.get("code", "exception")
            outcome = Outcome.failure(
                code, _sentence(code, final.get("message", ""), config.memory_mb),
                final.get("traceback"), timings=timings, **common,
            )  # fmt: skip
            # A worker that hit a wall (memory, the sandbox, a CUDA or allocator error that
            # can leave the device or the heap broken) is replaced.
            keep = code not in ("memory", "sandbox") and not final.get("retire")
            if not keep:
                self._kill(worker)
        else:
            assert failure is not None
            outcome = Outcome.failure(failure[0], failure[1], timings=timings, **common)
        self._avg_run_s = 0.8 * self._avg_run_s + 0.2 * (finished - started)
        worker.runs += 1
        if worker.runs >= self._max_runs():
            keep = False
        sock.setblocking(True)
        self._finish(item, outcome)
        return keep


def _sentence(code: str, message: str, memory_mb: int) -> str:
    if code == "memory":
        return f"The demo ran out of memory (limit {memory_mb} MB): {message}"
    if code == "sandbox":
        return f"The sandbox stopped the demo: {message}"
    if code == "exception":
        return f"The demo raised {message}"
    return message


def _read(fd: int) -> bytes | None:
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return None
    except OSError:
        return b""


def _drain(fd: int, limit: int) -> bytes:
    """Whatever is already in a pipe, up to ``limit`` bytes, without blocking."""
    try:
        os.set_blocking(fd, False)
    except OSError:
        return b""
    data = bytearray()
    while len(data) < limit:
        chunk = _read(fd)
        if not chunk:
            break
        data += chunk
    return bytes(data[:limit])
