"""The demo pool's zygote: launch it (sandboxed), watch it, restart it, and talk to it
over its control socket (fork a worker, kill one, sweep strays)."""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from app.workers import sandbox
from app.workers.cgroup import Cgroup
from app.workers.executor import (
    Runtime,
)
from app.workers.pool_config import PROJECT_ROOT, PoolConfig, WarmWorker

log = logging.getLogger("backprop.demos.pool")


class ZygoteStartError(RuntimeError):
    """The zygote died before it said hello; the message names the likely cause."""


class ZygoteLink:
    """The zygote half of LocalPool."""

    # State the pool (LocalPool.__init__) sets up; this part keeps the zygote running.
    config: PoolConfig
    sandbox_kind: str
    _cgroup: Cgroup | None
    _ctrl: socket.socket | None
    _ctrl_lock: threading.Lock
    _early_failures: int
    _exit_cond: threading.Condition
    _exits: collections.OrderedDict[int, int]
    _fatal: str | None
    _gpu_binds: bool
    _hello: threading.Event
    _pending_spawns: collections.deque[Future]
    _pending_sweeps: collections.deque[Future]
    _proc: subprocess.Popen | None
    _runtime: Runtime | None
    _stderr_tail: collections.deque[str]
    _stopping: threading.Event

    def _fail_all_queued(self) -> None:
        raise NotImplementedError

    def _start_gpu_slots(self) -> None:
        raise NotImplementedError

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

    def _kill(self, worker: WarmWorker) -> None:
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
