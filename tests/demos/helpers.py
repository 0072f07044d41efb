"""Running demos in tests: one place for what every demo test needs.

``run_demo`` caches by (demo, validated params): a demo is a pure function of its params and
seed (``test_demos.py`` checks that by running each default twice), so a test asking for a run
another test already made gets a copy of that result instead of paying for it again.
"""

from __future__ import annotations

import ast
import functools
import math
from pathlib import Path

from app.demos.contract import DemoContext, DemoResult
from app.demos.registry import DemoSpec, load_demo

CONTENT = Path(__file__).resolve().parents[2] / "content"
DEMOS = CONTENT / "demos"


def demo_names() -> list[str]:
    return sorted(p.stem for p in DEMOS.glob("*.py") if not p.name.startswith("_"))


@functools.cache
def spec(name: str) -> DemoSpec:
    return load_demo(DEMOS / f"{name}.py")


def fresh_run(name: str, **params: object) -> DemoResult:
    """Runs the demo now, in this process, as a worker would (the caller pins threads)."""
    demo = spec(name)
    return demo.run(demo.params_model(**params), DemoContext())


@functools.cache
def _cached_run(name: str, canonical: str) -> DemoResult:
    demo = spec(name)
    return demo.run(demo.params_model.model_validate_json(canonical), DemoContext())


def run_demo(name: str, **params: object) -> DemoResult:
    """The demo's result for these params; identical runs are made once per test session."""
    canonical = spec(name).params_model(**params).model_dump_json()
    return _cached_run(name, canonical).model_copy(deep=True)


def passed(result: DemoResult, claim_id: str) -> bool:
    claim = result.claim(claim_id)
    assert claim is not None, f"claim {claim_id} not reported"
    return claim.passed


def literal_claims(name: str) -> dict[str, str]:
    """The demo's CLAIMS, read statically (as the card loader reads them)."""
    tree = ast.parse((DEMOS / f"{name}.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "CLAIMS" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name}: no literal CLAIMS dict")


def non_finite_values(result: DemoResult) -> list[str]:
    """Where the result holds a NaN or an infinity (metrics, claim values, chart points)."""
    found = [f"metric {k}" for k, v in result.metrics.items() if _bad(v)]
    found += [f"claim {c.id}: {k}" for c in result.claims for k, v in c.values.items() if _bad(v)]
    found += [
        f"chart {chart.id}: {s.name}"
        for chart in result.charts
        for s in chart.series
        if any(_bad(v) for v in s.x + s.y)
    ]
    return found


def _bad(value: object) -> bool:
    return isinstance(value, float) and not math.isfinite(value)
