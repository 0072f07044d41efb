"""The bubblewrap command line for one judge run: the only place the judge depends on the
sandbox. Written to the rules of issue 13 (docs/SECURITY.md on the runner branch); the
integrator can fold it onto ``app/workers/sandbox.py`` once both land.

What a submission's process sees: the interpreter and its packages, the ``app`` package
(for the harness) and system libraries, all read-only; a private, size-capped ``/tmp``;
no network (``--unshare-all``); its own PID namespace; uid 65534 with no capabilities;
an environment of PATH/HOME/TMPDIR and nothing else. Never the data directory, the
database, the secret key, the content tree or ``/etc`` beyond the loader's files.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SANDBOX_UID = 65534  # nobody
SANDBOX_TMP = "/tmp"
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Only what the dynamic loader and Python need from /etc: not passwd, shadow or configs.
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime")
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
# Set on purpose so the loud development override cannot be flipped by a stray variable.
UNSANDBOXED_ENV = "BACKPROP_JUDGE_UNSANDBOXED"


class SandboxUnavailable(RuntimeError):
    """Learner code cannot run here; the message is one sentence naming the cause."""


@dataclass(frozen=True)
class JudgeLimits:
    """Limits of one submission. CPU seconds and memory are rlimits set inside the child
    before the learner's code runs; wall-clock and output are enforced by the parent."""

    wall_s: float = 10.0
    cpu_s: int = 5
    memory_mb: int = 1024
    tmp_mb: int = 16
    file_mb: int = 8
    processes: int = 16
    output_mb: int = 32


def bwrap_path() -> str | None:
    return shutil.which("bwrap", path=SAFE_PATH)


def project_root() -> Path:
    """The directory holding the ``app`` package (bound read-only for the harness)."""
    return Path(__file__).resolve().parents[2]


def python_paths() -> list[Path]:
    """``sys.prefix`` and ``sys.base_prefix`` (a virtualenv and the Python it was made
    from), as given and resolved, so a symlinked virtualenv works inside too."""
    found: list[Path] = []
    for raw in (sys.prefix, sys.base_prefix, os.path.dirname(sys.executable)):
        for path in (Path(raw), Path(raw).resolve()):
            if path not in found:
                found.append(path)
    return found


def _ro_bind(path: Path) -> list[str]:
    given, resolved = str(path.absolute()), str(path.resolve())
    if not os.path.exists(resolved):
        return []
    args = ["--ro-bind", resolved, resolved]
    if given != resolved:
        args += ["--ro-bind", resolved, given]
    return args


def bwrap_command(command: Sequence[str], limits: JudgeLimits) -> list[str]:
    """The argv that runs ``command`` in a fresh sandbox. Raises SandboxUnavailable."""
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable(
            "learner code runs only inside bubblewrap, and bwrap is not installed on this server"
        )
    args = [bwrap]
    for system in SYSTEM_PATHS:
        if os.path.islink(system):  # merged /usr: /lib -> usr/lib
            args += ["--symlink", os.readlink(system), system]
        elif os.path.isdir(system):
            args += ["--ro-bind", system, system]
    for etc in ETC_FILES:
        if os.path.exists(etc):
            args += ["--ro-bind", etc, etc]
    size = str(limits.tmp_mb * 1024 * 1024)
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", size, "--tmpfs", SANDBOX_TMP, "--size", size, "--tmpfs", "/dev/shm"]
    # After /tmp, so a virtualenv or checkout under /tmp stays visible.
    for path in python_paths():
        args += _ro_bind(path)
    args += _ro_bind(project_root() / "app")
    args += [
        "--unshare-all",  # network, IPC, UTS, cgroup and PID namespaces
        "--unshare-user",  # --unshare-all only tries; the uid drop needs it
        "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
        "--disable-userns",
        "--cap-drop", "ALL",
        "--new-session",
        "--die-with-parent",
        "--clearenv",
        "--setenv", "PATH", SAFE_PATH,
        "--setenv", "HOME", SANDBOX_TMP,
        "--setenv", "TMPDIR", SANDBOX_TMP,
        "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
        "--setenv", "OMP_NUM_THREADS", "1",
        "--chdir", SANDBOX_TMP,
        "--remount-ro", "/",
    ]  # fmt: skip
    return [*args, "--", *command]


def child_command() -> list[str]:
    """The Python command of the child: isolated mode (no PYTHONPATH, no user site), with
    the project root put on sys.path explicitly."""
    root = str(project_root())
    code = (
        f"import sys; sys.path.insert(0, {root!r}); "
        "from app.workers.judge_child import main; main()"
    )
    return [sys.executable, "-I", "-c", code]


def sandbox_env() -> dict[str, str]:
    """The environment handed to ``bwrap`` itself: nothing of the server's (``--clearenv``
    alone would leave it readable inside as ``/proc/1/environ`` of bwrap's own process)."""
    return {"PATH": SAFE_PATH, "LANG": "C.UTF-8"}


def judge_argv(limits: JudgeLimits, *, allow_unsandboxed: bool = False) -> tuple[list[str], bool]:
    """(argv, sandboxed). Without bwrap, raises SandboxUnavailable unless the development
    override is on, in which case the child runs unsandboxed (its rlimits still apply)."""
    if bwrap_path() is not None:
        return bwrap_command(child_command(), limits), True
    if allow_unsandboxed:
        return child_command(), False
    return bwrap_command(child_command(), limits), True  # raises with the clear sentence
