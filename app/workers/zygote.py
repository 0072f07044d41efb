"""The zygote: one process that imports torch once and forks warm workers on request.

Run as ``python -m app.workers.zygote --fd N --config JSON`` by the pool (inside bubblewrap
when available). ``N`` is a SOCK_SEQPACKET control socket to the pool:

  pool -> zygote  {"op": "spawn"}        fork a worker; reply {"op": "spawned", "pid"}
                                          with two descriptors attached: the worker's
                                          message socket and the read end of its output pipe
  pool -> zygote  {"op": "kill", "pid"}  SIGKILL the worker's whole process group
  pool -> zygote  {"op": "sweep"}        after each run: kill every process below the
                                          zygote that is not a worker (a demo that forked
                                          and detached), and, in the sandbox's private
                                          /tmp, delete what no live worker owns
  zygote -> pool  {"op": "hello", ...}   torch imported, ready to fork
  zygote -> pool  {"op": "exited", "pid", "status"}  a worker was reaped

The zygote never runs a tensor op and never touches CUDA (forking after either is unsafe:
OpenMP thread pools and CUDA contexts do not survive fork). Workers do both after the fork.
It is a child subreaper, so whatever a worker leaves behind is reaped here: no zombies.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import os
import select
import shutil
import signal
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

# Before torch loads: one intra-op thread, and an availability check that asks NVML
# instead of creating a CUDA context in a process that will fork.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"] = "1"
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

PR_SET_CHILD_SUBREAPER = 36
WORKER_DIR_PREFIX = "backprop-worker-"


def _process_parents() -> dict[int, int]:
    """pid -> parent pid, for every process this /proc shows."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                rest = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(entry)] = int(rest[1])
    return parents


def strays(me: int, workers: set[int]) -> list[int]:
    """Every descendant of ``me`` that is not a worker. Workers never have children of
    their own (the guard refuses ``fork``), and orphans of a run are re-parented to the
    zygote (a subreaper), so this finds everything a run started, detached or not."""
    parents = _process_parents()
    found = []
    for pid in parents:
        if pid == me or pid in workers:
            continue
        ancestor, hops = parents.get(pid, 0), 0
        while ancestor > 1 and ancestor != me and hops < 64:
            ancestor, hops = parents.get(ancestor, 0), hops + 1
        if ancestor == me:
            found.append(pid)
    return found


def kill_strays(me: int, workers: set[int]) -> int:
    """SIGKILLs stray processes until none is left (a fork loop may add more while we
    kill); returns how many were killed."""
    killed = 0
    for _ in range(50):
        found = strays(me, workers)
        if not found:
            break
        for pid in found:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        time.sleep(0.005)
    return killed


def clean_private_tmp(workers: set[int]) -> None:
    """In the sandbox's own /tmp and /dev/shm: delete every entry that is not a live
    worker's directory (a run that wrote outside its temp dir leaves nothing for later
    runs). Never called without the sandbox: /tmp is the host's then."""
    keep = tuple(f"{WORKER_DIR_PREFIX}{pid}-" for pid in workers)
    for root in ("/tmp", "/dev/shm"):
        try:
            entries = os.listdir(root)
        except OSError:
            continue
        for entry in entries:
            if entry.startswith(keep):
                continue
            path = os.path.join(root, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(path)


def _send(ctrl: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    data = json.dumps(message).encode()
    if fds:
        socket.send_fds(ctrl, [data], fds)
    else:
        ctrl.send(data)


def resolve_device(wanted: str) -> str:
    import torch

    available = torch.cuda.is_available()  # NVML-based: creates no CUDA context
    if wanted == "cuda" and not available:
        raise RuntimeError("BACKPROP_DEMO_DEVICE=cuda but no CUDA device is available")
    if wanted == "auto":
        return "cuda" if available else "cpu"
    return wanted


def preload(content_dir: str) -> dict[str, Any]:
    """Imports every demo module once, so a worker only looks them up. Keyed by code hash:
    a worker checks the job's hash and loads the file afresh if it changed since."""
    from app.demos.registry import DemoError, load_demo

    specs: dict[str, Any] = {}
    demos = Path(content_dir) / "demos"
    for path in sorted(demos.glob("*.py")) if demos.is_dir() else []:
        if path.name.startswith("_"):
            continue
        try:
            spec = load_demo(path)
        except DemoError as exc:
            print(f"zygote: skipping {exc}", file=sys.stderr)
            continue
        specs[spec.code_hash] = spec
    return specs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--config", required=True)
    args = parser.parse_args()
    config = json.loads(args.config)
    ctrl = socket.socket(fileno=args.fd)

    started = time.perf_counter()
    try:
        import numpy
        import numpy.random  # noqa: F401
        import torch
        import torch.nn  # noqa: F401
        import torch.nn.functional  # noqa: F401
        import torch.optim  # noqa: F401

        torch.set_num_threads(config.get("threads", 1))
        torch.set_num_interop_threads(1)
        device = resolve_device(config.get("device", "auto"))
        # Seeding is not a tensor op, but its first call imports and builds generators
        # (about 10 ms for numpy): pay that once here, not in every forked worker.
        numpy.random.seed(0)
        torch.manual_seed(0)
        # The first switch into deterministic mode imports a lot (5.6 s measured on an
        # H200 host): pay it once here, not in every forked worker. No tensor op, no CUDA.
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.use_deterministic_algorithms(False)
        import app.demos.contract  # noqa: F401
        from app.workers import worker

        specs = preload(config["content_dir"])
    except Exception as exc:
        _send(ctrl, {"op": "fatal", "error": f"{type(exc).__name__}: {exc}",
                     "traceback": traceback.format_exc()})  # fmt: skip
        sys.exit(2)

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except Exception:  # not Linux: orphans go to init instead
        pass

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: set[int] = set()

    # Objects alive now are never collected in a worker: keep the collector from walking
    # (and so copying) every page the worker shares with the zygote.
    gc.collect()
    gc.freeze()

    _send(ctrl, {
        "op": "hello",
        "pid": os.getpid(),
        "torch": torch.__version__,
        "device": device,
        "import_s": round(time.perf_counter() - started, 3),
        "demos": len(specs),
    })  # fmt: skip

    def reap() -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
            if pid in children:
                children.discard(pid)
                # OSError: the pool is gone and we are shutting down.
                with contextlib.suppress(OSError):
                    _send(ctrl, {"op": "exited", "pid": pid, "status": code})

    def spawn(wanted: str = "cpu") -> None:
        # A CPU worker on a GPU host never touches CUDA; CUDA only where the zygote saw it.
        worker_device = "cuda" if wanted == "cuda" and device == "cuda" else "cpu"
        parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_r, out_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.close(wake_r)
                os.close(wake_w)
                ctrl.close()
                parent_sock.close()
                os.close(out_r)
                os.setsid()  # its own process group: the pool kills the group
                os.dup2(out_w, 1)
                os.dup2(out_w, 2)
                os.close(out_w)
                worker.main(child_sock, config, worker_device, specs)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(0)
        children.add(pid)
        child_sock.close()
        os.close(out_w)
        _send(ctrl, {"op": "spawned", "pid": pid}, [parent_sock.fileno(), out_r])
        parent_sock.close()
        os.close(out_r)

    def kill(pid: int) -> None:
        if pid not in children:
            return
        for target in (
            lambda: os.killpg(pid, signal.SIGKILL),
            lambda: os.kill(pid, signal.SIGKILL),
        ):
            try:
                target()
                return
            except ProcessLookupError:
                continue

    me = os.getpid()
    private_tmp = bool(config.get("private_tmp"))

    def sweep() -> int:
        killed = kill_strays(me, children)
        if killed:
            reap()
        if private_tmp:
            clean_private_tmp(children)
        return killed

    running = True
    while running:
        try:
            ready, _, _ = select.select([ctrl.fileno(), wake_r], [], [], 1.0)
        except InterruptedError:
            continue
        if wake_r in ready:
            os.read(wake_r, 512)
        reap()
        if not ready:
            sweep()  # idle second: catch anything started mid-run, too
        if ctrl.fileno() in ready:
            data = ctrl.recv(65536)
            if not data:
                break  # the pool went away
            message = json.loads(data)
            op = message.get("op")
            if op == "spawn":
                spawn(str(message.get("device") or "cpu"))
            elif op == "kill":
                kill(int(message["pid"]))
            elif op == "sweep":
                _send(ctrl, {"op": "swept", "killed": sweep()})
            elif op == "stop":
                running = False

    for pid in list(children):
        kill(pid)
    deadline = time.monotonic() + 2
    while children and time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, 0)
            children.discard(pid)
        except ChildProcessError:
            break


if __name__ == "__main__":
    main()
