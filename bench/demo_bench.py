"""Demo runner latency, side by side, for a reference demo (vanishing_gradients).

    .venv/bin/python bench/demo_bench.py [--runs 50] [--demo vanishing_gradients]

Prints p50/p95 of: a fresh python subprocess per run, a run through the app's pool
(warm), a cached result through the service, a direct in-process call; the pool's
warm-up time; runs per minute with the default pool (BACKPROP_DEMO_WORKERS).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from app import migrate  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.demos.registry import load_demo  # noqa: E402
from app.services.demo_runs import DemoCatalog, DemoRunService  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.workers.executor import Job, RunEvent, run_blocking  # noqa: E402
from app.workers.pool import LocalPool, PoolConfig  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def line(label: str, values: list[float]) -> tuple[float, float]:
    p50, p95 = pct(values, 0.5), pct(values, 0.95)
    print(f"  {label:<34} p50 {p50:8.2f} ms   p95 {p95:8.2f} ms   (n={len(values)})")
    return p50, p95


def fresh_subprocess(path: Path, runs: int) -> list[float]:
    code = (
        "import torch; torch.set_num_threads(1)\n"
        "from app.demos.registry import load_demo\n"
        "from app.demos.contract import DemoContext\n"
        f"s = load_demo({str(path)!r}); s.run(s.params_model(), DemoContext())\n"
    )
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, check=True)
        times.append((time.perf_counter() - t) * 1000)
    return times


def in_process(path: Path, runs: int) -> list[float]:
    code = (
        "import time, json, torch; torch.set_num_threads(1)\n"
        "from app.demos.registry import load_demo\n"
        "from app.demos.contract import DemoContext\n"
        f"s = load_demo({str(path)!r}); p = s.params_model(); s.run(p, DemoContext())\n"
        "out = []\n"
        f"for _ in range({runs}):\n"
        "    t = time.perf_counter(); s.run(p, DemoContext())\n"
        "    out.append((time.perf_counter() - t) * 1000)\n"
        "print(json.dumps(out))\n"
    )  # in a subprocess: this process must stay free of torch, like the web process
    import json

    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, check=True,
                          capture_output=True, text=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--demo", default="vanishing_gradients")
    parser.add_argument("--fresh-runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smoke run (CI): 5 runs, 1 fresh")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.fresh_runs = 5, 1

    tmp = Path(tempfile.mkdtemp(prefix="demo-bench-"))
    content = PROJECT_ROOT / "content"
    path = content / "demos" / f"{args.demo}.py"
    spec = load_demo(path)
    settings = Settings(_env_file=None, data_dir=tmp, content_dir=content,  # type: ignore[call-arg]
                        database_url=f"sqlite:///{tmp / 'bench.db'}")  # fmt: skip
    print(f"demo {args.demo}, {args.runs} runs each; pool: {settings.demo_workers} workers, "
          f"device {settings.demo_device}")  # fmt: skip

    t0 = time.perf_counter()
    pool = LocalPool(PoolConfig.from_settings(settings))
    pool.start()
    pool.wait_ready(120)
    warm_s = time.perf_counter() - t0
    status = pool.status()
    print(f"  pool warm after {warm_s:.2f} s (sandbox: {status['sandbox']}, "
          f"device: {status['device']}, torch {status['torch_version']})\n")  # fmt: skip

    def job() -> Job:
        return Job(run_id=uuid.uuid4().hex, demo_name=spec.name, demo_path=str(path),
                   code_hash=spec.code_hash, params={})  # fmt: skip

    for _ in range(5):
        run_blocking(pool, job())
    warm = []
    for _ in range(args.runs):
        t = time.perf_counter()
        outcome = run_blocking(pool, job())
        warm.append((time.perf_counter() - t) * 1000)
        assert outcome.status == "succeeded", outcome.reason

    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    service = DemoRunService(engine, DemoCatalog(content), pool)
    first = service.start_run(args.demo, {})
    deadline = time.monotonic() + 30
    from sqlmodel import Session

    while time.monotonic() < deadline:
        with Session(engine) as session:
            if service.get_run(session, first.id).status == "succeeded":  # type: ignore[union-attr]
                break
        time.sleep(0.01)
    cached = []
    for _ in range(args.runs):
        t = time.perf_counter()
        run = service.start_run(args.demo, {})
        with Session(engine) as session:
            view = service.run_view(session, run)
        cached.append((time.perf_counter() - t) * 1000)
        assert view["cached"] and view["result"]

    direct = in_process(path, args.runs)
    fresh = fresh_subprocess(path, args.fresh_runs)

    print("latency, submit to result:")
    d50, _ = line("direct in-process call", direct)
    w50, w95 = line("pool run (warm, sandboxed)", warm)
    c50, _ = line("cached result (service + DB)", cached)
    line("fresh python subprocess", fresh)
    print(f"\n  pool minus in-process at p50: {w50 - d50:+.2f} ms (aim: within 20 ms); "
          f"pool p95 < 50 ms: {'yes' if w95 < 50 else 'NO'}; "
          f"cached p50 < 10 ms: {'yes' if c50 < 10 else 'NO'}")  # fmt: skip

    # Throughput: keep the queue full for a fixed number of runs.
    total = max(60, args.runs * 2)
    done = threading.Semaphore(0)
    submitted = 0
    t = time.perf_counter()

    def on_event(event: RunEvent) -> None:
        if event.kind == "finished":
            done.release()

    while submitted < total:
        try:
            pool.submit(job(), on_event)
            submitted += 1
        except Exception:
            time.sleep(0.005)
    for _ in range(total):
        done.acquire()
    elapsed = time.perf_counter() - t
    print(f"\nthroughput: {total / elapsed * 60:.0f} runs/minute with {settings.demo_workers} "
          f"workers ({total} runs in {elapsed:.2f} s)")  # fmt: skip
    pool.stop()
    engine.dispose()


if __name__ == "__main__":
    main()
