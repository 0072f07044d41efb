"""Writer D's demos (loss choice, tuning practice): claims pass by default and fail with the
parameters that remove the effect.

Every demo's contract and every card's ``proves`` are checked in ``test_all_demos.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.demos.helpers import passed, run_demo

MSE_VS_CE = (
    "mse-gradient-vanishes-when-wrong",
    "ce-fixes-wrong-prediction-faster",
    "mse-sigmoid-non-convex",
)
LR_SWEEP = ("best-lr-is-interior", "too-large-lr-diverges", "too-small-lr-barely-moves")


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """Pinned here too, so this file gives the same numbers when run on its own."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_mse_vs_cross_entropy_claims_pass_by_default() -> None:
    ok = run_demo("mse_vs_cross_entropy")
    for cid in MSE_VS_CE:
        assert passed(ok, cid), cid
    assert ok.metrics["steps_to_correct_ce"] < ok.metrics["steps_to_correct_mse"]


def test_mse_vs_cross_entropy_gap_disappears_near_the_boundary() -> None:
    # A small wrong-side logit: p(1 - p) is not saturated, MSE is only ~2.5x slower.
    small = run_demo("mse_vs_cross_entropy", initial_logit=-1.0)
    assert not passed(small, "mse-gradient-vanishes-when-wrong")
    assert not passed(small, "ce-fixes-wrong-prediction-faster")
    assert passed(small, "mse-sigmoid-non-convex")  # the path still crosses p < 1/3
    # Already on the correct side: nothing to fix, and the path never reaches p < 1/3.
    right = run_demo("mse_vs_cross_entropy", initial_logit=0.5)
    for cid in MSE_VS_CE:
        assert not passed(right, cid), cid


def test_mse_vs_cross_entropy_budget_too_small_to_compare() -> None:
    starved = run_demo("mse_vs_cross_entropy", lr=0.01, max_steps=10)
    assert passed(starved, "mse-gradient-vanishes-when-wrong")
    assert not passed(starved, "ce-fixes-wrong-prediction-faster")


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_lr_range_test_claims_pass_by_default(optimizer: str) -> None:
    ok = run_demo("lr_range_test", optimizer=optimizer)
    for cid in (*LR_SWEEP, "overfits-tiny-batch"):
        assert passed(ok, cid), cid


def test_lr_range_test_sweep_that_does_not_bracket_the_optimum() -> None:
    too_low = run_demo("lr_range_test", log10_lr_max=-2.0)
    assert not passed(too_low, "best-lr-is-interior")
    assert not passed(too_low, "too-large-lr-diverges")
    assert passed(too_low, "too-small-lr-barely-moves")
    too_high = run_demo("lr_range_test", log10_lr_min=0.0)
    assert not passed(too_high, "best-lr-is-interior")
    assert not passed(too_high, "too-small-lr-barely-moves")
    assert passed(too_high, "too-large-lr-diverges")


@pytest.mark.parametrize(
    "params", [{"hidden": 1}, {"pipeline": "shuffled-targets"}], ids=["width-1", "shuffled"]
)
def test_lr_range_test_tiny_batch_check_catches_bugs_and_capacity(params: dict) -> None:
    broken = run_demo("lr_range_test", **params)
    assert not passed(broken, "overfits-tiny-batch")
