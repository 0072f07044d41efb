"""Import speed: synthetic trees of 1,000 and 10,000 cards (math, code, links, a demo,
a zh translation for every fifth card), each into a fresh migrated SQLite file.

Prints wall and CPU seconds (render workers included) for a full import and the time of
an unchanged re-import as a fraction of the full import, measured side by side, with the
load average (the machine is shared: CPU seconds are the figure that holds).

``--against REV`` runs the same trees through the ``app/`` of git revision REV too, in
alternating child processes, and prints new/old ratios from that one run.

    .venv/bin/python bench/import_bench.py [--sizes 1000 10000] [--against HEAD] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.progress import Progress

from app import migrate
from app.db import make_engine, session_scope
from app.services.importer import import_tree

# Follows the demo contract (app/demos/contract.py): cards set params, which ``check``
# validates against this Params model.
DEMO = '''"""Synthetic demo for the import benchmark."""
from pydantic import BaseModel, Field

from app.demos.contract import Claim, DemoContext, DemoResult

TITLE = "Synthetic demo"
DESCRIPTION = "Reports two claims, both passed."
CLAIMS = {"first-claim": "One sentence.", "second-claim": "Another sentence."}


class Params(BaseModel):
    depth: int = Field(10, ge=1, le=50, description="How deep")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    claims = [Claim(id=k, text=v, passed=True) for k, v in CLAIMS.items()]
    return DemoResult(summary="ok", claims=claims)
'''


def card_text(i: int, n: int) -> str:
    demo = (
        "demo:\n  path: demos/bench_demo.py\n  params: {depth: 20}\n  proves: [first-claim]\n"
        if i % 3 == 0
        else "demo: none\n"
    )
    return f"""---
id: card-{i:05d}
title: Why does synthetic effect number {i} happen?
deck: bench/deck-{i % 20:02d}
tags: [bench, group-{i % 7}]
difficulty: {("easy", "medium", "hard")[i % 3]}
{demo}answer_time_s: 90
source: [000_{i:016x}.txt]
---
## Question
Why does the gradient of layer $\\ell$ shrink by $\\sigma'(z) \\le 1/4$ in card {i}?

## Answer
Backpropagation multiplies one Jacobian per layer:

$$
\\frac{{\\partial L}}{{\\partial h_1}}
  = \\prod_{{\\ell=2}}^{{L}} W_\\ell^\\top \\operatorname{{diag}}(\\sigma'(z_\\ell))
$$

so with **sigmoid** each factor is at most $1/4$ and the product decays geometrically.

```python
import torch
x = torch.randn(64, 32, requires_grad=True)
for layer in range(20):
    x = torch.sigmoid(x @ torch.randn(32, 32) / 32 ** 0.5)
x.sum().backward()
```

| activation | max derivative |
|:-----------|---------------:|
| sigmoid    | 0.25           |
| tanh       | 1.0            |

## Key points
- Each layer contributes a factor $\\sigma'(z) W$.
- Sigmoid's derivative is at most $1/4$.
- ReLU with He initialisation keeps the scale.

## Pitfalls
Blaming the learning rate: it scales every layer alike.

## Follow-ups
- How does this relate to [[card-{(i + 1) % n:05d}]]?
- And to [[card-{(i + 7) % n:05d}]]?
"""


def zh_text(i: int) -> str:
    return f"""---
id: card-{i:05d}
lang: zh
title: 为什么会出现合成效应 {i}?
---
## Question
为什么第 $\\ell$ 层的梯度会缩小?

## Answer
反向传播每层乘以一个雅可比矩阵, sigmoid 的导数最多 $1/4$。

## Key points
- 每层贡献一个因子。

## Follow-ups
- 参见 [[card-{(i + 1) % max(i, 1):05d}]]
"""


def make_tree(root: Path, n: int) -> Path:
    content = root / "content"
    (content / "demos").mkdir(parents=True)
    (content / "demos" / "bench_demo.py").write_text(DEMO)
    for i in range(n):
        folder = content / "cards" / "bench" / f"deck-{i % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"card-{i:05d}.md").write_text(card_text(i, n), encoding="utf-8")
        if i % 5 == 0:
            (folder / f"card-{i:05d}.zh.md").write_text(zh_text(i), encoding="utf-8")
    # Files are edited a while before an import: a file written in the last two seconds
    # is never trusted by its stat alone (app/content/snapshot.py), so age them.
    past = time.time() - 60
    for path in content.rglob("*"):
        os.utime(path, (past, past))
    return content


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (render workers): a figure
    that holds on a shared machine, where wall time depends on the neighbours."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_import(url: str, content: Path, bar: Progress, label: str) -> tuple[float, float, str]:
    tasks: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        key = f"{label} {stage}"
        if key not in tasks:
            tasks[key] = bar.add_task(key, total=total)
        bar.update(tasks[key], completed=done, total=total, refresh=True)

    engine = make_engine(url)
    try:
        start = time.perf_counter()
        cpu = _cpu_seconds()
        with session_scope(engine, write=True) as session:
            report = import_tree(
                session, content, progress=progress, cache_path=content.parent / "parse-cache"
            )
        return time.perf_counter() - start, _cpu_seconds() - cpu, str(report)
    finally:
        engine.dispose()


def run_size(n: int) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix=f"backprop-bench-{n}-"))
    try:
        content = make_tree(root, n)
        url = f"sqlite:///{root / 'bench.db'}"
        warm_url = f"sqlite:///{root / 'warm.db'}"
        migrate.upgrade(url)
        migrate.upgrade(warm_url)
        with Progress(transient=True, auto_refresh=False) as bar:
            full, full_cpu, full_report = timed_import(url, content, bar, f"{n} full")
            again, again_cpu, again_report = timed_import(url, content, bar, f"{n} again")
            # A known tree into a fresh database (a new instance, a restored backup): the
            # parse and render caches that the first import left are warm.
            warm, warm_cpu, warm_report = timed_import(warm_url, content, bar, f"{n} warm")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert full_report.startswith(f"{n} added"), full_report
    assert warm_report.startswith(f"{n} added"), warm_report
    assert again_report.endswith(f"{n} unchanged"), again_report
    return {
        "full": full,
        "full_cpu": full_cpu,
        "again": again,
        "again_cpu": again_cpu,
        "warm": warm,
        "warm_cpu": warm_cpu,
    }


def print_size(label: str, n: int, r: dict[str, float]) -> None:
    print(
        f"{label:>5} {n:>6} cards  cold full import {r['full']:6.2f} s wall "
        f"({n / r['full']:5.0f} cards/s), {r['full_cpu']:6.2f} s CPU;  "
        f"fresh database, warm caches {r.get('warm', float('nan')):5.2f} s wall, "
        f"{r.get('warm_cpu', float('nan')):5.2f} s CPU;  unchanged re-import "
        f"{r['again']:5.2f} s wall ({r['again'] / r['full']:5.1%}), "
        f"{r['again_cpu']:5.2f} s CPU ({r['again_cpu'] / r['full_cpu']:5.1%} of full)"
    )


def in_child(app_root: Path | None, n: int) -> dict[str, float]:
    """One size in a fresh process, importing ``app`` from ``app_root`` (None: this tree)."""
    env = dict(os.environ)
    if app_root is not None:
        env["PYTHONPATH"] = str(app_root)
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(n)], env=env, check=True, capture_output=True
    ).stdout
    result: dict[str, float] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--against", metavar="REV", help="also run the app/ of this git revision")
    parser.add_argument("--repeat", type=int, default=1, help="rounds per size (with --against)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 cards (CI)")
    args = parser.parse_args()
    if args.quick:
        args.sizes = [200]
    if args.child:
        print(json.dumps(run_size(args.child)))
        return
    print(f"{os.cpu_count()} CPUs, {load()}")
    if not args.against:
        for n in args.sizes:
            print_size("", n, run_size(n))
        print(load())
        return
    old_root = Path(tempfile.mkdtemp(prefix="backprop-bench-old-"))
    try:
        archive = subprocess.run(
            ["git", "archive", args.against, "app", "migrations"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(old_root)], input=archive, check=True)
        for n in args.sizes:
            runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
            for _ in range(args.repeat):
                # Alternate, so both see the same neighbours on a shared machine.
                runs["old"].append(in_child(old_root, n))
                runs["new"].append(in_child(None, n))
            for label in ("old", "new"):
                for r in runs[label]:
                    print_size(label, n, r)
            best = {k: {m: min(r[m] for r in v) for m in v[0]} for k, v in runs.items()}
            new, old = best["new"], best["old"]
            print(
                f"  new/old {n:>6} cards  full wall {new['full'] / old['full']:.2f}, "
                f"full CPU {new['full_cpu'] / old['full_cpu']:.2f} (best of each)"
            )
            print(f"  {load()}")
    finally:
        shutil.rmtree(old_root, ignore_errors=True)


if __name__ == "__main__":
    main()
