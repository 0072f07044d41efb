"""Search latency over a synthetic deck, side by side: the ranked full-text index
(app/services/search.py) against the LIKE scan it replaced, on SQLite and PostgreSQL.

Imports N synthetic cards (bench/import_bench.py's tree, a Chinese translation for
every fifth card) and times two-word queries (English words and Chinese bigram words)
through ``search()``; the old query runs on the same database. Prints p50/p95 per
engine and query kind, and the mean CPU per query (this process and, on a local
PostgreSQL, its server backend: the figure that holds on a loaded machine), with the
load average (the machine is shared).

    .venv/bin/python bench/search_bench.py [--cards 10000] [--pg URL] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import import_bench  # noqa: E402
from sqlalchemy import and_, create_engine, func, or_, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app import migrate  # noqa: E402
from app.db import make_engine, session_scope  # noqa: E402
from app.models.card import Card, CardTranslation  # noqa: E402
from app.services.importer import import_tree  # noqa: E402
from app.services.search import search  # noqa: E402

QUERIES = {
    "two English words": ["gradient shrink", "sigmoid layer", "jacobian product", "card 42"],
    "two Chinese words": ["梯度 缩小", "雅可比 矩阵", "反向 传播", "合成 效应"],
}


def like_search(session: Session, query: str) -> list:
    """The query this index replaced: every term as a LIKE over title and text."""
    conditions = []
    for term in query.lower().split():
        pattern = f"%{term}%"
        conditions.append(
            or_(
                func.lower(CardTranslation.search_text).like(pattern),
                func.lower(CardTranslation.title).like(pattern),
            )
        )
    return list(
        session.execute(
            select(CardTranslation.card_id, Card.deck)
            .join(Card, Card.id == CardTranslation.card_id)  # type: ignore[arg-type]
            .where(and_(Card.status == "active", *conditions))  # type: ignore[arg-type]
            .limit(200)
        ).all()
    )


def backend_cpu(session: Session) -> Callable[[], float]:
    """CPU seconds so far of the session's PostgreSQL backend when the server runs on
    this machine (read from /proc: 10 ms ticks, fine for a mean over many queries), so
    the figure counts the server's work too; 0 for SQLite (in this process)."""
    if session.get_bind().dialect.name != "postgresql":
        return lambda: 0.0
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return lambda: 0.0
    tick = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

    return read


def timed(
    fn: Callable[[], object], runs: int, server_cpu: Callable[[], float]
) -> tuple[float, float, float]:
    """p50 and p95 wall seconds, and mean CPU seconds (this process + the server)."""
    times = []
    cpu = time.process_time() + server_cpu()
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    cpu = time.process_time() + server_cpu() - cpu
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], cpu / runs


def measure(url: str, content: Path, runs: int, label: str) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with session_scope(engine, write=True) as session:
            import_tree(session, content)
        for kind, queries in QUERIES.items():
            with Session(engine) as session:
                for q in queries:  # warm the caches once
                    search(session, q)
                    like_search(session, q)
                server = backend_cpu(session)
                new = [timed(lambda q=q: search(session, q), runs, server) for q in queries]
                old = [timed(lambda q=q: like_search(session, q), runs, server) for q in queries]
            p50_new = statistics.median(p for p, _, _ in new)
            p95_new = max(p for _, p, _ in new)
            cpu_new = statistics.mean(c for _, _, c in new)
            p50_old = statistics.median(p for p, _, _ in old)
            p95_old = max(p for _, p, _ in old)
            cpu_old = statistics.mean(c for _, _, c in old)
            print(
                f"  {label:10} {kind:18}  full-text p50 {p50_new * 1e3:6.2f} ms  "
                f"p95 {p95_new * 1e3:6.2f} ms  CPU {cpu_new * 1e3:6.2f} ms   | LIKE scan p50 "
                f"{p50_old * 1e3:7.2f} ms  p95 {p95_old * 1e3:7.2f} ms  CPU {cpu_old * 1e3:6.2f} ms"
            )
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--pg", help="a PostgreSQL server URL (a scratch database is made)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 300 cards (CI)")
    args = parser.parse_args()
    if args.quick:
        args.cards, args.runs = 300, 5
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {args.cards:,} cards")
    root = Path(tempfile.mkdtemp(prefix="backprop-search-"))
    try:
        content = import_bench.make_tree(root, args.cards)
        measure(f"sqlite:///{root / 'search.db'}", content, args.runs, "SQLite")
        if args.pg:
            name = f"backprop_bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
                measure(url, content, args.runs, "PostgreSQL")
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
