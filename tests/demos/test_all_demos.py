"""Every demo in content/demos and every card that cites one: the contract, checked by running.

Named to sort first, so each demo's timed run below is its first run in the session; the
demo-specific tests (``test_claims_*.py``) then reuse the cached runs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.content.schema import DemoRef
from app.content.tree import load_deck
from tests.demos.helpers import (
    CONTENT,
    demo_names,
    fresh_run,
    literal_claims,
    non_finite_values,
    passed,
    run_demo,
)

DECK = load_deck(CONTENT)
CARD_DEMOS: dict[str, DemoRef] = {
    card_id: card.meta.demo for card_id, card in sorted(DECK.cards.items()) if card.meta.demo
}


def test_the_deck_loads_and_cites_demos() -> None:
    assert not DECK.problems, DECK.problems
    assert CARD_DEMOS


@pytest.mark.parametrize("name", demo_names())
def test_demo_runs_with_defaults_deterministically(name: str) -> None:
    start = time.perf_counter()
    result = fresh_run(name)
    elapsed = time.perf_counter() - start
    ids = [c.id for c in result.claims]
    assert sorted(ids) == sorted(literal_claims(name)), ids
    assert len(ids) == len(set(ids))
    assert result.charts and result.metrics
    assert not non_finite_values(result), non_finite_values(result)
    for chart in result.charts:
        if chart.log_y:
            assert all(v > 0 for s in chart.series for v in s.y), chart.id
    # Generous bound: the machine is shared (the conftest pays torch's lazy imports up front).
    assert elapsed < 10, f"{name} took {elapsed:.1f}s"
    # A second run (also the one the other tests reuse) gives the same result.
    assert_same(run_demo(name).model_dump(), result.model_dump())


def assert_same(first: object, second: object) -> None:
    """Equal, but for floats in their last bits: LAPACK (torch.linalg.lstsq) can round the
    first call in a process differently from later ones (seen: 1.7e-18 on a loss of 0.0047)."""
    one, two = dict(_leaves(first)), dict(_leaves(second))
    assert one.keys() == two.keys()
    for where, a in one.items():
        b = two[where]
        if isinstance(a, float) and isinstance(b, float):
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15), (where, a, b)
        else:
            assert a == b, (where, a, b)


def _leaves(value: object, where: str = "") -> Iterator[tuple[str, object]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{where}.{key}")
    elif isinstance(value, list):
        yield (f"{where}#len", len(value))
        for i, item in enumerate(value):
            yield from _leaves(item, f"{where}[{i}]")
    else:
        yield where, value


@pytest.mark.parametrize("card_id", CARD_DEMOS)
def test_every_claim_a_card_proves_passes_with_its_params(card_id: str) -> None:
    demo = CARD_DEMOS[card_id]
    name = Path(demo.path).stem
    assert name in demo_names(), f"{card_id}: no demo {demo.path}"
    assert demo.proves, card_id
    result = run_demo(name, **demo.params)
    for claim_id in demo.proves:
        assert passed(result, claim_id), f"{card_id}: {claim_id} failed: {result.claim(claim_id)}"


@pytest.mark.parametrize("name", demo_names())
def test_a_demo_gives_the_same_numbers_whatever_the_device(name: str) -> None:
    """Inputs are drawn on the CPU from the seed and then moved (issue 16): with the
    device's own random stream simulated, the result is identical."""
    import torch

    from app.demos.contract import DemoContext
    from tests.demos.device_rng import DEVICE, DeviceRngSimulation
    from tests.demos.helpers import spec

    demo = spec(name)
    plain = demo.run(demo.params_model(), DemoContext(device="cpu"))
    torch.manual_seed(0)
    with DeviceRngSimulation() as simulation:
        moved = demo.run(demo.params_model(), DemoContext(device=DEVICE))
    assert_same(moved.model_dump(), plain.model_dump())
    assert simulation.device_draws == 0, f"{name} drew random numbers on the device"
