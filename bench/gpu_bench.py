"""CPU against CUDA for the demos, side by side (issue 16).

    .venv/bin/python bench/gpu_bench.py [--demos a,b] [--repeats 3] [--runs 30]

Prints, per demo, the in-process time of its default run on one CPU thread and on CUDA;
the pool's warm-up, and its warm-run overhead over an in-process call on each device; and
the latency of a cached result. Without a GPU the CUDA columns say "needs a GPU": only
the CPU figures are measured here.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from app.demos.contract import DemoContext  # noqa: E402
from app.demos.registry import DemoSpec, load_demo  # noqa: E402
from app.workers.executor import Job, run_blocking  # noqa: E402
from app.workers.pool import LocalPool, PoolConfig  # noqa: E402

CONTENT = PROJECT_ROOT / "content"
NEEDS_GPU = "needs a GPU"


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def time_in_process(spec: DemoSpec, device: str, repeats: int) -> float:
    """Median ms of the default run, one thread, after one warm-up run."""
    import torch

    torch.set_num_threads(1)
    times = []
    for index in range(repeats + 1):
        start = time.perf_counter()
        spec.run(spec.params_model(), DemoContext(device=device))
        if device == "cuda":
            torch.cuda.synchronize()
        if index:
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def pool_figures(device: str, demo: str, runs: int) -> dict[str, float]:
    """Warm-up seconds and warm-run p50 (ms) through a sandboxed pool on ``device``."""
    started = time.perf_counter()
    pool = LocalPool(
        PoolConfig(content_dir=CONTENT, workers=1, device="cpu" if device == "cpu" else "auto")
    )
    pool.start()
    assert pool.wait_ready(180), pool.status()
    warm_s = time.perf_counter() - started
    spec = load_demo(CONTENT / "demos" / f"{demo}.py")
    job = Job(run_id="", demo_name=demo, demo_path=str(spec.path), code_hash=spec.code_hash,
              params={}, device=device)  # fmt: skip
    times = []
    try:
        for index in range(runs + 5):
            start = time.perf_counter()
            outcome = run_blocking(pool, dataclasses.replace(job, run_id=uuid.uuid4().hex))
            assert outcome.status == "succeeded", outcome.reason
            assert outcome.device == device, outcome.device
            if index >= 5:
                times.append((time.perf_counter() - start) * 1000)
    finally:
        pool.stop()
    return {"warm_s": warm_s, "p50_ms": statistics.median(times), "sandbox": pool.sandbox_kind}  # type: ignore[dict-item]


def cached_latency(demo: str, runs: int) -> float:
    """p50 ms of a cached result through the service and a SQLite database."""
    from sqlmodel import Session

    from app import migrate
    from app.db import make_engine
    from app.services.demo_runs import DemoCatalog, DemoRunService

    tmp = Path(tempfile.mkdtemp(prefix="gpu-bench-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    pool = LocalPool(PoolConfig(content_dir=CONTENT, workers=1, device="cpu"))
    pool.start()
    assert pool.wait_ready(180)
    service = DemoRunService(engine, DemoCatalog(CONTENT), pool)
    try:
        first = service.start_run(demo, {})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with Session(engine) as session:
                if service.get_run(session, first.id).status == "succeeded":  # type: ignore[union-attr]
                    break
            time.sleep(0.01)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            run = service.start_run(demo, {})
            with Session(engine) as session:
                assert service.run_view(session, run)["cached"]
            times.append((time.perf_counter() - start) * 1000)
    finally:
        pool.stop()
        engine.dispose()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demos", default="", help="comma-separated names (default: all)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reference", default="vanishing_gradients")
    parser.add_argument("--quick", action="store_true", help="smoke run (CI): two demos, 3 runs")
    args = parser.parse_args()
    if args.quick:
        args.demos, args.repeats, args.runs = "softmax,vanishing_gradients", 1, 3
    names = [n for n in args.demos.split(",") if n] or sorted(
        p.stem for p in (CONTENT / "demos").glob("*.py") if not p.name.startswith("_")
    )
    cuda = cuda_available()
    if not cuda:
        print("No CUDA device here: the CUDA columns need a GPU; CPU figures only.\n")

    print(f"{'demo':28} {'CPU 1 thread':>14} {'CUDA':>14} {'CUDA/CPU':>9}")
    cpu_total = cuda_total = 0.0
    for name in names:
        spec = load_demo(CONTENT / "demos" / f"{name}.py")
        cpu_ms = time_in_process(spec, "cpu", args.repeats)
        cpu_total += cpu_ms
        if cuda:
            cuda_ms = time_in_process(spec, "cuda", args.repeats)
            cuda_total += cuda_ms
            print(f"{name:28} {cpu_ms:11.1f} ms {cuda_ms:11.1f} ms {cuda_ms / cpu_ms:8.2f}x")
        else:
            print(f"{name:28} {cpu_ms:11.1f} ms {NEEDS_GPU:>14} {'':>9}")
    print(f"{'sum of medians':28} {cpu_total:11.1f} ms "
          + (f"{cuda_total:11.1f} ms" if cuda else f"{NEEDS_GPU:>14}"))  # fmt: skip

    reference = load_demo(CONTENT / "demos" / f"{args.reference}.py")
    print(f"\npool against in-process, {args.reference}, {args.runs} warm runs:")
    for device in ("cpu", "cuda"):
        if device == "cuda" and not cuda:
            print(f"  cuda: {NEEDS_GPU}")
            continue
        direct = time_in_process(reference, device, max(args.repeats, 10))
        figures = pool_figures(device, args.reference, args.runs)
        print(f"  {device}: pool warm after {figures['warm_s']:.2f} s (sandbox: "
              f"{figures['sandbox']}); in-process p50 {direct:.1f} ms, pool p50 "
              f"{figures['p50_ms']:.1f} ms, overhead {figures['p50_ms'] - direct:+.1f} ms "
              f"(aim: within 10 ms on CUDA, 20 ms on CPU)")  # fmt: skip
    cached_ms = cached_latency(args.reference, args.runs)
    print(f"\ncached result (service + SQLite) p50: {cached_ms:.2f} ms")


if __name__ == "__main__":
    main()
