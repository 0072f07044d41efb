"""Scale-out, side by side on this machine: demo runs through the Redis queue with 1 and 2
`backprop worker` processes against the in-process pool, and the review round trip with
1 and 2 web processes on PostgreSQL.

    .venv/bin/python bench/scale_bench.py [--runs 200] [--seconds 8] [--clients 8]

Needs the local PostgreSQL (--pg) and Redis (--redis). Demo runs use the `quick` test demo
with the cache off, submitted with at most --inflight outstanding; latency is the run's
own created_at -> finished_at from the database (submit to result written). Prints
throughput and p50/p95 for each setup and the ratios against the in-process pool and the
single web process.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402
from sqlmodel import Session, col, select  # noqa: E402

from app import migrate  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.models.demo_run import DemoRun  # noqa: E402
from app.services import accounts  # noqa: E402
from app.services.demo_runs import DemoCatalog, DemoRunService, QueueFull  # noqa: E402
from app.settings import Settings  # noqa: E402
from tests.scale.conftest import WorkerProcess, start_web, wait_registered, worker_env  # noqa: E402
from tests.services.scheduling.conftest import add_cards  # noqa: E402
from tests.workers.conftest import hostile_content  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def fresh_pg_database(server: str) -> tuple[str, str]:
    name = f"backprop_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    return name, url


def drop_pg_database(server: str, name: str) -> None:
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


# --- demo runs ------------------------------------------------------------------------


def measure(service: DemoRunService, args: argparse.Namespace) -> dict[str, float]:
    """Latency one run at a time (p50/p95), then throughput with --inflight outstanding."""
    drive_runs(service, 20, args.inflight)  # warm-up
    alone = drive_runs(service, args.latency_runs, 1)
    loaded = drive_runs(service, args.runs, args.inflight)
    return {
        **loaded,
        "p50_ms": alone["p50_ms"],
        "p95_ms": alone["p95_ms"],
        "loaded_p95_ms": loaded["p95_ms"],
        "failed": alone["failed"] + loaded["failed"],
    }


def drive_runs(service: DemoRunService, runs: int, inflight: int) -> dict[str, float]:
    """Submits `runs` uncached runs of `quick`, at most `inflight` unfinished at once."""
    ids: list[str] = []
    done: set[str] = set()
    started = time.perf_counter()
    while len(done) < runs:
        while len(ids) < runs and len(ids) - len(done) < inflight:
            try:
                run = service.start_run("quick", {"a": len(ids) % 50}, use_cache=False)
            except QueueFull:
                break
            ids.append(run.id)
        pending = [i for i in ids if i not in done]
        with Session(service.engine) as session:
            finished = session.exec(
                select(DemoRun.id).where(
                    col(DemoRun.id).in_(pending), col(DemoRun.status).in_(("succeeded", "failed"))
                )
            ).all()
        done.update(finished)
        time.sleep(0.02)
    wall = time.perf_counter() - started
    with Session(service.engine) as session:
        rows = session.exec(select(DemoRun).where(col(DemoRun.id).in_(ids))).all()
    failed = [r for r in rows if r.status != "succeeded"]
    latencies = [
        (r.finished_at - r.created_at).total_seconds() * 1000 for r in rows if r.finished_at
    ]
    return {
        "runs_per_s": runs / wall,
        "p50_ms": pct(latencies, 0.5),
        "p95_ms": pct(latencies, 0.95),
        "failed": float(len(failed)),
    }


def bench_local(settings: Settings, workers: int, args: argparse.Namespace) -> dict[str, float]:
    from app.workers.pool import LocalPool, PoolConfig

    pool = LocalPool(PoolConfig.from_settings(settings, workers=workers, queue_size=64))
    pool.start()
    assert pool.wait_ready(120)
    engine = make_engine(settings.database_url)
    service = DemoRunService(engine, DemoCatalog(settings.content_dir), pool)
    try:
        return measure(service, args)
    finally:
        pool.stop()
        engine.dispose()


def bench_queue(
    settings: Settings, processes: int, args: argparse.Namespace, tmp: Path
) -> dict[str, float]:
    import subprocess

    from app.workers.queue_executor import QueueExecutor

    prefix = f"bpbench-{uuid.uuid4().hex[:8]}"
    settings = settings.model_copy(update={"demo_queue": args.redis, "demo_queue_prefix": prefix})
    workers = []
    for i in range(processes):
        name = f"bench-w{i}"
        log_path = tmp / f"{prefix}-{name}.log"
        env = worker_env(
            BACKPROP_DATABASE_URL=settings.database_url,
            BACKPROP_CONTENT_DIR=str(settings.content_dir),
            BACKPROP_DATA_DIR=str(tmp / "worker-data"),
            BACKPROP_DEMO_QUEUE=args.redis,
            BACKPROP_DEMO_QUEUE_PREFIX=prefix,
            BACKPROP_DEMO_DEVICE="cpu",
            BACKPROP_DEMO_WORKERS="1",
        )
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "worker", "--name", name],
                cwd=PROJECT_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        workers.append(WorkerProcess(name, process, log_path))
    executor = QueueExecutor(settings)
    engine = make_engine(settings.database_url)
    service = DemoRunService(engine, DemoCatalog(settings.content_dir), executor)
    try:
        for worker in workers:
            wait_registered(args.redis, prefix, worker.name, worker)
        return measure(service, args)
    finally:
        for worker in workers:
            worker.stop()
        keys = [
            *executor.redis.scan_iter(f"{prefix}*"),
            *executor.redis.scan_iter(f"_kombu.binding*.{prefix}*"),
        ]
        if keys:
            executor.redis.delete(*keys)
        executor.stop()
        engine.dispose()


# --- review round trip ------------------------------------------------------------------


def bench_web(url: str, processes: int, args: argparse.Namespace, tmp: Path) -> dict[str, float]:
    content = tmp / "empty-content"
    (content / "cards").mkdir(parents=True, exist_ok=True)
    (content / "demos").mkdir(exist_ok=True)
    webs = [
        start_web(tmp / f"web-{processes}-{i}", url, content,
                  BACKPROP_SECRET_KEY="bench-secret", BACKPROP_ENVIRONMENT="test")
        for i in range(processes)
    ]  # fmt: skip
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + args.seconds

    def client(index: int) -> None:
        name = f"bench{processes}x{index}"
        with httpx.Client(timeout=30) as http:
            base = webs[index % len(webs)].base_url
            token = http.get(base + "/api/auth/csrf").json()["csrf_token"]
            login = http.post(
                base + "/api/auth/login",
                json={"username": name, "password": "bench password"},
                headers={"X-CSRF-Token": token},
            )
            headers = {"X-CSRF-Token": login.json()["csrf_token"]}
            turn = index
            while time.perf_counter() < stop:
                base = webs[turn % len(webs)].base_url  # a load balancer's round robin
                turn += 1
                began = time.perf_counter()
                card = http.get(base + "/api/review/next").json()["card"]
                if card is None:
                    break
                base = webs[turn % len(webs)].base_url
                turn += 1
                graded = http.post(
                    base + "/api/review/grade",
                    json={"card_id": card["card_id"], "rating": 3, "version": card["version"],
                          "idempotency_key": uuid.uuid4().hex},
                    headers=headers,
                )  # fmt: skip
                with lock:
                    if graded.status_code == 200:
                        latencies.append((time.perf_counter() - began) * 1000)
                    else:
                        errors[0] += 1

    try:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
    finally:
        for web in webs:
            web.stop()
    return {
        "reviews_per_s": len(latencies) / wall,
        "p50_ms": pct(latencies, 0.5),
        "p95_ms": pct(latencies, 0.95),
        "errors": float(errors[0]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--inflight", type=int, default=16)
    parser.add_argument("--latency-runs", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run (CI): 10 runs, 2 in flight, 3 s"
    )
    args = parser.parse_args()
    if args.quick:
        args.runs, args.inflight, args.latency_runs, args.seconds, args.clients = 10, 2, 5, 3.0, 2
    print(f"machine: {os.cpu_count()} CPU cores; PostgreSQL {args.pg}; Redis {args.redis}")

    name, url = fresh_pg_database(args.pg)
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            content = hostile_content(tmp / "content")
            settings = Settings(
                _env_file=None, environment="test", data_dir=tmp / "data",  # type: ignore[call-arg]
                database_url=url, content_dir=content, secret_key="bench", demo_device="cpu",
                demo_memory_mb=700,
            )  # fmt: skip
            print(
                f"\ndemo runs: `quick`, PostgreSQL, cache off; throughput: {args.runs} runs with "
                f"<= {args.inflight} in flight; latency alone: {args.latency_runs} runs one at a "
                "time, submit -> result in the database"
            )
            results = {
                "in-process pool, 1 slot": bench_local(settings, 1, args),
                "in-process pool, 2 slots": bench_local(settings, 2, args),
                "queue, 1 worker process": bench_queue(settings, 1, args, tmp),
                "queue, 2 worker processes": bench_queue(settings, 2, args, tmp),
            }
            base = results["in-process pool, 2 slots"]
            for label, r in results.items():
                print(
                    f"  {label:<26} {r['runs_per_s']:6.1f} runs/s (p95 {r['loaded_p95_ms']:5.0f} ms"
                    f" loaded)   alone: p50 {r['p50_ms']:6.1f} ms  p95 {r['p95_ms']:6.1f} ms"
                    f"   failed {int(r['failed'])}   | x{r['runs_per_s'] / base['runs_per_s']:.2f}"
                    f" throughput, x{r['p95_ms'] / base['p95_ms']:.2f} p95 vs in-process 2 slots"
                )
            q1, q2 = results["queue, 1 worker process"], results["queue, 2 worker processes"]
            print(f"  2 vs 1 worker processes: x{q2['runs_per_s'] / q1['runs_per_s']:.2f} "
                  f"throughput, x{q2['p95_ms'] / q1['p95_ms']:.2f} p95")  # fmt: skip

            engine = make_engine(url)
            add_cards(engine, 400)
            with Session(engine) as session:
                for processes in (1, 2):
                    for i in range(args.clients):
                        accounts.create_user(
                            session, f"bench{processes}x{i}", "bench password",
                            passwords=accounts.passwords_for(1, 8, 1),
                        )  # fmt: skip
            engine.dispose()
            print(
                f"\nreview round trip (GET next + POST grade), {args.clients} learners, "
                f"{args.seconds:g} s, round robin over the web processes, PostgreSQL"
            )
            web = {n: bench_web(url, n, args, tmp) for n in (1, 2)}
            for n, r in web.items():
                print(
                    f"  {n} web process{'es' if n > 1 else '  '}   {r['reviews_per_s']:7.1f} "
                    f"reviews/s   p50 {r['p50_ms']:6.1f} ms   p95 {r['p95_ms']:6.1f} ms   "
                    f"errors {int(r['errors'])}"
                )
            if web[1]["reviews_per_s"] and web[1]["p95_ms"]:
                ratio = web[2]["reviews_per_s"] / web[1]["reviews_per_s"]
                print(
                    f"  2 vs 1 web processes: x{ratio:.2f} throughput, "
                    f"x{web[2]['p95_ms'] / web[1]['p95_ms']:.2f} p95"
                )
            else:
                print("  no review finished in the time given: run longer (--seconds)")
    finally:
        drop_pg_database(args.pg, name)


if __name__ == "__main__":
    main()
