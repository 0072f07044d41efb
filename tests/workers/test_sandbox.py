"""Hostile demos against the real pool under bubblewrap (issue 13): each attack is
contained, told with a clear reason, and the pool serves a good run right after.

The attacks use ctypes, which the in-process audit hook cannot see: what holds here is
the sandbox itself (namespaces, an unprivileged uid, no capabilities, binds, cgroup)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.workers import sandbox
from app.workers.pool import LocalPool
from tests.workers.conftest import ENV_SECRET, run
from tests.workers.test_demo_pool import assert_recovers

PROJECT_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    sandbox.bwrap_path() is None, reason="bubblewrap (/usr/bin/bwrap) is not installed"
)


def probe(pool: LocalPool, content: Path, attack: str, **params: Any) -> dict[str, Any]:
    outcome = run(pool, content, "probe", attack=attack, **params)
    assert outcome.status == "succeeded", outcome
    assert outcome.result is not None
    return outcome.result["metrics"]


@pytest.fixture
def secret_files() -> Iterator[dict[str, Path]]:
    """A secret key and a database file in the project's data directory, where the
    server keeps them."""
    data = PROJECT_ROOT / "data"
    data.mkdir(exist_ok=True)
    token = os.urandom(8).hex()
    files = {
        "key": data / f"test-secret-key-{token}",
        "db": data / f"test-database-{token}.db",
    }
    files["key"].write_text(f"key-{token}")
    files["db"].write_text(f"user rows {token}")
    yield files
    for path in files.values():
        path.unlink(missing_ok=True)


def test_the_sandbox_is_bwrap_with_limits(pool: LocalPool) -> None:
    assert pool.status()["sandbox"].startswith("bwrap")


def test_secret_files_and_shadow_cannot_be_read(
    pool: LocalPool, hostile_dir: Path, secret_files: dict[str, Path]
) -> None:
    for path in [*secret_files.values(), Path("/etc/shadow"), PROJECT_ROOT / "data"]:
        assert path.exists()
        found = probe(pool, hostile_dir, "read", target=str(path))
        assert "content" not in found, (path, found)
        assert "No such file" in found["error"], found
    assert_recovers(pool, hostile_dir)


def test_the_environment_holds_no_secret(pool: LocalPool, hostile_dir: Path) -> None:
    found = probe(pool, hostile_dir, "environ")
    assert ENV_SECRET not in repr(found)
    assert "BACKPROP_" not in repr(found)
    assert "BACKPROP_" not in found["/proc/1/environ"]  # bwrap's own environment


def test_remounting_root_read_write_fails(pool: LocalPool, hostile_dir: Path) -> None:
    found = probe(pool, hostile_dir, "remount")
    assert found["mount"] == -1 and "not permitted" in found["errno"]


@pytest.mark.parametrize("directory", ["/dev/shm", "/var/tmp", str(PROJECT_ROOT)])
def test_writes_never_reach_the_host(pool: LocalPool, hostile_dir: Path, directory: str) -> None:
    target = Path(directory) / f"escaped-{os.urandom(4).hex()}"
    probe(pool, hostile_dir, "write_raw", target=str(target))
    assert not target.exists()
    target.unlink(missing_ok=True)


def descendants() -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                rest = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if rest[0] != "Z":
                parents[int(entry)] = int(rest[1])
    me, found = os.getpid(), []
    for pid in parents:
        ancestor = parents.get(pid, 0)
        while ancestor > 1 and ancestor != me:
            ancestor = parents.get(ancestor, 0)
        if ancestor == me:
            found.append(pid)
    return found


def test_forked_and_detached_children_are_gone_right_after_the_run(
    pool: LocalPool, hostile_dir: Path
) -> None:
    assert pool.wait_ready(30)
    before = len(descendants())
    found = probe(pool, hostile_dir, "fork_setsid")
    assert len(found["children"].split(",")) == 5
    deadline = time.monotonic() + 1.5
    while len(descendants()) > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(descendants()) <= before, "a detached child outlived its run"
    assert_recovers(pool, hostile_dir)


def test_a_1_gib_tmpfs_write_is_stopped_and_the_space_comes_back(
    pool: LocalPool, hostile_dir: Path
) -> None:
    outcome = run(pool, hostile_dir, "probe", attack="tmp_fill", megabytes=1024)
    assert outcome.status == "failed"
    assert "No space left" in (outcome.reason or "") or "too large" in (outcome.reason or "")
    again = run(pool, hostile_dir, "probe", attack="tmp_fill", megabytes=64)
    assert again.status == "succeeded", again
    assert_recovers(pool, hostile_dir)


def test_a_file_left_in_the_sandbox_tmp_is_gone_for_the_next_run(
    pool: LocalPool, hostile_dir: Path
) -> None:
    name = f"left-{os.urandom(4).hex()}"
    assert probe(pool, hostile_dir, "tmp_leave", target=name, megabytes=8)["result"].startswith(
        "wrote"
    )
    time.sleep(0.2)  # the sweep runs right after the run, in the zygote
    for _ in range(3):  # whichever worker takes it
        assert probe(pool, hostile_dir, "tmp_look", target=name)["exists"] is False


def test_a_thread_bomb_is_stopped(pool: LocalPool, hostile_dir: Path) -> None:
    if "cgroup" not in pool.status()["sandbox"]:
        pytest.skip("this host gives no cgroup: the pids limit is not there")
    outcome = run(pool, hostile_dir, "probe", attack="threads")
    assert outcome.status == "failed"
    assert "can't start new thread" in (outcome.reason or "")
    assert_recovers(pool, hostile_dir)


def test_signalling_the_server_pid_cannot_reach_it(pool: LocalPool, hostile_dir: Path) -> None:
    received: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, _frame: received.append(signum))
    try:
        found = probe(pool, hostile_dir, "signal", pid=os.getpid())
        time.sleep(0.1)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert received == []
    assert found["kill"] == -1 or os.getpid() < 10, found
    assert_recovers(pool, hostile_dir)
