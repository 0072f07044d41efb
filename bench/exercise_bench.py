"""The judge's cost: a reference submission judged in a fresh sandboxed process, next to
calling the same function in-process, and submissions per minute with the default workers.

    .venv/bin/python bench/exercise_bench.py [--quick] [--exercise softmax] [--runs 20]

Latency is measured from handing the code to ``Judge.judge`` to its verdict, with spares
warm (the process and torch import already done, as in steady state); "cold" is one run
without a spare. Throughput submits ``--burst`` submissions at once and counts every
process start, since each submission gets its own.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.exercises.format import load_exercises  # noqa: E402
from app.exercises.sandboxing import project_root  # noqa: E402
from app.workers.exercise_cases import prepare  # noqa: E402
from app.workers.judge import judge_in_process  # noqa: E402
from app.workers.judge_runner import Judge  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3 runs, burst 4")
    parser.add_argument("--exercise", default="softmax")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    runs, burst = (3, 4) if args.quick else (args.runs, args.burst)

    exercises, problems = load_exercises(project_root() / "content")
    if problems:
        sys.exit("\n".join(str(p) for p in problems))
    exercise = exercises[args.exercise]
    code = exercise.meta.REFERENCE
    prepare(exercise)  # the reference's own outputs, cached as on a running server

    in_process = []
    for _ in range(max(runs, 5)):
        started = time.perf_counter()
        assert judge_in_process(exercise, code).passed
        in_process.append(time.perf_counter() - started)

    judge = Judge(workers=args.workers, spares=args.workers)
    try:
        started = time.perf_counter()
        cold = Judge(workers=1, spares=0)
        assert cold.judge(exercise, code).passed
        cold_s = time.perf_counter() - started
        cold.close()

        judge.warm_up()
        sandboxed = []
        for _ in range(runs):
            _wait_for_spares(judge, args.workers)
            started = time.perf_counter()
            verdict = judge.judge(exercise, code)
            sandboxed.append(time.perf_counter() - started)
            assert verdict.passed, verdict

        _wait_for_spares(judge, args.workers)
        started = time.perf_counter()
        with ThreadPoolExecutor(burst) as pool:
            verdicts = list(pool.map(lambda _: judge.judge(exercise, code), range(burst)))
        burst_s = time.perf_counter() - started
        assert all(v.passed for v in verdicts)
    finally:
        judge.close()

    ms = 1000.0
    p50_in, p50_sb = statistics.median(in_process) * ms, statistics.median(sandboxed) * ms
    print(f"exercise {args.exercise}: {len(prepare(exercise).cases)} cases, runs {runs}")
    print(
        f"in-process         p50 {p50_in:8.1f} ms   p95 {percentile(in_process, 0.95) * ms:8.1f} ms"
    )
    print(
        f"judge (warm spare) p50 {p50_sb:8.1f} ms   p95 {percentile(sandboxed, 0.95) * ms:8.1f} ms"
    )
    print(f"judge overhead     p50 {p50_sb - p50_in:8.1f} ms   (aim: under 150 ms)")
    print(f"judge (cold, no spare): {cold_s * ms:.0f} ms")
    print(
        f"throughput: {burst} at once with {args.workers} workers in {burst_s:.1f} s = "
        f"{burst / burst_s * 60:.0f} submissions/min"
    )
    with open("/proc/loadavg") as file:
        print(f"load average: {file.read().strip()}")


def _wait_for_spares(judge: Judge, count: int, timeout_s: float = 120.0) -> None:
    """Until ``count`` spares have imported torch (so warm latency is measured)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if judge.ready_spares() >= count:
            return
        time.sleep(0.05)


if __name__ == "__main__":
    main()
