"""Hostile test demo: tries one way out of the sandbox (chosen by ``attack``) with ctypes,
which the in-process guard cannot see, and reports what it got."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import DemoContext, DemoResult

TITLE = "probe"
DESCRIPTION = "Tries one way out of the sandbox and reports what it got."
CLAIMS: dict[str, str] = {}

Attack = Literal[
    "read",
    "environ",
    "remount",
    "write_raw",
    "fork_setsid",
    "tmp_fill",
    "threads",
    "signal",
    "tmp_leave",
    "tmp_look",
    "pid",
    "device_error",
]


class Params(BaseModel):
    attack: Attack = Field("read", description="What to try")
    target: str = Field("", max_length=500, description="A path or marker name")
    pid: int = Field(0, ge=0, le=2**22, description="A process id")
    megabytes: int = Field(1, ge=1, le=4096, description="How much to write")


def _libc():  # type: ignore[no-untyped-def]
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _raw_write(path: str, data: bytes) -> str:
    """open/write through libc: the audit hook never sees it."""
    import ctypes
    import os

    libc = _libc()
    fd = libc.open(path.encode(), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    if fd < 0:
        return f"open failed: {os.strerror(ctypes.get_errno())}"
    written = libc.write(fd, data, len(data))
    libc.close(fd)
    return f"wrote {written}"


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import ctypes
    import os
    import threading
    import time

    found: dict[str, str | int | float | bool] = {}
    if params.attack == "read":
        try:
            with open(params.target, "rb") as handle:
                found["content"] = handle.read(4096).decode(errors="replace")
        except OSError as exc:
            found["error"] = f"{type(exc).__name__}: {exc.strerror}"
    elif params.attack == "environ":
        found["os_environ"] = repr(dict(os.environ))
        for proc in ("/proc/1/environ", "/proc/self/environ", f"/proc/{os.getppid()}/environ"):
            try:
                with open(proc, "rb") as handle:
                    found[proc] = handle.read().decode(errors="replace")
            except OSError as exc:
                found[proc] = f"error: {exc.strerror}"
    elif params.attack == "remount":
        ms_remount, ms_bind = 32, 4096
        result = _libc().mount(None, b"/", None, ms_remount | ms_bind, None)
        found["mount"] = result
        found["errno"] = os.strerror(ctypes.get_errno()) if result != 0 else ""
    elif params.attack == "write_raw":
        found["result"] = _raw_write(params.target, b"escaped")
    elif params.attack == "fork_setsid":
        libc = _libc()
        children = []
        for _ in range(5):
            pid = libc.fork()
            if pid == 0:  # the child: detach and spin
                libc.setsid()
                end = time.monotonic() + 60
                while time.monotonic() < end:
                    pass
                os._exit(0)
            children.append(pid)
        found["children"] = ",".join(map(str, children))
    elif params.attack == "tmp_fill":
        chunk = b"x" * (1 << 20)
        with open("fill.bin", "wb") as handle:
            for _ in range(params.megabytes):
                handle.write(chunk)
        found["written_mb"] = params.megabytes
    elif params.attack == "threads":
        stop = threading.Event()
        started = 0
        try:
            for _ in range(100000):
                threading.Thread(target=stop.wait, daemon=True).start()
                started += 1
        finally:
            found["started"] = started
        stop.set()
    elif params.attack == "signal":
        result = _libc().kill(params.pid, 15)
        found["kill"] = result
        found["errno"] = os.strerror(ctypes.get_errno()) if result != 0 else ""
    elif params.attack == "tmp_leave":
        found["result"] = _raw_write(f"/tmp/{params.target}", b"y" * (params.megabytes << 20))
    elif params.attack == "device_error":
        # What a broken CUDA context or allocator raises: the worker must be retired.
        raise RuntimeError("CUDA error: an illegal memory access was encountered")
    elif params.attack == "pid":
        found["pid"] = os.getpid()
    elif params.attack == "tmp_look":
        found["exists"] = os.path.exists(f"/tmp/{params.target}")
    return DemoResult(summary=params.attack, metrics=found)
