"""The runner contract: what any executor (the in-process pool today, a Redis/Celery
queue later) accepts and reports. No torch, no database, no web framework."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

EventKind = Literal["started", "progress", "finished"]

# Reason codes a failed run carries; `reason` is the sentence a learner sees.
REASONS = (
    "timeout",  # ran past the wall-clock limit
    "memory",  # hit the memory cap
    "output",  # printed more than the output cap
    "crashed",  # the process died (signal or exit status)
    "killed",  # the process was killed from outside (a SIGKILL that was not the OOM killer)
    "exception",  # the demo raised
    "sandbox",  # tried to write outside its temp dir, open a socket or start a process
    "invalid",  # returned something that is not a DemoResult
    "code_changed",  # the demo file changed between submit and run
    "unavailable",  # the runner could not start or is shutting down
)


@dataclass(frozen=True)
class Job:
    """One demo run: which code (path + hash, so a changed file is noticed), which params."""

    run_id: str
    demo_name: str
    demo_path: str
    code_hash: str
    params: dict[str, Any]
    seed: int = 0
    timeout_s: float | None = None  # None: the executor's default
    # Run in a worker that has run nothing before and is retired afterwards (a throw-away
    # process forked from the warm zygote): for code less trusted than a reviewed demo.
    fresh_worker: bool = False
    # Who asked ("user:3"): queues serve owners in turn. Empty: one shared owner.
    owner: str = ""
    # "cpu" or "cuda": where the service decided it runs (a demo that benefits from a GPU,
    # on a host that has one). Empty: the executor's own device.
    device: str = ""


@dataclass(frozen=True)
class Runtime:
    """Where runs execute; part of every cache key."""

    device: str  # "cpu" or "cuda"
    torch_version: str
    sandbox: str  # "bwrap" or "none (...)"


@dataclass
class Outcome:
    status: Literal["succeeded", "failed"]
    result: dict[str, Any] | None = None
    reason_code: str | None = None
    reason: str | None = None
    detail: str | None = None  # traceback: shown to admins only
    output: str = ""
    device: str | None = None
    device_name: str | None = None
    torch_version: str | None = None
    deterministic: bool | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def failure(cls, code: str, reason: str, detail: str | None = None, **kw: Any) -> Outcome:
        return cls(status="failed", reason_code=code, reason=reason, detail=detail, **kw)


@dataclass(frozen=True)
class RunEvent:
    kind: EventKind
    run_id: str
    fraction: float = 0.0
    message: str = ""
    outcome: Outcome | None = None


OnEvent = Callable[[RunEvent], None]


class QueueFull(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"the demo queue is full; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class RunnerUnavailable(Exception):
    def __init__(self, message: str, retry_after_s: int = 5) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Executor(Protocol):
    """Runs jobs somewhere else and reports events; never blocks the caller on a run.

    ``submit`` either accepts the job (and later calls ``on_event`` with ``started``,
    any number of ``progress`` and exactly one ``finished``, from any thread) or raises
    QueueFull / RunnerUnavailable and calls nothing.
    """

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def runtime(self, wait_s: float = 0.0) -> Runtime | None: ...

    def submit(self, job: Job, on_event: OnEvent) -> None: ...

    def status(self) -> dict[str, Any]: ...


def run_blocking(executor: Executor, job: Job, on_event: OnEvent | None = None) -> Outcome:
    """Submit and wait: for the CLI and the benchmark."""
    done = threading.Event()
    box: list[Outcome] = []

    def handle(event: RunEvent) -> None:
        if on_event is not None:
            on_event(event)
        if event.kind == "finished" and event.outcome is not None:
            box.append(event.outcome)
            done.set()

    executor.submit(job, handle)
    done.wait()
    return box[0]
