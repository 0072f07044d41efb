"""Abuse benchmark: /healthz latency while the server is abused, next to an idle baseline.

Starts the app under uvicorn (one process, a SQLite file in a temporary directory, the
production Argon2 cost) on 127.0.0.1 and, for each abuse in turn, samples /healthz
every 50 ms from its own connection while the abuse runs; prints p50/p99 and the status
codes the abuse got. Loopback only; every abuse is bounded in count and time.

Abuses:
- large bodies: 20 anonymous 50 MiB multipart POST /login (no cookie) and 20 logged-in
  16 MiB JSON grades, streamed at once;
- 40 concurrent sign-ups (sign-up limit raised for the run, so all 40 hash: the worst case;
  with the default limit 30 of them get 429 at once);
- a 1,500-note Anki import by an admin (needs genanki, a dev dependency);
- 150 SSE progress streams, held and reopened the way EventSource does for 8 s: 50
  anonymous, 100 from ten fresh accounts (ten each, over the per-learner cap);
- a full demo queue: twelve fresh accounts each ask for four runs that miss the cache.
During each abuse a real learner asks for a demo run that misses the cache (retrying on
429/503 as the page does) and polls it to the end: the bench prints how long it took to
be served, next to the same run with the server idle. The server runs two sandboxed
demo workers (the demos need torch and bubblewrap). The /healthz sampler is a process of
its own, so the abusers' client work never counts as server latency.

    .venv/bin/python bench/abuse_bench.py [--only NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.http_bench import free_port  # noqa: E402
from bench.http_bench import start_server as start_http_server  # noqa: E402

PASSWORD = "correct horse battery"
SAMPLE_EVERY_S = 0.05
ABUSE_TIMEOUT_S = 120.0
DEMO = "gd_update_rule"  # a small real demo; every run asks for a new learning rate
LEARNER_DEADLINE_S = 90.0
FRESH_ACCOUNTS = 12  # the demo-queue abusers
STREAM_ACCOUNTS = 10
STREAM_SECONDS = 8.0
_fresh_lr = itertools.count(1)


def fresh_params() -> dict[str, float]:
    """Parameters no run has used yet in this process (so the cache misses)."""
    return {"lr": round(0.001 + next(_fresh_lr) * 0.0001 + (os.getpid() % 97) * 1e-6, 7)}


def prepare(tmp: Path) -> str:
    from sqlmodel import Session

    from app import migrate
    from app.db import make_engine
    from app.services import accounts

    url = f"sqlite:///{tmp / 'bench.db'}"
    migrate.upgrade(url)
    (tmp / "content" / "cards").mkdir(parents=True)
    (tmp / "content" / "demos").mkdir()
    shutil.copy(ROOT / "content" / "demos" / f"{DEMO}.py", tmp / "content" / "demos")
    engine = make_engine(url)
    cheap = accounts.Passwords(time_cost=1, memory_kib=8, parallelism=1)
    names = ["learner", *account_names("fresh", FRESH_ACCOUNTS)]
    names += account_names("streamer", STREAM_ACCOUNTS)
    with Session(engine) as session:
        accounts.create_user(session, "admin", PASSWORD, passwords=cheap, role="admin")
        for name in names:
            accounts.create_user(session, name, PASSWORD, passwords=cheap)
    engine.dispose()
    return url


def account_names(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:02d}" for i in range(n)]


def start_server(tmp: Path, url: str, port: int) -> subprocess.Popen[bytes]:
    return start_http_server(
        tmp,
        url,
        port,
        BACKPROP_ENVIRONMENT="development",  # the real Argon2 cost
        BACKPROP_SIGNUP_MAX_PER_ADDRESS="1000",
        BACKPROP_DEMO_WORKERS="2",
        BACKPROP_DEMO_DEVICE="cpu",
    )


# Logged-in clients by account, kept for the whole run: every account logs in before the
# first measurement (``log_everyone_in``), so a login's Argon2 hash (the production cost:
# the stored cheap hashes are upgraded on the first login) never counts as the abuse.
_clients: dict[str, httpx.AsyncClient] = {}


async def log_everyone_in(base: str) -> None:
    names = ["learner", "admin", *account_names("fresh", FRESH_ACCOUNTS)]
    for name in names + account_names("streamer", STREAM_ACCOUNTS):
        await logged_in(base, name)


async def logged_in(base: str, name: str) -> httpx.AsyncClient:
    if name in _clients:
        return _clients[name]
    client = httpx.AsyncClient(base_url=base, timeout=60, verify=False)
    token = (await client.get("/api/auth/csrf")).json()["csrf_token"]
    response = await client.post(
        "/api/auth/login",
        json={"username": name, "password": PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    response.raise_for_status()
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    _clients[name] = client
    return client


def sample_health(
    base: str, stop: multiprocessing.synchronize.Event, out: multiprocessing.Queue
) -> None:  # type: ignore[type-arg]
    """In a process of its own with its own connection, so neither the abusers' client
    work nor this process's GIL counts as server latency. Puts (latencies, codes)."""
    codes: Counter[int] = Counter()
    latencies: list[float] = []
    with httpx.Client(base_url=base, timeout=30, verify=False) as client:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                codes[client.get("/healthz").status_code] += 1
            except httpx.HTTPError:
                codes[0] += 1
            latencies.append(time.perf_counter() - started)
            stop.wait(SAMPLE_EVERY_S)
    out.put((latencies, dict(codes)))


def streamed(size: int, chunk: int = 1 << 20):  # type: ignore[no-untyped-def]
    async def body():  # type: ignore[no-untyped-def]
        sent = 0
        while sent < size:
            part = min(chunk, size - sent)
            sent += part
            yield b"x" * part

    return body()


# --- the abuses: each returns the status codes it got ---------------------------------


async def large_bodies(base: str) -> Counter[int]:
    codes: Counter[int] = Counter()
    learner = await logged_in(base, "learner")

    async def anonymous() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60, verify=False) as client:
            try:
                response = await client.post(
                    "/login",
                    content=streamed(50 << 20),
                    headers={"content-type": "multipart/form-data; boundary=x"},
                )
                codes[response.status_code] += 1
            except httpx.HTTPError:
                codes[0] += 1  # the server closed the connection on the refused upload

    async def json_grade() -> None:
        try:
            response = await learner.post(
                "/api/review/grade",
                content=streamed(16 << 20),
                headers={"content-type": "application/json"},
            )
            codes[response.status_code] += 1
        except httpx.HTTPError:
            codes[0] += 1

    await asyncio.gather(*[anonymous() for _ in range(20)], *[json_grade() for _ in range(20)])
    return codes


async def signups(base: str) -> Counter[int]:
    codes: Counter[int] = Counter()

    async def one(i: int) -> None:
        form = {"username": f"abuser{i:03d}-{os.getpid()}", "password": PASSWORD,
                "password_confirm": PASSWORD}  # fmt: skip
        async with httpx.AsyncClient(base_url=base, timeout=60, verify=False) as client:
            try:
                token = (await client.get("/api/auth/csrf")).json()["csrf_token"]
                response = await client.post("/signup", data={**form, "csrf_token": token})
                codes[response.status_code] += 1
            except httpx.HTTPError:
                codes[0] += 1  # no answer within the client's 60 s

    await asyncio.gather(*[one(i) for i in range(40)])
    return codes


def anki_package(path: Path, notes: int) -> bytes:
    import genanki

    model = genanki.Model(
        1607392319,
        "Basic",
        fields=[{"name": "Front"}, {"name": "Back"}],
        templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{Back}}"}],
    )
    deck = genanki.Deck(2059400110, "Bench")
    for i in range(notes):
        deck.add_note(genanki.Note(model=model, fields=[f"Question {i}?", f"Answer <b>{i}</b>."]))
    genanki.Package(deck).write_to_file(path)
    return path.read_bytes()


async def anki_import(base: str, package: bytes) -> Counter[int]:
    admin = await logged_in(base, "admin")
    response = await admin.post(
        "/admin/anki", files={"file": ("bench.apkg", package)}, timeout=ABUSE_TIMEOUT_S
    )
    return Counter([response.status_code])


async def start_demo_run(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post(f"/api/demos/{DEMO}/runs", json=fresh_params())


async def sse_streams(base: str) -> Counter[int]:
    """150 EventSource-like clients on a run still going: each opens the stream, reads
    until the server closes it (or refuses it), waits the 1 s the stream's `retry` asks
    for, and opens it again, for STREAM_SECONDS."""
    codes: Counter[int] = Counter()
    owner = await logged_in(base, "streamer00")
    streamers = [owner] + [
        await logged_in(base, name) for name in account_names("streamer", STREAM_ACCOUNTS)[1:]
    ]
    anonymous = [httpx.AsyncClient(base_url=base, timeout=30, verify=False) for _ in range(5)]
    first = await owner.post(f"/api/demos/{DEMO}/runs", json={"steps": 2000, **fresh_params()})
    run_id = first.json()["id"]
    deadline = time.monotonic() + STREAM_SECONDS

    async def listen(client: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    async with client.stream("GET", f"/api/demo-runs/{run_id}/events") as r:
                        codes[r.status_code] += 1
                        async for _ in r.aiter_bytes():
                            pass
            except TimeoutError:
                return
            except httpx.HTTPError:
                codes[0] += 1
            await asyncio.sleep(1.0)

    clients = [anonymous[i % 5] for i in range(50)]
    clients += [streamers[i % STREAM_ACCOUNTS] for i in range(100)]
    try:
        await asyncio.gather(*[listen(c) for c in clients])
    finally:
        for client in anonymous:
            await client.aclose()
    return codes


async def demo_queue(base: str) -> Counter[int]:
    """FRESH_ACCOUNTS fresh accounts each ask for four runs that miss the cache, at once."""
    clients = [await logged_in(base, name) for name in account_names("fresh", FRESH_ACCOUNTS)]
    codes: Counter[int] = Counter()

    async def one(client: httpx.AsyncClient) -> None:
        try:
            codes[(await start_demo_run(client)).status_code] += 1
        except httpx.HTTPError:
            codes[0] += 1

    await asyncio.gather(*[one(c) for c in clients for _ in range(4)])
    return codes


async def learner_demo_run(client: httpx.AsyncClient) -> str:
    """A real learner's run that misses the cache, retried on 429/503 as the page does,
    polled to its end. Says how it went. The learner logged in before the abuse."""
    started = time.perf_counter()
    first: int | None = None
    try:
        while time.perf_counter() - started < LEARNER_DEADLINE_S:
            response = await start_demo_run(client)
            first = first or response.status_code
            if response.status_code in (429, 503):
                await asyncio.sleep(min(5.0, float(response.headers.get("retry-after", 1))))
                continue
            if response.status_code == 200:  # a cached answer (not expected: new params)
                return f"served in {time.perf_counter() - started:.1f}s (first {first})"
            if response.status_code != 202:
                return f"refused: {response.status_code} {response.text[:80]}"
            url = response.json()["url"]
            while time.perf_counter() - started < LEARNER_DEADLINE_S:
                view = (await client.get(url)).json()
                if view.get("done"):
                    took = time.perf_counter() - started
                    return f"{view.get('status')} in {took:.1f}s (first answer {first})"
                await asyncio.sleep(0.2)
        return f"not served within {LEARNER_DEADLINE_S:.0f}s (first answer {first})"
    except httpx.HTTPError as exc:
        return f"failed: {exc!r}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(
    base: str, name: str, abuse: Callable[[], Awaitable[Counter[int]]] | None
) -> None:
    context = multiprocessing.get_context("spawn")
    stop, out = context.Event(), context.Queue()
    sampler = context.Process(target=sample_health, args=(base, stop, out), daemon=True)
    sampler.start()
    learner = await logged_in(base, "learner")
    await asyncio.sleep(0.5)  # the sampler's interpreter starts
    started = time.perf_counter()

    async def learner_later() -> str:
        await asyncio.sleep(0.5)  # while the abuse is under way
        return await learner_demo_run(learner)

    if abuse is None:  # the baselines: /healthz alone, then the learner's run alone
        await asyncio.sleep(3)
        codes: Counter[int] = Counter()
        took = time.perf_counter() - started
        stop.set()
        served = await learner_demo_run(learner)
    else:
        learner_run = asyncio.ensure_future(learner_later())
        codes = await asyncio.wait_for(abuse(), ABUSE_TIMEOUT_S)
        took = time.perf_counter() - started
        served = await learner_run
        stop.set()
    latencies, health = await asyncio.to_thread(out.get, True, 60)
    sampler.join(10)
    p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
    statuses = " ".join(f"{c}x{n}" for c, n in sorted(codes.items())) or "-"
    health_codes = " ".join(f"{c}x{n}" for c, n in sorted(health.items()))
    print(
        f"{name:<14} {took:6.1f}s  /healthz p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  "
        f"({len(latencies)} samples, {health_codes})  abuse got: {statuses}\n"
        f"{'':<22}learner's demo run: {served}",
        flush=True,
    )


async def run(base: str, only: str | None, tmp: Path) -> None:
    abuses: dict[str, Callable[[], Awaitable[Counter[int]]] | None] = {
        "idle": None,
        "large-bodies": lambda: large_bodies(base),
        "signups-40": lambda: signups(base),
        "sse-150": lambda: sse_streams(base),
        "demo-queue": lambda: demo_queue(base),
    }
    try:
        package = anki_package(tmp / "bench.apkg", 1500)
        abuses["anki-1500"] = lambda: anki_import(base, package)
    except ImportError:
        print("anki-1500: skipped, genanki is not installed (pip install genanki)")
    await log_everyone_in(base)
    try:
        for name, abuse in abuses.items():
            if only in (None, name) or name == "idle":
                await measure(base, name, abuse)
    finally:
        for client in _clients.values():
            await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="run the baseline and this abuse only")
    parser.add_argument("--quick", action="store_true", help="smoke run (CI): large bodies only")
    args = parser.parse_args()
    if args.quick:
        args.only = "large-bodies"
    with open("/proc/loadavg") as f:
        print(f"load before: {f.read().split()[:3]}")
    with tempfile.TemporaryDirectory(prefix="backprop-abuse-") as tmp_name:
        tmp = Path(tmp_name)
        url = prepare(tmp)
        port = free_port()
        server = start_server(tmp, url, port)
        try:
            asyncio.run(run(f"http://127.0.0.1:{port}", args.only, tmp))
        finally:
            server.terminate()
            server.wait(timeout=30)
    with open("/proc/loadavg") as f:
        print(f"load after: {f.read().split()[:3]}")


if __name__ == "__main__":
    main()
