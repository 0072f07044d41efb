"""The GPU path without a GPU (issue 16): routing by BENEFITS_FROM_GPU, retiring a worker
after a device error, the memory limit relative to the footprint, and the CUDA checks,
skipped with a reason where there is no GPU."""

from __future__ import annotations

import resource
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from app.demos.metadata import read_metadata
from app.services.demo_runs import DemoCatalog, DemoRunService, run_device
from app.workers import limits
from app.workers.executor import Job, OnEvent, Runtime, run_blocking
from app.workers.pool import LocalPool, PoolConfig
from tests.workers.conftest import make_job, run

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def has_cuda() -> bool:
    if not any(Path("/dev").glob("nvidia[0-9]*")):
        return False
    done = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.cuda.is_available())"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return done.stdout.strip() == "True"


needs_cuda = pytest.mark.skipif(not has_cuda(), reason="needs an NVIDIA GPU with CUDA")


def meta_with(tmp_path: Path, benefits: bool) -> Any:
    path = tmp_path / f"demo_{benefits}.py"
    path.write_text(f"CLAIMS = {{}}\nBENEFITS_FROM_GPU = {benefits}\n")
    return read_metadata(path)


@pytest.mark.parametrize(
    ("benefits", "host", "expected"),
    [(True, "cuda", "cuda"), (False, "cuda", "cpu"), (True, "cpu", "cpu"), (False, "cpu", "cpu")],
)
def test_only_demos_that_benefit_run_on_the_gpu(
    tmp_path: Path, benefits: bool, host: str, expected: str
) -> None:
    runtime = Runtime(device=host, torch_version="2", sandbox="bwrap")
    assert run_device(meta_with(tmp_path, benefits), runtime) == expected


class GpuHostExecutor:
    """An executor that says it has CUDA and records the jobs it is given."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def runtime(self, wait_s: float = 0.0) -> Runtime:
        return Runtime(device="cuda", torch_version="2.13.0", sandbox="bwrap")

    def submit(self, job: Job, on_event: OnEvent) -> None:
        self.jobs.append(job)

    def status(self) -> dict[str, Any]:
        return {}


def test_a_small_demo_goes_to_a_cpu_worker_on_a_gpu_host_and_says_why(
    hostile_dir: Path, engine: Any
) -> None:
    from sqlmodel import Session

    gpu_demo = hostile_dir / "demos" / "big_matmul.py"
    gpu_demo.write_text(
        (hostile_dir / "demos" / "quick.py").read_text() + "\nBENEFITS_FROM_GPU = True\n"
    )
    executor = GpuHostExecutor()
    service = DemoRunService(engine, DemoCatalog(hostile_dir), executor)  # type: ignore[arg-type]
    small = service.start_run("quick", {}, requested_by=None)
    big = service.start_run("big_matmul", {}, requested_by=None)
    assert [job.device for job in executor.jobs] == ["cpu", "cuda"]
    assert small.device == "cpu" and big.device == "cuda"
    assert small.cache_key != service.start_run("quick", {"a": 1.5}).cache_key
    with Session(engine) as session:
        small_view = service.run_view(session, small)
        big_view = service.run_view(session, big)
    assert (
        small_view["device"] == "cpu" and "faster there than on a GPU" in small_view["device_note"]
    )
    assert big_view["device"] == "cuda" and "on the GPU" in big_view["device_note"]


def test_a_pool_without_a_gpu_runs_a_cuda_job_on_the_cpu(
    pool: LocalPool, hostile_dir: Path
) -> None:
    job = make_job(hostile_dir, "quick", a=1.0, b=1.0)
    job = Job(**{**job.__dict__, "device": "cuda"})
    assert pool.device_for(job) == "cpu"
    outcome = run_blocking(pool, job)
    assert outcome.status == "succeeded" and outcome.device == "cpu"


def test_a_device_error_retires_the_worker(pool: LocalPool, hostile_dir: Path) -> None:
    pids = set()
    for _ in range(4):  # every warm worker has served a run
        outcome = run(pool, hostile_dir, "probe", attack="pid")
        pids.add(outcome.result["metrics"]["pid"])  # type: ignore[index]
    failed = run(pool, hostile_dir, "probe", attack="device_error")
    assert failed.status == "failed" and "CUDA error" in (failed.reason or "")
    after = {run(pool, hostile_dir, "probe", attack="pid").result["metrics"]["pid"]  # type: ignore[index]
             for _ in range(6)}  # fmt: skip
    assert len(after - pids) >= 1, "the worker that saw the error was kept"


@pytest.mark.parametrize(
    "message",
    [
        "CUDA error: out of memory",
        "CUBLAS_STATUS_EXECUTION_FAILED when calling `cublasSgemm`",
        "cuDNN error: CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE",
        "std::bad_alloc",
        "DefaultCPUAllocator: can't allocate memory: you tried to allocate 160000 bytes",
    ],
)
def test_device_and_allocation_errors_are_recognised(message: str) -> None:
    assert limits.is_device_error(RuntimeError(message))
    assert not limits.is_device_error(ValueError("the demo broke on purpose"))


def test_the_memory_limit_is_relative_to_the_footprint() -> None:
    """RLIMIT_DATA = what the worker maps after its device started + the run's budget: a
    CUDA worker mapping 1.8 GB already is not capped below its own footprint."""
    assert limits.data_limit(2048, 1_800 * limits.MB) == (1_800 + 2048) * limits.MB
    script = textwrap.dedent("""
        import resource
        from app.workers import limits
        footprint = limits.data_footprint()
        limits.apply_static_limits(64)
        soft, _ = resource.getrlimit(resource.RLIMIT_DATA)
        assert footprint > 0 and soft >= footprint + 64 * limits.MB - 4096, (soft, footprint)
        try:
            blob = bytearray(256 * limits.MB)
        except MemoryError:
            print("stopped")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=60)  # fmt: skip
    assert "stopped" in done.stdout, done.stderr
    assert resource.RLIMIT_DATA  # the limit used


@needs_cuda
def test_a_sandboxed_cuda_run_and_a_cuda_memory_bomb(hostile_dir: Path) -> None:
    gpu_demo = hostile_dir / "demos" / "cuda_quick.py"
    gpu_demo.write_text(
        (hostile_dir / "demos" / "quick.py").read_text() + "\nBENEFITS_FROM_GPU = True\n"
    )
    pool = LocalPool(PoolConfig(content_dir=hostile_dir, workers=1, device="auto", memory_mb=2048))
    pool.start()
    try:
        assert pool.wait_ready(120), pool.status()
        assert pool.status()["gpu_workers"] == 1
        job = Job(**{**make_job(hostile_dir, "cuda_quick").__dict__, "device": "cuda"})
        outcome = run_blocking(pool, job)
        assert outcome.status == "succeeded" and outcome.device == "cuda", outcome
        bomb = Job(**{**make_job(hostile_dir, "memory_bomb").__dict__, "device": "cuda",
                      "run_id": uuid.uuid4().hex})  # fmt: skip
        stopped = run_blocking(pool, bomb)
        assert stopped.status == "failed" and stopped.reason_code in ("memory", "exception")
        again = run_blocking(pool, Job(**{**job.__dict__, "run_id": uuid.uuid4().hex}))
        assert again.status == "succeeded"
    finally:
        pool.stop()


def test_the_sandbox_binds_only_gpu_nodes_and_only_on_a_gpu_host(
    hostile_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.workers import sandbox

    if sandbox.bwrap_path() is None:
        pytest.skip("bubblewrap (/usr/bin/bwrap) is not installed")
    cpu = " ".join(sandbox.bwrap_command(["true"], sandbox.SandboxSpec(gpu=False)))
    assert "nvidia" not in cpu and "--dev-bind /dev /dev" not in cpu and "--dev /dev" in cpu
    monkeypatch.setattr(sandbox, "gpu_device_nodes", lambda: ["/dev/nvidia0", "/dev/nvidiactl"])
    gpu = " ".join(sandbox.bwrap_command(["true"], sandbox.SandboxSpec(gpu=True)))
    assert "--dev-bind /dev/nvidia0 /dev/nvidia0" in gpu and "--dev-bind /dev /dev" not in gpu
    # A pool binds them only when the host has them and it may use CUDA.
    assert LocalPool(PoolConfig(content_dir=hostile_dir, device="auto"))._gpu_binds is True
    assert LocalPool(PoolConfig(content_dir=hostile_dir, device="cpu"))._gpu_binds is False
    monkeypatch.setattr(sandbox, "gpu_device_nodes", lambda: [])
    assert LocalPool(PoolConfig(content_dir=hostile_dir, device="auto"))._gpu_binds is False
