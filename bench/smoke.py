"""Run every benchmark in bench/ with --quick, one after another, so none can silently
stop running (CI calls this). It checks that each runs to the end, not its figures.

    .venv/bin/python bench/smoke.py [NAME ...]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIMEOUT_S = 600


def benches(names: list[str]) -> list[Path]:
    found = sorted(p for p in HERE.glob("*.py") if p.name not in {"smoke.py", "__init__.py"})
    return [p for p in found if not names or p.stem in names]


def main() -> int:
    failed = []
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for path in benches(sys.argv[1:]):
        print(f"=== {path.name} --quick", flush=True)
        start = time.perf_counter()
        try:
            done = subprocess.run(
                [sys.executable, str(path), "--quick"], env=env, timeout=TIMEOUT_S, check=False
            )
            ok = done.returncode == 0
        except subprocess.TimeoutExpired:
            ok = False
        elapsed = time.perf_counter() - start
        print(f"=== {path.name}: {'ran' if ok else 'FAILED'} in {elapsed:.0f} s", flush=True)
        if not ok:
            failed.append(path.name)
    if failed:
        print(f"benchmarks that did not run: {', '.join(failed)}")
        return 1
    print("every benchmark ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
