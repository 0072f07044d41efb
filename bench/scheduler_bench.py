"""How fast is the queue? next-card and grade+next on a real SQLite file.

Builds 1 learner with 10,000 cards and 1,000,000 review-log rows plus 100 learners x
1,000 cards, then prints p50/p95 of next-card and of grade+next beside the bare
fsrs Scheduler.review_card call, and how next-card time grows from 1,000 to
100,000 cards (aim: p95 under 5 ms at 10,000 cards, growing like a log: the queue
reads an index on (learner, state, due), it does not scan).

    .venv/bin/python bench/scheduler_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if "BACKPROP_BENCH_APP" not in os.environ:  # --against runs another revision's app/
    sys.path.insert(0, str(ROOT))

from fsrs import Card as FsrsCard  # noqa: E402
from fsrs import Rating, Scheduler  # noqa: E402
from sqlalchemy import create_engine, insert  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import migrate  # noqa: E402
from app.db import make_engine, session_scope  # noqa: E402
from app.models.card import Card  # noqa: E402
from app.models.review import LearnerSettings, ReviewLog, ReviewState  # noqa: E402
from app.models.user import User  # noqa: E402
from app.services.scheduling import service  # noqa: E402
from app.services.scheduling.clock import FixedClock  # noqa: E402

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BATCH = 20_000


def _batches(rows, table, conn):
    buf = []
    for row in rows:
        buf.append(row)
        if len(buf) >= BATCH:
            conn.execute(insert(table), buf)
            buf = []
    if buf:
        conn.execute(insert(table), buf)


class Databases:
    """Fresh databases for the bench: SQLite files in a folder, or, with a PostgreSQL
    server URL, scratch databases on it (dropped by ``close``)."""

    def __init__(self, folder: Path, pg: str | None) -> None:
        self.folder, self.pg, self.made = folder, pg, []

    def url(self, name: str) -> str:
        if not self.pg:
            return f"sqlite:///{self.folder / name}.db"
        database = f"backprop_bench_{name}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(self.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
        admin.dispose()
        self.made.append(database)
        return make_url(self.pg).set(database=database).render_as_string(hide_password=False)

    def close(self) -> None:
        if not self.made:
            return
        admin = create_engine(self.pg, isolation_level="AUTOCOMMIT")  # type: ignore[arg-type]
        with admin.connect() as conn:
            for database in self.made:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.dispose()


def build(url: str, learners: int, cards: int, logs_per_learner: int, seed: int = 1):
    """A migrated database with `cards` cards, each learner having seen all of them
    (about 3% due now) and `logs_per_learner` log rows each."""
    migrate.upgrade(url)
    engine = make_engine(url)
    rng = random.Random(seed)
    decks = [f"deck-{i}" for i in range(20)]
    with engine.begin() as conn:
        conn.execute(
            insert(User),
            [
                {
                    "username": f"learner{u}",
                    "password_hash": "x",
                    "role": "learner",
                    "locale": "en",
                    "created_at": NOW,
                }
                for u in range(learners)
            ],
        )
        _batches(
            (
                {
                    "id": f"card-{i:06d}",
                    "deck": decks[i % 20],
                    "title": f"card {i}",
                    "difficulty": "medium",
                    "status": "active",
                    "demo_params": {},
                    "demo_proves": [],
                    "sources": [],
                    "file_path": f"{i}.md",
                    "content_hash": "h",
                    "revision": 1,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(cards)
            ),
            Card,
            conn,
        )
        user_ids = list(range(1, learners + 1))
        conn.execute(
            insert(LearnerSettings),
            [
                {**LearnerSettings(user_id=u).model_dump(), "reviews_per_day": 99999}
                for u in user_ids
            ],
        )
        for uid in user_ids:

            def states(uid=uid):
                for i in range(cards):
                    s = rng.lognormvariate(2.5, 1.2)
                    interval = max(1, round(s * rng.uniform(0.8, 1.2)))
                    # Where each card is in its interval: ~3% are due (a day's work).
                    last = NOW - timedelta(days=interval * rng.uniform(0, 1.03))
                    due = (last + timedelta(days=interval)).replace(
                        hour=4, minute=0, second=0, microsecond=0
                    )
                    yield {
                        "user_id": uid,
                        "card_id": f"card-{i:06d}",
                        "fsrs_state": 2,
                        "step": None,
                        "stability": s,
                        "difficulty": rng.uniform(2, 9),
                        "due": due,
                        "last_review_at": last,
                        "reps": 5,
                        "lapses": 0,
                        "leech": False,
                        "suspended": False,
                        "buried_until": None,
                        "version": 1,
                        "introduced_at": last,
                    }

            _batches(states(), ReviewState, conn)

            def logs(uid=uid):
                start = NOW - timedelta(days=400)
                step = timedelta(days=400) / max(logs_per_learner, 1)
                for j in range(logs_per_learner):
                    yield {
                        "user_id": uid,
                        "card_id": f"card-{rng.randrange(cards):06d}",
                        "rating": rng.choice((1, 3, 3, 3, 4)),
                        "reviewed_at": start + step * j,
                        "duration_ms": 9000,
                        "kind": "review",
                        "idempotency_key": f"{uid}-{j}",
                        "was_new": False,
                        "due_after": None,
                        "interview_on": None,
                        "state_before": None,
                    }

            _batches(logs(), ReviewLog, conn)
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return engine


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def time_next(engine, user_id, clock, n):
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        with session_scope(engine) as s:
            card = service.next_card(s, user_id, clock=clock)
        out.append(time.perf_counter() - t0)
        assert card is not None
    return out


def time_grade_next(engine, user_id, clock, n):
    out = []
    with session_scope(engine) as s:
        card = service.next_card(s, user_id, clock=clock)
    for i in range(n):
        t0 = time.perf_counter()
        with session_scope(engine, write=True) as s:
            service.grade(
                s,
                user_id,
                card.card_id,
                3 if i % 5 else 1,
                idempotency_key=f"bench-{i}",
                expected_version=card.version,
                clock=clock,
            )
        with session_scope(engine) as s:
            card = service.next_card(s, user_id, clock=clock)
        out.append(time.perf_counter() - t0)
        clock.advance(seconds=8)
        if card is None:  # a small deck's day is done
            break
    return out


def ms(x):
    return f"{x * 1000:7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="smoke run (CI): 1,000 cards, 10,000 log rows"
    )
    parser.add_argument("--against", metavar="REV", help="first run the app/ of git revision REV")
    parser.add_argument("--pg", metavar="URL", help="on this PostgreSQL server instead of SQLite")
    args = parser.parse_args()
    if args.against:
        run_against(args.against, args.quick, args.pg)
        print("=== this tree")
    cards, n_logs, learners, grow = (
        (1_000, 10_000, 10, (1_000, 2_000))
        if args.quick
        else (10_000, 1_000_000, 100, (1_000, 10_000, 100_000))
    )

    sched = Scheduler(enable_fuzzing=False)
    card = FsrsCard(card_id=1)
    card, _ = sched.review_card(card, Rating.Good, NOW)
    card, _ = sched.review_card(card, Rating.Good, NOW + timedelta(minutes=10))
    later = NOW + timedelta(days=5)
    reps = 20_000
    bare = timeit.timeit(lambda: sched.review_card(card, Rating.Good, later), number=reps) / reps
    print(f"bare fsrs Scheduler.review_card: {bare * 1e6:.1f} us; load {os.getloadavg()[0]:.2f}")

    print(f"database: {'PostgreSQL' if args.pg else 'SQLite file'}")
    with tempfile.TemporaryDirectory() as tmp:
        databases = Databases(Path(tmp), args.pg)
        try:
            measure(databases, bare, cards, n_logs, learners, grow)
        finally:
            databases.close()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def measure(databases: Databases, bare: float, cards: int, n_logs: int, learners: int,
            grow: tuple[int, ...]) -> None:  # fmt: skip
    t0 = time.perf_counter()
    engine = build(databases.url("one"), 1, cards, n_logs)
    elapsed = time.perf_counter() - t0
    print(f"built 1 learner x {cards:,} cards, {n_logs:,} log rows in {elapsed:.0f} s")
    clock = FixedClock(NOW)
    time_next(engine, 1, clock, 20)  # warm up
    nxt = time_next(engine, 1, clock, 300)
    gn = time_grade_next(engine, 1, clock, 300)
    print(f"  next-card   p50 {ms(pct(nxt, 0.5))}  p95 {ms(pct(nxt, 0.95))}")
    print(
        f"  grade+next  p50 {ms(pct(gn, 0.5))}  p95 {ms(pct(gn, 0.95))}"
        f"  ({pct(gn, 0.5) / bare:.0f}x the bare review_card)"
    )
    engine.dispose()

    t0 = time.perf_counter()
    engine = build(databases.url("many"), learners, 1_000, 1_000)
    print(f"built {learners} learners x 1,000 cards in {time.perf_counter() - t0:.0f} s")
    clock = FixedClock(NOW)
    step = max(1, learners // 10)
    nxt = [t for u in range(1, learners + 1, step) for t in time_next(engine, u, clock, 30)]
    gn = [t for u in range(2, learners + 1, step) for t in time_grade_next(engine, u, clock, 30)]
    print(f"  next-card   p50 {ms(pct(nxt, 0.5))}  p95 {ms(pct(nxt, 0.95))}")
    print(f"  grade+next  p50 {ms(pct(gn, 0.5))}  p95 {ms(pct(gn, 0.95))}")
    engine.dispose()

    print("next-card as the deck grows (10 log rows per card, ~3% of cards due):")
    base = None
    for n in grow:
        engine = build(databases.url(f"grow{n}"), 1, n, 10 * n)
        clock = FixedClock(NOW)
        time_next(engine, 1, clock, 10)
        t = time_next(engine, 1, clock, 200)
        p50 = statistics.median(t)
        base = base or p50
        print(f"  {n:>7,} cards  p50 {ms(p50)}  p95 {ms(pct(t, 0.95))}  x{p50 / base:.2f}")
        engine.dispose()


def run_against(rev: str, quick: bool, pg: str | None) -> None:
    """This bench, run on the app/ and migrations/ of ``rev`` in a child process."""
    with tempfile.TemporaryDirectory(prefix="backprop-bench-old-") as old:
        archive = subprocess.run(
            ["git", "archive", rev, "app", "migrations"], cwd=ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", old], input=archive, check=True)
        print(f"=== revision {rev}", flush=True)
        env = {**os.environ, "PYTHONPATH": old, "BACKPROP_BENCH_APP": old}
        subprocess.run(
            [
                sys.executable,
                __file__,
                *(["--quick"] if quick else []),
                *(["--pg", pg] if pg else []),
            ],
            env=env,
            check=True,
        )


if __name__ == "__main__":
    main()
