"""In-process profile of the review round trip: one learner, the real cards, a SQLite
file, the ASGI app driven directly (httpx.ASGITransport) with sync endpoints run inline
instead of in the threadpool, so a profile sees the whole request. Prints the time per
answer + next card and the SQL statements of one round trip; with --profile, a
cProfile report of the loop.

    .venv/bin/python bench/review_profile.py [--answers 300] [--profile] [--save FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.http_bench import FIELDS, PASSWORD, prepare  # noqa: E402


async def _inline(func: Any, *args: Any, **_kwargs: Any) -> Any:
    return func(*args)


async def drive(
    app: Any, answers: int, profile: bool, sort: str, statements: list[str], save: str | None
) -> None:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        token = (await client.get("/api/auth/csrf")).json()["csrf_token"]
        r = await client.post("/api/auth/login", json={"username": "bench0", "password": PASSWORD},
                              headers={"X-CSRF-Token": token})  # fmt: skip
        client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        html = (await client.get("/practice")).text

        async def answer(i: int) -> str:
            form = dict(FIELDS.findall(html))
            response = await client.post(
                "/practice/grade",
                data={**form, "rating": str(i % 4 + 1), "duration_ms": "3000"},
                headers={"HX-Request": "true"},
            )
            assert response.status_code == 200, response.status_code
            return response.text

        for i in range(20):  # warm up
            html = await answer(i)
        statements.clear()
        html = await answer(1)
        per_trip = list(statements)
        profiler = None
        if profile or save:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started, cpu = time.perf_counter(), time.process_time()
        pages = []
        for i in range(answers):
            html = await answer(i)
            pages.append(html)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        floor = time.process_time()
        for _ in range(answers):  # the framework and client alone, for scale
            assert (await client.get("/healthz")).status_code == 200
        floor = time.process_time() - floor
        if profiler is not None:
            import pstats

            profiler.disable()
            if save:
                profiler.dump_stats(save)
            pstats.Stats(profiler).sort_stats(sort).print_stats(40)
    wall_ms, cpu_ms = elapsed / answers * 1000, cpu / answers * 1000
    shown = sum(1 for page in pages if 'name="card_id"' in page)
    print(f"{answers} answers: {wall_ms:.2f} ms wall, {cpu_ms:.2f} ms CPU per round trip "
          f"(in process, client included); {len(per_trip)} SQL statements "
          f"per round trip; load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"  {shown} of {answers} responses showed a card (the rest: the done screen); "
          f"GET /healthz in the same loop: {floor / answers * 1000:.2f} ms CPU")  # fmt: skip
    for stmt in per_trip:
        print("  ", re.sub(r"\s+", " ", stmt)[:150])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", choices=("cumulative", "tottime"), default="cumulative")
    parser.add_argument("--save", metavar="FILE", help="also write the cProfile stats here")
    parser.add_argument("--quick", action="store_true", help="smoke run (CI): 10 answers")
    args = parser.parse_args()
    if args.quick:
        args.answers = 10
    import anyio.to_thread
    from sqlalchemy import event

    from app.main import create_app
    from app.settings import Settings

    anyio.to_thread.run_sync = _inline  # type: ignore[assignment]  # one thread: one profile
    with tempfile.TemporaryDirectory(prefix="backprop-prof-") as tmp_name:
        tmp = Path(tmp_name)
        url = prepare(tmp, 1)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, environment="test", database_url=url, data_dir=str(tmp),
            content_dir=str(tmp / "content"), secret_key="bench-secret", demo_workers=0,
        )  # fmt: skip
        app = create_app(settings)
        statements: list[str] = []
        event.listen(
            app.state.engine, "before_cursor_execute",
            lambda _c, _cur, stmt, *_a: statements.append(stmt),
        )  # fmt: skip
        asyncio.run(drive(app, args.answers, args.profile, args.sort, statements, args.save))


if __name__ == "__main__":
    main()
