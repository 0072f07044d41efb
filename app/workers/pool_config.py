"""The demo pool's configuration and the records its threads pass around."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.workers.executor import (
    Job,
    OnEvent,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class PoolConfig:
    content_dir: Path
    workers: int = 2
    device: str = "auto"
    timeout_s: float = 20.0
    memory_mb: int = 2048
    output_bytes: int = 64 * 1024
    queue_size: int = 32
    sandbox: str = "auto"  # "auto": bwrap when installed; "bwrap": required; "none"
    # Production refuses to run demos without bwrap (sandbox "auto" then means "bwrap").
    require_sandbox: bool = False
    tmp_size_mb: int = 256  # the sandbox's private /tmp (and /dev/shm), all workers together
    use_cgroup: bool = True  # pids/memory/CPU limits on the whole sandbox where allowed
    gpu_memory_fraction: float = 0.0  # per CUDA worker; 0: 0.9 / gpu_workers
    # CUDA workers added to the ``workers`` CPU ones when the zygote finds a GPU: only
    # demos that declare BENEFITS_FROM_GPU go to them (Job.device == "cuda").
    gpu_workers: int = 1
    threads: int = 1
    max_runs_per_worker: int | None = None  # None: worker.DEFAULT_MAX_RUNS
    warmup_timeout_s: float = 60.0
    extra_visible: Sequence[Path] = field(default_factory=tuple)

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> PoolConfig:
        values: dict[str, Any] = dict(
            content_dir=Path(settings.content_dir),
            workers=settings.demo_workers,
            device=settings.demo_device,
            timeout_s=settings.demo_timeout_s,
            memory_mb=settings.demo_memory_mb,
            output_bytes=settings.demo_output_kb * 1024,
            queue_size=settings.demo_queue_size,
            require_sandbox=settings.environment == "production",
            tmp_size_mb=settings.demo_tmp_mb,
            gpu_memory_fraction=settings.demo_gpu_memory_fraction,
            gpu_workers=settings.demo_gpu_workers,
        )
        values.update(overrides)
        return cls(**values)


@dataclass
class WarmWorker:
    pid: int
    sock: socket.socket
    out_fd: int
    device_name: str
    deterministic: bool
    runs: int = 0
    device: str = "cpu"

    def close(self) -> None:
        try:
            self.sock.close()
        finally:
            with contextlib.suppress(OSError):
                os.close(self.out_fd)


@dataclass
class QueuedRun:
    job: Job
    on_event: OnEvent
    queued_at: float
