"""A control group around the sandbox, where the host lets us make one: a pids limit (a
fork or thread bomb stops at it; RLIMIT_NPROC does nothing for a uid that maps to root),
a memory limit that counts tmpfs pages too, and a CPU quota (a demo that starts eight
threads still gets the CPUs of its workers, no more).

cgroup v1 (one hierarchy per controller) and v2 (one unified hierarchy) are both tried;
a host that gives neither (a container with a read-only ``/sys/fs/cgroup``) runs without,
and ``Runtime.sandbox`` says so. No torch here: the web process imports it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("backprop.demos.cgroup")
ROOT = Path("/sys/fs/cgroup")
CPU_PERIOD_US = 100_000


@dataclass(frozen=True)
class CgroupLimits:
    pids: int
    memory_bytes: int
    cpus: float


def _own_paths() -> dict[str, str]:
    """controller -> this process's cgroup path ("" for v2's unified hierarchy)."""
    paths: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


class Cgroup:
    """One cgroup per pool (one directory per v1 controller). Create with ``make``."""

    def __init__(self, dirs: dict[str, Path], version: int) -> None:
        self.dirs = dirs  # controller -> directory ("unified" for v2)
        self.version = version

    @classmethod
    def make(cls, name: str, limits: CgroupLimits) -> Cgroup | None:
        """A fresh cgroup with ``limits``, or None where the host does not allow one."""
        for make in (cls._make_v1, cls._make_v2):
            try:
                group = make(name, limits)
            except OSError as exc:
                log.debug("cgroup %s not available: %s", make.__name__, exc)
                continue
            if group is not None:
                return group
        return None

    @classmethod
    def _make_v1(cls, name: str, limits: CgroupLimits) -> Cgroup | None:
        own = _own_paths()
        wanted = {"pids": "pids", "memory": "memory", "cpu": "cpu"}
        dirs: dict[str, Path] = {}
        for controller, mount in wanted.items():
            base = ROOT / mount
            if controller not in own or not (base / "cgroup.procs").exists():
                return None
            dirs[controller] = base / own[controller].lstrip("/") / name
        made: list[Path] = []
        try:
            for directory in dirs.values():
                directory.mkdir(exist_ok=True)
                made.append(directory)
            (dirs["pids"] / "pids.max").write_text(str(limits.pids))
            (dirs["memory"] / "memory.limit_in_bytes").write_text(str(limits.memory_bytes))
            quota = int(limits.cpus * CPU_PERIOD_US)
            (dirs["cpu"] / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
            (dirs["cpu"] / "cpu.cfs_quota_us").write_text(str(quota))
        except OSError:
            for directory in made:
                with contextlib.suppress(OSError):
                    directory.rmdir()
            raise
        return cls(dirs, 1)

    @classmethod
    def _make_v2(cls, name: str, limits: CgroupLimits) -> Cgroup | None:
        own = _own_paths().get("")
        base = ROOT if (ROOT / "cgroup.controllers").exists() else ROOT / "unified"
        if own is None or not (base / "cgroup.controllers").exists():
            return None
        parent = base / own.lstrip("/")
        enabled = (parent / "cgroup.subtree_control").read_text().split()
        if not {"pids", "memory", "cpu"} <= set(enabled):
            return None  # enabling them here would break the parent's own processes
        directory = parent / name
        directory.mkdir(exist_ok=True)
        try:
            (directory / "pids.max").write_text(str(limits.pids))
            (directory / "memory.max").write_text(str(limits.memory_bytes))
            (directory / "cpu.max").write_text(
                f"{int(limits.cpus * CPU_PERIOD_US)} {CPU_PERIOD_US}"
            )
        except OSError:
            with contextlib.suppress(OSError):
                directory.rmdir()
            raise
        return cls({"unified": directory}, 2)

    def _procs_files(self) -> list[Path]:
        return [directory / "cgroup.procs" for directory in self.dirs.values()]

    def joiner(self) -> Callable[[], None]:
        """A ``preexec_fn`` that moves the new process into this cgroup before it execs,
        so everything it starts is inside from its first instruction. The files are
        opened here, in the parent: the child only writes."""
        fds = [os.open(path, os.O_WRONLY) for path in self._procs_files()]

        def join() -> None:
            pid = str(os.getpid()).encode()
            for fd in fds:
                os.write(fd, pid)

        self._join_fds = fds
        return join

    def close_joiner(self) -> None:
        for fd in getattr(self, "_join_fds", []):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._join_fds = []

    def oom_kills(self) -> int:
        """How many processes the kernel killed for this cgroup's memory limit so far."""
        if self.version == 1:
            path = self.dirs["memory"] / "memory.oom_control"
        else:
            path = self.dirs["unified"] / "memory.events"
        try:
            for line in path.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def pids(self) -> list[int]:
        try:
            text = self._procs_files()[0].read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def destroy(self) -> None:
        """Kills whatever is left inside and removes the directories."""
        self.close_joiner()
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            left = self.pids()
            if not left:
                break
            for pid in left:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        for directory in self.dirs.values():
            with contextlib.suppress(OSError):
                directory.rmdir()

    def describe(self) -> str:
        return f"cgroup v{self.version}"
