"""Isolation for demo processes: bubblewrap around the zygote (and around one-shot helper
processes), and an audit-hook guard inside each worker.

bubblewrap (``/usr/bin/bwrap``) is the boundary. The public API, also meant for the
judge that will run learners' code (see ``docs/SECURITY.md``):

- ``SandboxSpec``: what a sandboxed process may see (read-only binds), its limits
  (size of its private ``/tmp``) and its environment allowlist;
- ``bwrap_command(command, spec)``: the full ``bwrap`` argv for ``command``;
- ``sandbox_env()``: the environment to hand to ``bwrap`` itself (``--clearenv`` only
  clears the *child's* environment: bwrap's own, readable as ``/proc/1/environ`` inside
  the sandbox, must be scrubbed by the caller);
- ``run_once(command, spec, ...)``: run one throw-away sandboxed process to completion.

What the sandbox gives every process (``docs/SECURITY.md`` lists how each is tested):
an unprivileged uid (65534) in its own user namespace with every capability dropped and
no further user namespaces, a new session, its own PID, network, IPC and UTS namespaces,
a fresh ``/proc`` and minimal ``/dev``, a size-capped private ``/tmp``, and read-only binds
of only the interpreter, its packages, the ``app`` package and the demo directory. The
data directory, the database, the secret key and ``/etc/shadow`` are not there at all.

The guard is a ``sys.addaudithook`` installed in each worker before it runs a demo: it
refuses writes outside the run's temp dir, sockets and new processes with a clear
message. Python code can get around an audit hook (ctypes), so it is a second layer and a
source of clear errors, not a boundary by itself.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SANDBOX_TMP = "/tmp"
SANDBOX_UID = 65534  # nobody
# Host paths every sandboxed Python needs, bound read-only when they exist. /etc is NOT
# bound whole (shadow, ssh keys, app configs): only the loader's and locale's files.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/alternatives",
)
# The environment a sandboxed process may inherit from the pool's: nothing else passes.
ENV_ALLOWLIST = (
    "LANG",
    "LC_ALL",
    "CUDA_VISIBLE_DEVICES",
    "NVIDIA_VISIBLE_DEVICES",
    "NVIDIA_DRIVER_CAPABILITIES",
)
# Where GPU driver libraries live outside /usr in common container images.
GPU_LIBRARY_DIRS = ("/usr/local/nvidia", "/usr/local/cuda", "/etc/OpenCL", "/run/nvidia")


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot start; the message is one sentence naming the cause."""


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def gpu_device_nodes() -> list[str]:
    """The NVIDIA device nodes on this host (none on a CPU-only host)."""
    return sorted(glob.glob("/dev/nvidia*")) + sorted(glob.glob("/dev/dri/renderD*"))


def python_paths() -> list[Path]:
    """The interpreter and its packages: ``sys.prefix`` (a virtualenv, wherever it lives)
    and ``sys.base_prefix`` (the Python it was made from), as given and resolved, so a
    symlinked virtualenv works inside too."""
    found: list[Path] = []
    for raw in (sys.prefix, sys.base_prefix, os.path.dirname(sys.executable)):
        for path in (Path(raw), Path(raw).resolve()):
            if path not in found:
                found.append(path)
    return found


@dataclass(frozen=True)
class SandboxSpec:
    """What one sandboxed process sees.

    ``binds``: host paths bound read-only at the same path (a missing one is skipped).
    ``tmp_size_mb``: size cap of the private ``/tmp`` (and of ``/dev/shm``).
    ``gpu``: bind the NVIDIA device nodes (and nothing else of ``/dev``).
    ``env``: variables set inside, on top of PATH/HOME/TMPDIR and the allowlist.
    """

    binds: Sequence[Path] = field(default_factory=tuple)
    tmp_size_mb: int = 512
    gpu: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str = SANDBOX_TMP


def _bind_args(path: Path) -> list[str]:
    """A read-only bind of ``path`` at its own path, and at its resolved path when that
    differs (a symlinked virtualenv)."""
    args: list[str] = []
    given, resolved = str(Path(path).absolute()), str(Path(path).resolve())
    if not os.path.exists(resolved):
        return args
    args += ["--ro-bind", resolved, resolved]
    if given != resolved:
        args += ["--ro-bind", resolved, given]
    return args


def bwrap_command(command: Sequence[str], spec: SandboxSpec) -> list[str]:
    """The ``bwrap`` argv that runs ``command`` under ``spec``. Raises SandboxUnavailable
    when bwrap is not installed."""
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
    size = str(spec.tmp_size_mb * 1024 * 1024)
    args = [bwrap]
    for system in SYSTEM_PATHS:
        if os.path.islink(system):  # merged /usr: /lib -> usr/lib
            args += ["--symlink", os.readlink(system), system]
        elif os.path.isdir(system):
            args += ["--ro-bind", system, system]
    for etc in ETC_FILES:
        if os.path.exists(etc):
            args += ["--ro-bind", etc, etc]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", size, "--tmpfs", SANDBOX_TMP, "--size", size, "--tmpfs", "/dev/shm"]
    for path in python_paths():  # after /tmp: a virtualenv under /tmp stays visible
        args += _bind_args(path)
    if spec.gpu:
        for node in gpu_device_nodes():
            args += ["--dev-bind", node, node]
        for directory in GPU_LIBRARY_DIRS:
            args += _bind_args(Path(directory))
        # The driver reads its version and the GPU's PCI data from here.
        for sysfs in ("/sys/bus/pci", "/sys/devices", "/sys/module/nvidia"):
            args += _bind_args(Path(sysfs))
    for path in spec.binds:  # after /tmp, so a bind under /tmp (tests) stays visible
        args += _bind_args(Path(path))
    args += [
        "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
        "--disable-userns",
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
        "--cap-drop", "ALL",
        "--new-session",
        "--die-with-parent",
        "--clearenv",
        "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
        "--setenv", "HOME", SANDBOX_TMP,
        "--setenv", "TMPDIR", SANDBOX_TMP,
        "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
        "--chdir", spec.cwd,
    ]  # fmt: skip
    for name in ENV_ALLOWLIST:
        if name in os.environ:
            args += ["--setenv", name, os.environ[name]]
    for name, value in spec.env.items():
        args += ["--setenv", name, value]
    # Last: the sandbox's own root (a tmpfs holding the mount points) becomes read-only,
    # so only the size-capped /tmp and /dev/shm take writes.
    args += ["--remount-ro", "/"]
    return [*args, "--", *command]


def sandbox_env() -> dict[str, str]:
    """The environment for the ``bwrap`` process itself: nothing of the server's (its
    secrets would be readable inside as ``/proc/1/environ``)."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


def check_interpreter_visible() -> None:
    """Fails with one sentence when the interpreter cannot be bound (it must be a real
    path on this host), instead of a zygote restarting on ``execvp: No such file``."""
    if not os.path.exists(sys.executable):
        raise SandboxUnavailable(f"the Python interpreter {sys.executable} does not exist")


def run_once(
    command: Sequence[str],
    spec: SandboxSpec,
    *,
    sandboxed: bool = True,
    timeout_s: float = 30.0,
    stdin: bytes | None = None,
    output_limit: int = 16 * 1024 * 1024,
) -> subprocess.CompletedProcess[bytes]:
    """Runs one throw-away process to completion, under bwrap when ``sandboxed`` (else a
    plain subprocess with the same scrubbed environment, for development hosts without
    bwrap). Raises SandboxUnavailable, or subprocess.TimeoutExpired past ``timeout_s``."""
    argv = list(command)
    env = sandbox_env()
    if sandboxed:
        argv = bwrap_command(argv, spec)
    else:
        env.update({k: os.environ[k] for k in ENV_ALLOWLIST if k in os.environ})
        env.update(spec.env)
    try:
        result = subprocess.run(
            argv,
            input=stdin,
            capture_output=True,
            timeout=timeout_s,
            env=env,
            cwd="/",
            start_new_session=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise SandboxUnavailable(f"cannot start {argv[0]}: {exc.strerror}") from exc
    result.stdout = result.stdout[:output_limit]
    return result


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
