"""Judging a learner's submission in a fresh sandboxed process, thrown away after it.

Each submission gets its own ``bwrap`` + Python process (never a reused one). To hide the
cost of starting Python and importing torch, the judge keeps a few *spares*: processes
already started and blocked reading their stdin, each still to be used exactly once.
At most ``workers`` submissions run at a time; others wait their turn.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import selectors
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import replace
from typing import Any

from app.exercises.format import Exercise
from app.exercises.sandboxing import JudgeLimits, SandboxUnavailable, judge_argv, sandbox_env
from app.workers.demo_copy import demo_outcome
from app.workers.exercise_cases import Prepared, prepare
from app.workers.judge_cgroup import PidsCgroup, create
from app.workers.judge_verdict import Verdict, verdict_from_result
from app.workers.judge_wire import WireError, decode, encode

log = logging.getLogger(__name__)

STDERR_KEPT = 16 * 1024
# bwrap (outer and the namespace's init) and the interpreter's own threads, on top of
# the processes a submission may start.
PIDS_OVERHEAD = 16
READY = b"R"  # the child's first byte, once torch is imported
STARTUP_S = 120.0  # a generous bound on the imports on a loaded machine


# Popen pid -> its pids cgroup (None where the host gives none).
_GROUPS: dict[int, PidsCgroup | None] = {}


class Judge:
    """Thread-safe. ``judge(exercise, code)`` never raises for anything the code does."""

    def __init__(
        self,
        *,
        workers: int = 2,
        spares: int = 2,
        limits: JudgeLimits | None = None,
        allow_unsandboxed: bool = False,
    ) -> None:
        self.limits = limits or JudgeLimits()
        self.allow_unsandboxed = allow_unsandboxed
        if allow_unsandboxed:
            log.warning(
                "THE JUDGE RUNS LEARNER CODE WITHOUT A SANDBOX if bwrap is missing "
                "(development override): never use this on a shared server"
            )
        self._slots = threading.Semaphore(workers)
        self._spares: deque[subprocess.Popen[bytes]] = deque()
        self._spare_count = spares
        self._lock = threading.Lock()
        self._closed = False
        self._refilling = threading.Lock()
        # Spares are started from this one long-lived thread: bwrap's --die-with-parent
        # is tied to the *thread* that forked it, so a short-lived thread's spares would
        # be killed as soon as it ended.
        self._wake = threading.Event()
        threading.Thread(target=self._refill_loop, daemon=True).start()

    # --- processes -------------------------------------------------------------

    def _start(self) -> subprocess.Popen[bytes]:
        argv, _ = judge_argv(self.limits, allow_unsandboxed=self.allow_unsandboxed)
        group = create(self.limits.processes + PIDS_OVERHEAD)
        process = subprocess.Popen(
            argv,
            preexec_fn=group.join_from_child if group else None,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=sandbox_env(),
            cwd="/",
            start_new_session=True,
            close_fds=True,
        )
        _GROUPS[process.pid] = group
        return process

    def _take(self) -> subprocess.Popen[bytes]:
        with self._lock:
            while self._spares:
                process = self._spares.popleft()
                if process.poll() is None:
                    return process
        return self._start()

    def _refill_loop(self) -> None:
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            if not self._closed:
                self._refill()

    def _refill(self) -> None:
        # One refill at a time: a burst of verdicts must not start a burst of processes
        # all importing torch at once (each would then take minutes to get ready).
        if not self._refilling.acquire(blocking=False):
            return
        try:
            self._refill_now()
        finally:
            self._refilling.release()

    def _refill_now(self) -> None:
        with self._lock:
            missing = 0 if self._closed else self._spare_count - len(self._spares)
        for _ in range(missing):
            try:
                process = self._start()
            except (SandboxUnavailable, OSError):
                return
            with self._lock:
                if self._closed:
                    _kill(process)
                    return
                self._spares.append(process)

    def ready_spares(self) -> int:
        """Spares that have finished starting (their ready byte waits to be read)."""
        with self._lock:
            streams = [p.stdout for p in self._spares if p.stdout is not None]
        if not streams:
            return 0
        readable, _, _ = select.select(streams, [], [], 0)
        return len(readable)

    def warm_up(self) -> None:
        """Starts the spares now (they take a second or two to import torch)."""
        self._wake.set()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._wake.set()
        with self._lock:
            spares, self._spares = list(self._spares), deque()
        for process in spares:
            _kill(process)

    # --- judging ---------------------------------------------------------------

    def judge(self, exercise: Exercise, code: str) -> Verdict:
        prepared = prepare(exercise)  # trusted: the reference runs here, cached
        with self._slots:
            started = time.perf_counter()
            verdict = self._run(prepared, code)
        self._wake.set()
        return replace(verdict, seconds=time.perf_counter() - started)

    def run_demo(self, source: str, params: dict[str, Any]) -> dict[str, Any]:
        """Runs a learner's edited copy of a demo exactly like a submission: a fresh
        sandboxed process, the same limits, thrown away after. Never raises for anything
        the code does; see ``demo_outcome`` for the answer's shape."""
        request = {"mode": "demo", "code": source, "params": params, "limits": self._limits()}
        with self._slots:
            started = time.perf_counter()
            failure, result = self._execute(request)
        self._wake.set()
        seconds = time.perf_counter() - started
        if failure is not None:
            message = failure.message.replace("submission", "demo")
            return {"ok": False, "reason": failure.reason, "message": message, "seconds": seconds}
        return demo_outcome(result, seconds)

    def _limits(self) -> dict[str, int]:
        limits = self.limits
        return {
            "cpu_s": limits.cpu_s,
            "memory_mb": limits.memory_mb,
            "file_mb": limits.file_mb,
            "processes": limits.processes,
            "output_mb": limits.output_mb,
        }

    def _run(self, prepared: Prepared, code: str) -> Verdict:
        meta = prepared.exercise.meta
        request = {
            "code": code,
            "function": meta.FUNCTION,
            "forbidden": list(meta.FORBIDDEN),
            "grad_args": list(meta.GRAD_ARGS),
            "cases": [[c.name, list(c.args), c.kwargs] for c in prepared.cases],
            "limits": self._limits(),
        }
        failure, result = self._execute(request)
        if failure is not None:
            return failure
        return verdict_from_result(prepared, result)

    def _execute(self, request: dict[str, Any]) -> tuple[Verdict | None, Any]:
        """Runs one request in a fresh sandboxed child: (a failure verdict, None) when it
        gave no readable result, else (None, the decoded, still untrusted, result)."""
        limits = self.limits
        try:
            process = self._take()
        except SandboxUnavailable as exc:
            return Verdict(False, "unavailable", f"Your code was not run: {exc}."), None
        try:
            stdout, stderr, outcome = _exchange(
                process, encode(request), limits.wall_s, limits.output_mb * 1024 * 1024
            )
        finally:
            _kill(process)
        if outcome == "timeout":
            return Verdict(
                False, "timeout", f"Stopped after {limits.wall_s:g} s: the code took too long."
            ), None
        if outcome == "startup":
            return Verdict(
                False, "unavailable", "The sandbox took too long to start; try again later."
            ), None
        if outcome == "output":
            return Verdict(
                False, "output", f"The submission wrote more than {limits.output_mb} MB."
            ), None
        status = process.returncode
        if not stdout:
            return _no_result(status, stderr, limits), None
        try:
            result = decode(stdout, max_bytes=limits.output_mb * 1024 * 1024)
        except WireError as exc:
            return Verdict(False, "crashed", f"The submission's result is unreadable: {exc}."), None
        return None, result


def _exchange(
    process: subprocess.Popen[bytes], payload: bytes, wall_s: float, max_out: int
) -> tuple[bytes, bytes, str]:
    """Sends the payload, then reads stdout (at most ``max_out`` bytes) and stderr until
    the process exits or ``wall_s`` passes. Returns (stdout, stderr, outcome)."""
    assert process.stdin and process.stdout and process.stderr
    writer = threading.Thread(target=_write_all, args=(process, payload), daemon=True)
    writer.start()
    deadline = time.monotonic() + STARTUP_S
    ready = False
    out, err = bytearray(), bytearray()
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ, out)
    selector.register(process.stderr, selectors.EVENT_READ, err)
    open_streams = 2
    try:
        while open_streams:
            left = deadline - time.monotonic()
            if left <= 0:
                return bytes(out), bytes(err), "timeout" if ready else "startup"
            for key, _ in selector.select(timeout=min(left, 0.5)):
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    selector.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                buffer: bytearray = key.data
                if buffer is err:
                    if len(err) < STDERR_KEPT:
                        err.extend(chunk[: STDERR_KEPT - len(err)])
                    continue
                if not ready:
                    if not chunk.startswith(READY):
                        return bytes(out), bytes(err), "done"  # not our child's output
                    ready, chunk = True, chunk[len(READY) :]
                    deadline = time.monotonic() + wall_s
                buffer.extend(chunk)
                if len(out) > max_out + 1024 * 1024:
                    return bytes(out), bytes(err), "output"
        left = max(deadline - time.monotonic(), 0.1)
        try:
            process.wait(timeout=left)
        except subprocess.TimeoutExpired:
            return bytes(out), bytes(err), "timeout"
        return bytes(out), bytes(err), "done"
    finally:
        selector.close()


def _write_all(process: subprocess.Popen[bytes], payload: bytes) -> None:
    assert process.stdin
    with contextlib.suppress(OSError):
        process.stdin.write(payload)
    with contextlib.suppress(OSError):
        process.stdin.close()


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, parents first, from the parent ids in /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                ppid = int(file.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    stack = [pid]
    while stack:
        kids = children.get(stack.pop(), [])
        found.extend(kids)
        stack.extend(kids)
    return found


def _pid_namespace(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def _in_namespace(namespace: str) -> list[int]:
    return [
        int(entry)
        for entry in os.listdir("/proc")
        if entry.isdigit() and _pid_namespace(int(entry)) == namespace
    ]


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kills bwrap and every process of the sandbox's PID namespace, and waits until they
    are gone.

    The namespace is found from bwrap's descendants before anything is killed, then every
    process in it is killed by namespace, not by ancestry or session: a submission's
    children may call setsid or be re-parented once bwrap dies, and the kernel's own
    teardown of the namespace takes seconds under load.
    """
    group = _GROUPS.pop(process.pid, None)
    if group is not None:
        # Exact: the group holds this run's processes and nothing else. (A namespace's
        # inode number is reused as soon as it is freed, so killing "by namespace" could
        # hit the next run's sandbox; that path is only the fallback below.)
        group.kill_all()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        _close_streams(process)
        return
    own = _pid_namespace(os.getpid())
    namespaces = (
        set()
        if process.poll() is not None
        else {
            ns
            for pid in _descendants(process.pid)
            if (ns := _pid_namespace(pid)) not in (None, own)
        }
    )
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    for namespace in namespaces:
        while time.monotonic() < deadline:
            alive = [pid for pid in _in_namespace(namespace) if not _zombie(pid)]
            if not alive:
                break
            for pid in alive:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
    _close_streams(process)


def _close_streams(process: subprocess.Popen[bytes]) -> None:
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def _no_result(status: int | None, stderr: bytes, limits: JudgeLimits) -> Verdict:
    if status is not None and 128 < status < 128 + 65:
        status = 128 - status  # bwrap exits 128 + N when its child dies of signal N
    if status is not None and status < 0:
        sig = -status
        if sig == signal.SIGXCPU:
            return Verdict(False, "timeout", f"Stopped: the code used its {limits.cpu_s} s of CPU.")
        if sig == signal.SIGKILL:
            return Verdict(False, "crashed", "The submission's process was killed.")
        if sig == signal.SIGXFSZ:
            return Verdict(False, "crashed", f"The code wrote a file over {limits.file_mb} MB.")
        return Verdict(
            False, "crashed", f"The submission's process died ({signal.Signals(sig).name})."
        )
    tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] if stderr else []
    if status and tail and "bwrap" in tail[0]:
        log.error("the judge sandbox failed to start: %s", tail[0])
        return Verdict(False, "unavailable", f"The sandbox could not start: {tail[0]}")
    return Verdict(
        False,
        "crashed",
        f"Your code ended its process (exit status {status}) before returning results.",
    )
