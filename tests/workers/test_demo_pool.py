"""Hostile demos against the real pool: each is stopped with a clear reason, and the
pool serves a well-behaved run right after."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from app.workers.executor import QueueFull, RunEvent
from app.workers.pool import LocalPool
from tests.workers.conftest import make_job, run

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def assert_recovers(pool: LocalPool, content: Path) -> None:
    outcome = run(pool, content, "quick", a=2.0, b=3.0)
    assert outcome.status == "succeeded", outcome
    assert outcome.result is not None and outcome.result["metrics"]["sum"] == 5.0


def descendants_zombies() -> list[str]:
    """Zombie processes anywhere below this test process."""
    parents: dict[int, int] = {}
    states: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        rest = stat.rsplit(")", 1)[1].split()
        states[int(entry)], parents[int(entry)] = rest[0], int(rest[1])
    me, zombies = os.getpid(), []
    for pid, state in states.items():
        if state != "Z":
            continue
        ancestor = parents.get(pid, 0)
        while ancestor > 1:
            if ancestor == me:
                zombies.append(str(pid))
                break
            ancestor = parents.get(ancestor, 0)
    return zombies


def no_zombies_soon(wait_s: float = 2.0) -> bool:
    """A process is a zombie between its exit and its reaping; wait that out."""
    deadline = time.monotonic() + wait_s
    while descendants_zombies():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_good_demo_runs_warm_with_device_and_timings(pool: LocalPool, hostile_dir: Path) -> None:
    events: list[RunEvent] = []
    done = threading.Event()

    def on_event(event: RunEvent) -> None:
        events.append(event)
        if event.kind == "finished":
            done.set()

    pool.submit(make_job(hostile_dir, "quick", steps=3), on_event)
    assert done.wait(10)
    outcome = events[-1].outcome
    assert outcome is not None and outcome.status == "succeeded", outcome
    assert [e.kind for e in events][0] == "started"
    assert any(e.kind == "progress" for e in events)
    assert outcome.result["claims"][0] == {
        "id": "sum-correct", "text": "a + b is computed exactly.", "passed": True, "values": {},
    }  # fmt: skip
    assert outcome.device == "cpu" and outcome.torch_version and outcome.device_name
    assert outcome.output.strip() == "sum 3.0"
    assert {"queue_ms", "run_ms", "total_ms", "overhead_ms"} <= set(outcome.timings)
    # Seeded: the same run draws the same random number.
    again = run(pool, hostile_dir, "quick", steps=3)
    assert again.result["metrics"]["seeded"] == outcome.result["metrics"]["seeded"]


@pytest.mark.parametrize(
    ("demo", "kw", "code", "words"),
    [
        ("infinite_loop", {}, "timeout", "longer than its 1.5 s limit"),
        ("memory_bomb", {"timeout_s": 20.0}, "memory", "out of memory (limit 700 MB)"),
        ("aborts", {}, "crashed", "SIGABRT"),
        ("big_print", {}, "output", "printed more than 64 KiB"),
        ("raises", {}, "exception", "ValueError: the demo broke on purpose"),
        ("escape_write", {}, "sandbox", "writing outside the run's temp dir is not allowed"),
        ("network", {}, "sandbox", "no network access"),
    ],
)
def test_hostile_demo_is_stopped_with_a_clear_reason_and_the_pool_recovers(
    pool: LocalPool, hostile_dir: Path, demo: str, kw: dict, code: str, words: str
) -> None:
    kw = {"timeout_s": 1.5, **kw}
    started = time.perf_counter()
    outcome = run(pool, hostile_dir, demo, **kw)
    assert outcome.status == "failed"
    assert outcome.reason_code == code, outcome
    assert words in (outcome.reason or ""), outcome.reason
    assert time.perf_counter() - started < kw["timeout_s"] + 5
    assert_recovers(pool, hostile_dir)
    assert no_zombies_soon()


def test_escaping_write_leaves_no_file(pool: LocalPool, hostile_dir: Path) -> None:
    outcome = run(pool, hostile_dir, "escape_write")
    assert outcome.reason_code == "sandbox"
    assert not (PROJECT_ROOT / "escaped-by-demo.txt").exists()


def test_writes_inside_the_run_temp_dir_are_allowed(pool: LocalPool, hostile_dir: Path) -> None:
    outcome = run(pool, hostile_dir, "temp_write")
    assert outcome.status == "succeeded", outcome


def test_exception_traceback_is_kept_for_admins(pool: LocalPool, hostile_dir: Path) -> None:
    outcome = run(pool, hostile_dir, "raises")
    assert outcome.detail and "Traceback" in outcome.detail and "raises.py" in outcome.detail


def test_a_changed_demo_file_is_noticed(pool: LocalPool, hostile_dir: Path) -> None:
    job = make_job(hostile_dir, "quick")
    stale = type(job)(**{**job.__dict__, "code_hash": "0" * 64})
    from app.workers.executor import run_blocking

    outcome = run_blocking(pool, stale)
    assert outcome.reason_code == "code_changed"


def test_fifty_runs_at_once_fill_the_queue_then_all_accepted_finish(
    pool: LocalPool, hostile_dir: Path
) -> None:
    finished: list[RunEvent] = []
    lock = threading.Lock()
    all_done = threading.Event()
    accepted, refused = 0, []

    def on_event(event: RunEvent) -> None:
        if event.kind == "finished":
            with lock:
                finished.append(event)
                if len(finished) == accepted_total[0]:
                    all_done.set()

    accepted_total = [10**9]
    jobs = [make_job(hostile_dir, "sleepy", seconds=0.05) for _ in range(50)]
    for job in jobs:
        try:
            pool.submit(job, on_event)
            accepted += 1
        except QueueFull as exc:
            refused.append(exc.retry_after_s)
    with lock:
        accepted_total[0] = accepted
        if len(finished) == accepted:
            all_done.set()
    assert refused, "a queue of 32 behind 2 workers must refuse some of 50 runs"
    assert all(r >= 1 for r in refused)
    assert all_done.wait(60)
    assert all(e.outcome and e.outcome.status == "succeeded" for e in finished)
    assert_recovers(pool, hostile_dir)
