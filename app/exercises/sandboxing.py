"""The bubblewrap command line for one judge run: the only place the judge depends on the
sandbox, which is the demo sandbox of ``app/workers/sandbox.py`` (docs/SECURITY.md).

What a submission's process sees: the interpreter and its packages, the ``app`` package
(for the harness) and system libraries, all read-only; a private, size-capped ``/tmp``;
no network; its own PID namespace; uid 65534 with no capabilities; an environment of
PATH/HOME/TMPDIR and the sandbox's allowlist, nothing else. Never the data directory,
the database, the secret key, the content tree or ``/etc`` beyond the loader's files.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.workers import sandbox
from app.workers.sandbox import SandboxSpec, SandboxUnavailable, bwrap_path, sandbox_env

__all__ = ["JudgeLimits", "SandboxUnavailable", "judge_argv", "project_root", "sandbox_env"]

# Set on purpose so the loud development override cannot be flipped by a stray variable.
UNSANDBOXED_ENV = "BACKPROP_JUDGE_UNSANDBOXED"


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


def project_root() -> Path:
    """The directory holding the ``app`` package (bound read-only for the harness)."""
    return Path(__file__).resolve().parents[2]


def bwrap_command(command: Sequence[str], limits: JudgeLimits) -> list[str]:
    """The argv that runs ``command`` in a fresh sandbox: the demo sandbox's, binding only
    the ``app`` package (for the harness). Raises SandboxUnavailable."""
    if bwrap_path() is None:
        raise SandboxUnavailable(
            "learner code runs only inside bubblewrap, and bwrap is not installed on this server"
        )
    spec = SandboxSpec(
        binds=(project_root() / "app",),
        tmp_size_mb=limits.tmp_mb,
        env={"OMP_NUM_THREADS": "1"},
    )
    return sandbox.bwrap_command(command, spec)


def child_command() -> list[str]:
    """The Python command of the child: isolated mode (no PYTHONPATH, no user site), with
    the project root put on sys.path explicitly."""
    root = str(project_root())
    code = (
        f"import sys; sys.path.insert(0, {root!r}); "
        "from app.workers.judge_child import main; main()"
    )
    return [sys.executable, "-I", "-c", code]


def judge_argv(limits: JudgeLimits, *, allow_unsandboxed: bool = False) -> tuple[list[str], bool]:
    """(argv, sandboxed). Without bwrap, raises SandboxUnavailable unless the development
    override is on, in which case the child runs unsandboxed (its rlimits still apply)."""
    if bwrap_path() is not None:
        return bwrap_command(child_command(), limits), True
    if allow_unsandboxed:
        return child_command(), False
    return bwrap_command(child_command(), limits), True  # raises with the clear sentence
