"""Isolation for demo processes: bubblewrap around the zygote, and an audit-hook guard
inside each worker.

bubblewrap (``/usr/bin/bwrap``) is the real boundary: the zygote and every worker it forks
see a read-only root, a private ``/tmp``, no network, and their own PID namespace. It costs
one ``bwrap`` exec when the zygote starts, nothing per run. When bwrap is absent the pool
says so (``Runtime.sandbox`` and a log line) and only the guard below remains.

The guard is a ``sys.addaudithook`` installed in each worker before it runs a demo: it
refuses writes outside the run's temp dir, sockets and new processes with a clear
message. Python code can get around an audit hook (ctypes), so it is a second layer and a
source of clear errors, not a boundary by itself.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

SANDBOX_TMP = "/tmp"


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def bwrap_command(
    command: Sequence[str], *, visible: Sequence[Path] = (), gpu: bool = False
) -> list[str]:
    """Wraps ``command`` so it runs with a read-only root, a fresh /tmp, no network and its
    own PID namespace (it and all its children die with the pool's process).

    ``visible`` paths (the content dir) are bound read-only after /tmp is replaced, so a
    content dir that lives under /tmp (tests) stays visible.
    """
    bwrap = bwrap_path()
    if bwrap is None:
        raise RuntimeError("bwrap is not installed")
    args = [bwrap, "--ro-bind", "/", "/"]
    # CUDA needs the real /dev/nvidia* nodes; CPU runs get a minimal /dev.
    args += ["--dev-bind", "/dev", "/dev"] if gpu else ["--dev", "/dev"]
    args += ["--proc", "/proc", "--tmpfs", SANDBOX_TMP]
    for path in visible:
        resolved = str(Path(path).resolve())
        if Path(resolved).exists():
            args += ["--ro-bind", resolved, resolved]
    args += [
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--die-with-parent",
        "--setenv", "HOME", SANDBOX_TMP,
        "--setenv", "TMPDIR", SANDBOX_TMP,
        "--",
    ]  # fmt: skip
    return args + list(command)


class SandboxViolation(PermissionError):
    """A demo did something the sandbox forbids; the message says what."""


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PATH_EVENTS = {
    "os.remove": 1,
    "os.rmdir": 1,
    "os.mkdir": 1,
    "os.truncate": 1,
    "os.chmod": 1,
    "os.chown": 1,
    "os.utime": 1,
    "os.rename": 2,
    "os.link": 2,
    "os.symlink": 2,
    "shutil.rmtree": 1,
}
_PROCESS_EVENTS = {
    "subprocess.Popen",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.forkpty",
    "pty.spawn",
}
_NETWORK_EVENTS = {"socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo"}


class Guard:
    """Audit hook state: the one directory a run may write to, and the first violation."""

    def __init__(self) -> None:
        self.allowed: tuple[str, ...] = ()
        self.violation: str | None = None
        self.active = False

    def _writable(self, path: object) -> bool:
        if isinstance(path, int):
            return True  # an already-open descriptor
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str | os.PathLike):
            return True
        real = os.path.realpath(os.fspath(path))
        return any(real == root or real.startswith(root + os.sep) for root in self.allowed)

    def _refuse(self, message: str) -> None:
        if self.violation is None:
            self.violation = message
        raise SandboxViolation(message)

    def __call__(self, event: str, args: tuple) -> None:
        if not self.active:
            return
        if event == "open":
            path, mode, flags = args
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if writing and not self._writable(path):
                self._refuse(f"writing outside the run's temp dir is not allowed: {path}")
        elif event in _PATH_EVENTS:
            for path in args[: _PATH_EVENTS[event]]:
                if not self._writable(path):
                    self._refuse(
                        f"changing files outside the run's temp dir is not allowed: {path}"
                    )
        elif event in _PROCESS_EVENTS:
            self._refuse("demos may not start processes")
        elif event in _NETWORK_EVENTS:
            self._refuse("demos have no network access")


def install_guard() -> Guard:
    guard = Guard()
    sys.addaudithook(guard)
    return guard
