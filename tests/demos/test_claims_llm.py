"""The llm/ deck's demos (inference, training, adaptation): their claims need their effect.

Every demo's contract and every card's ``proves`` are checked in ``test_all_demos.py``.
"""

from __future__ import annotations

import pytest

from tests.demos.helpers import passed, run_demo


@pytest.mark.parametrize("mode", ["stale", "reset-position"])
def test_a_broken_kv_cache_changes_the_logits(mode: str) -> None:
    assert passed(run_demo("llm_kv_cache"), "cached-matches-full")
    broken = run_demo("llm_kv_cache", cache=mode)
    assert not passed(broken, "cached-matches-full")
    assert broken.metrics["max_abs_logit_diff"] > 1e-3


def test_kv_cache_work_gap_needs_a_long_enough_sequence() -> None:
    assert passed(run_demo("llm_kv_cache"), "cached-work-linear")
    assert not passed(run_demo("llm_kv_cache", prompt_len=1, new_tokens=4), "cached-work-linear")
