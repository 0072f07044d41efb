"""One demo run on a warm worker: send the job, watch its socket, its output and the
clock, and turn what happened into an Outcome."""

from __future__ import annotations

import logging
import os
import selectors
import time
from typing import Any

from app.workers import limits, protocol
from app.workers.executor import (
    Outcome,
    RunEvent,
)
from app.workers.pool_config import QueuedRun, WarmWorker
from app.workers.zygote_link import ZygoteLink

log = logging.getLogger("backprop.demos.pool")


class RunWatch(ZygoteLink):
    """The part of LocalPool that runs one job on a worker."""

    _avg_run_s: float

    def _finish(self, item: QueuedRun, outcome: Outcome) -> None:
        raise NotImplementedError

    def _max_runs(self) -> int:
        raise NotImplementedError

    def _execute(self, worker: WarmWorker, item: QueuedRun) -> bool:
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
            output += drain(out_fd, config.output_bytes + 1 - len(output))
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
                code, failure_sentence(code, final.get("message", ""), config.memory_mb),
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


def failure_sentence(code: str, message: str, memory_mb: int) -> str:
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


def drain(fd: int, limit: int) -> bytes:
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
