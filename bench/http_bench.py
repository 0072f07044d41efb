"""HTTP benchmark of the review round trip.

Starts the app under uvicorn (one process, a SQLite file in a temporary directory, the
project's real cards), signs up N simulated learners, and drives them concurrently
through the practice loop for a fixed time: each round trip is one htmx grade POST,
which records the answer and returns the next card's stage (what the browser does per
card). Then the same server's /healthz is driven the same way, as the ceiling.

Two runs, each review phase followed by /healthz at the same concurrency:
- closed loop (saturation): every learner sends its next answer as soon as the last one
  comes back. This measures the server's capacity; the latencies there are mostly
  queueing (50 requests always in flight), not the cost of one answer.
- think time (realistic): every learner pauses 1-3 s (uniform; ``--think``) before
  each request, as a person reading the card does. Latency here is what a learner feels.
The simulated learners may take new cards without limit, so none runs out of cards.
The client runs on the same machine and takes CPU from the server: note the load.

Loopback only; the number of learners and the duration are bounded.

    .venv/bin/python bench/http_bench.py [--learners 50] [--seconds 10] [--think 1-3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MAX_LEARNERS = 200
MAX_SECONDS = 120
PASSWORD = "correct horse battery"
FIELDS = re.compile(r'name="(card_id|version|idempotency_key|shown_at)" value="([^"]*)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(tmp: Path, learners: int) -> str:
    """A migrated SQLite file with the real cards and `learners` accounts."""
    from sqlmodel import Session

    from app import migrate
    from app.db import make_engine
    from app.models.review import LearnerSettings
    from app.services import accounts
    from app.settings import Settings
    from tests.real_content import import_real_content

    url = f"sqlite:///{tmp / 'bench.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    settings = Settings(_env_file=None, environment="test", database_url=url)  # type: ignore[call-arg]
    passwords = accounts.passwords_from_settings(settings)
    with Session(engine) as session:
        import_real_content(session, tmp)
        for i in range(learners):
            user = accounts.create_user(session, f"bench{i}", PASSWORD, passwords=passwords)
            session.flush()
            assert user.id is not None
            session.add(LearnerSettings(user_id=user.id, new_per_day=9999))
        session.commit()
    engine.dispose()
    return url


def start_server(tmp: Path, url: str, port: int, **overrides: str) -> subprocess.Popen[bytes]:
    """uvicorn on the app, loopback only; ``overrides``: more BACKPROP_* variables."""
    env = {
        **os.environ,
        "BACKPROP_ENVIRONMENT": "test",
        "BACKPROP_DATA_DIR": str(tmp),
        "BACKPROP_DATABASE_URL": url,
        "BACKPROP_CONTENT_DIR": str(tmp / "content"),
        "BACKPROP_SECRET_KEY": "bench-secret",
        "BACKPROP_DEMO_WORKERS": "0",
        # Every simulated learner logs in from 127.0.0.1.
        "BACKPROP_LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
        **overrides,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host",
         "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 120  # a loaded machine imports the app slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("the server did not start")


async def log_in(client: httpx.AsyncClient, name: str) -> None:
    token = (await client.get("/api/auth/csrf")).json()["csrf_token"]
    response = await client.post(
        "/api/auth/login",
        json={"username": name, "password": PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    response.raise_for_status()
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]


async def pause(think: tuple[float, float]) -> None:
    if think[1] > 0:
        await asyncio.sleep(random.uniform(*think))


async def learner(
    base: str,
    name: str,
    seconds: float,
    latencies: list[float],
    errors: list[str],
    think: tuple[float, float],
    ready: asyncio.Barrier,
    window: list[float],
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        await log_in(client, name)
        html = (await client.get("/practice")).text
        # The clock starts once every learner is logged in with a card on screen: the
        # figures are the review round trip's, not the logins'.
        await ready.wait()
        window[0] = window[0] or time.perf_counter()  # the first one through starts it
        until = window[0] + seconds
        rating = 0
        while time.perf_counter() < until:
            form = dict(FIELDS.findall(html))
            if len(form) < 4:  # done for today: nothing left to grade
                html = (await client.get("/practice")).text
                if len(dict(FIELDS.findall(html))) < 4:
                    return
                continue
            rating = rating % 4 + 1
            await pause(think)
            if time.perf_counter() >= until:
                break
            started = time.perf_counter()
            response = await client.post(
                "/practice/grade",
                data={**form, "rating": str(rating), "duration_ms": "3000"},
                headers={"HX-Request": "true"},
            )
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200 or "changed in another tab" in response.text:
                errors.append(f"{response.status_code}")
            html = response.text


async def healthz(
    base: str, until: float, latencies: list[float], think: tuple[float, float]
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        while time.perf_counter() < until:
            await pause(think)
            if time.perf_counter() >= until:
                break
            started = time.perf_counter()
            (await client.get("/healthz")).raise_for_status()
            latencies.append(time.perf_counter() - started)


def summary(name: str, latencies: list[float], seconds: float) -> tuple[float, float, float]:
    ordered = sorted(latencies)
    rps = len(ordered) / seconds
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(
        f"{name:<24} {len(ordered):>7} req  {rps:>8.1f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms"
    )
    return rps, p50, p99


async def run(base: str, learners: int, seconds: float, think: tuple[float, float]) -> None:
    latencies: list[float] = []
    errors: list[str] = []
    ready, window = asyncio.Barrier(learners), [0.0]
    await asyncio.gather(*(
        learner(base, f"bench{i}", seconds, latencies, errors, think, ready, window)
        for i in range(learners)
    ))  # fmt: skip
    review = summary("review round trip", latencies, time.perf_counter() - window[0])
    if errors:
        print(f"  {len(errors)} refused or failed answers: {sorted(set(errors))}")
    ceiling: list[float] = []
    start = time.perf_counter()
    until = start + seconds
    await asyncio.gather(*(healthz(base, until, ceiling, think) for _ in range(learners)))
    health = summary("/healthz (ceiling)", ceiling, time.perf_counter() - start)
    print(f"review / healthz rate: {review[0] / health[0]:.0%} (aim: at least 40%); "
          f"review p99 {review[2]:.1f} ms (aim: under 50 ms)")  # fmt: skip
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--think", default="1-3", help="pause range in s, e.g. 1-3; 0: none")
    parser.add_argument("--only", choices=("closed", "think"), help="run one of the two")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run (CI): 3 learners, 1 s, no think time"
    )
    args = parser.parse_args()
    if args.quick:
        args.learners, args.seconds, args.think = 3, 1.0, "0"
    low, _, high = args.think.partition("-")
    think = (max(0.0, float(low)), max(0.0, float(high or low)))
    learners = max(1, min(args.learners, MAX_LEARNERS))
    seconds = max(1.0, min(args.seconds, MAX_SECONDS))
    with tempfile.TemporaryDirectory(prefix="backprop-bench-") as tmp_name:
        tmp = Path(tmp_name)
        url = prepare(tmp, learners)
        port = free_port()
        server = start_server(tmp, url, port)
        try:
            print(f"{learners} learners, {seconds:g} s each phase, one uvicorn process, "
                  f"SQLite file, {os.cpu_count()} CPUs")  # fmt: skip
            base = f"http://127.0.0.1:{port}"
            if args.only != "think":
                print("closed loop (no think time: saturation; latency is mostly queueing)")
                asyncio.run(run(base, learners, seconds, (0.0, 0.0)))
            if args.only != "closed" and think[1] > 0:
                print(f"think time {think[0]:g}-{think[1]:g} s per request (what a learner feels)")
                asyncio.run(run(base, learners, seconds, think))
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
