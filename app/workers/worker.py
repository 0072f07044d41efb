"""One warm worker, forked from the zygote: warms up, applies limits, runs jobs.

Messages to the pool (length-prefixed JSON on the worker's socket):
  {"op": "ready", "device_name", "deterministic"}
  {"op": "progress", "fraction", "message"}
  {"op": "result", "result", "run_ms"}
  {"op": "error", "code", "message", "traceback"}
stdout and stderr go to a pipe the pool reads and caps.
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
import shutil
import socket
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from app.workers import limits, protocol, sandbox

PROGRESS_INTERVAL_S = 0.05
# A worker serves this many runs, then exits and the pool forks a fresh one. The first run
# in a fresh fork pays copy-on-write faults (about 15 ms for the reference demo); later runs
# cost what an in-process call does. Any failure retires the worker at once.
DEFAULT_MAX_RUNS = 50


def _warm_up(device: str) -> tuple[str, bool]:
    """The first op of a fresh process pays for lazy initialisation; pay it before a job
    arrives. Returns (device name, whether runs are deterministic on it)."""
    import torch

    if device == "cuda":
        torch.cuda.init()
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)
        name = torch.cuda.get_device_name()
    else:
        name = platform.processor() or platform.machine() or "cpu"
        name = f"CPU ({name}, {torch.get_num_threads()} thread)"
    _no_tf32()
    x = torch.randn(32, 32, device=device, requires_grad=True)
    (torch.tanh(x @ x).sum()).backward()
    if device == "cuda":
        torch.cuda.synchronize()
    return name, True


def _no_tf32() -> None:
    """Full fp32 matmuls and convolutions: TF32 (on by default for cuDNN on Ampere and
    later) changes results at 1e-4, enough to fail a claim that passes on CPU."""
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")


def apply_gpu_memory_fraction(device: str, fraction: float) -> None:
    """This worker's share of the GPU's memory: a run past it gets a CUDA out-of-memory
    error (and the worker is retired), not the other workers' memory."""
    if device != "cuda" or not 0 < fraction <= 1:
        return
    import torch

    torch.cuda.set_per_process_memory_fraction(fraction)


def _reset(seed: int, device: str, threads: int) -> None:
    """Seeds every generator and undoes global torch settings a previous run may have
    changed, so a reused worker starts each run as a fresh one would."""
    import torch

    torch.set_grad_enabled(True)
    torch.set_default_dtype(torch.float32)
    _no_tf32()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    deterministic = device == "cuda"
    # The setter imports a lot on first call (seconds); only call it to change something.
    if torch.are_deterministic_algorithms_enabled() != deterministic:
        torch.use_deterministic_algorithms(deterministic, warn_only=True)
    _seed(seed, device)


def _seed(seed: int, device: str) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if device == "cuda":
        torch.cuda.manual_seed_all(seed)


def _load(job: dict[str, Any], specs: dict[str, Any]) -> Any:
    spec = specs.get(job["code_hash"])
    if spec is not None and str(spec.path) == job["path"]:
        return spec
    from app.demos.registry import load_demo

    spec = load_demo(Path(job["path"]))
    if spec.code_hash != job["code_hash"]:
        raise CodeChanged(f"{job['path']} changed since the run was requested; run it again")
    specs[spec.code_hash] = spec
    return spec


class CodeChanged(Exception):
    pass


def _run_one(
    sock: socket.socket, job: dict[str, Any], device: str, guard: sandbox.Guard, base: str
) -> None:
    from app.demos.contract import DemoContext, DemoResult

    last = [0.0]

    def progress(fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_INTERVAL_S and fraction < 1:
            return
        last[0] = now
        frac = min(max(float(fraction), 0.0), 1.0)
        protocol.send(sock, {"op": "progress", "fraction": frac, "message": str(message)[:200]})

    received = time.perf_counter()
    tmp = tempfile.mkdtemp(prefix="run-", dir=base)
    os.chdir(tmp)
    os.environ["TMPDIR"] = tmp
    tempfile.tempdir = tmp
    guard.allowed = (os.path.realpath(tmp), "/dev/null")
    guard.violation = None
    limits.apply_cpu_limit(float(job["timeout_s"]))
    try:
        guard.active = True  # a changed demo file is imported here: guard its top level too
        spec = _load(job, specs=_SPECS)
        params = spec.params_model.model_validate(job["params"])
        _reset(int(job.get("seed", 0)), device, int(job.get("threads", 1)))
        ctx = DemoContext(device=device, seed=int(job.get("seed", 0)), progress=progress)
        started = time.perf_counter()
        try:
            result = spec.run(params, ctx)
            if device == "cuda":
                import torch

                torch.cuda.synchronize()
        finally:
            guard.active = False
        ended = time.perf_counter()
        run_ms = (ended - started) * 1000
        if guard.violation:
            raise sandbox.SandboxViolation(guard.violation)
        if not isinstance(result, DemoResult):
            result = DemoResult.model_validate(result)
        payload = result.model_dump_json()
        sys.stdout.flush()
        sys.stderr.flush()
        prepare_ms = (started - received) * 1000
        serialize_ms = (time.perf_counter() - ended) * 1000
        reply: dict[str, Any] | str = (
            f'{{"op":"result","run_ms":{run_ms:.3f},"prepare_ms":{prepare_ms:.3f},'
            f'"serialize_ms":{serialize_ms:.3f},"result":{payload}}}'
        )
    except BaseException as exc:  # report everything, SystemExit included
        guard.active = False
        if guard.violation or isinstance(exc, sandbox.SandboxViolation):
            code, message = "sandbox", guard.violation or str(exc)
        elif limits.is_memory_error(exc):
            code, message = "memory", f"{type(exc).__name__}: {str(exc)[:300]}"
        elif isinstance(exc, CodeChanged):
            code, message = "code_changed", str(exc)
        elif isinstance(exc, ValueError) and type(exc).__name__ == "ValidationError":
            code, message = "invalid", f"{type(exc).__name__}: {str(exc)[:500]}"
        else:
            code, message = "exception", f"{type(exc).__name__}: {str(exc)[:500]}"
        # A CUDA or allocator failure may leave the device or heap broken: retire.
        retire = code in ("memory", "sandbox") or limits.is_device_error(exc)
        tb = traceback.format_exc()
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        reply = {"op": "error", "code": code, "message": message, "traceback": tb, "retire": retire}
    finally:
        # Before the reply: the pool may hand the next job to another worker at once, and
        # it must find the sandbox's /tmp as empty as this run found it.
        os.chdir(base)
        _empty(base)
    protocol.send(sock, reply)


def _empty(directory: str) -> None:
    """Deletes everything inside ``directory`` (this run's temp dir and anything else the
    run put next to it), keeping the directory."""
    for entry in os.listdir(directory):
        path = os.path.join(directory, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)


_SPECS: dict[str, Any] = {}


def main(sock: socket.socket, config: dict[str, Any], device: str, specs: dict[str, Any]) -> None:
    _SPECS.update(specs)
    sys.dont_write_bytecode = True
    base = tempfile.mkdtemp(prefix=f"backprop-worker-{os.getpid()}-", dir=sandbox.SANDBOX_TMP)
    device_name, deterministic = _warm_up(device)
    _seed(0, device)
    os.rmdir(tempfile.mkdtemp(dir=base))
    apply_gpu_memory_fraction(device, float(config.get("gpu_memory_fraction") or 0))
    limits.apply_static_limits(
        int(config["memory_mb"]), max_threads=int(config.get("max_threads") or 0)
    )
    guard = sandbox.install_guard()
    protocol.send(sock, {"op": "ready", "device_name": device_name, "deterministic": deterministic})
    max_runs = config.get("max_runs") or DEFAULT_MAX_RUNS
    for _ in range(int(max_runs)):
        job = protocol.recv(sock)
        if job is None or job.get("op") != "run":
            break
        _run_one(sock, job, device, guard, base)
    shutil.rmtree(base, ignore_errors=True)
