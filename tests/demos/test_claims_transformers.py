"""The transformers deck's demos (attention, the block, positions, tokens): each claim needs its
effect, so removing the effect (small d_k, no mask, no rescaling, ...) makes it fail.

Every demo's contract and every card's ``proves`` are checked in ``test_all_demos.py``.
"""

from __future__ import annotations

from tests.demos.helpers import passed, run_demo


def test_small_heads_do_not_saturate_the_unscaled_softmax() -> None:
    assert passed(run_demo("transformer_attention_scaling"), "unscaled-softmax-saturates")
    small = run_demo("transformer_attention_scaling", d_k=16)
    assert not passed(small, "unscaled-softmax-saturates")
    assert passed(small, "scaled-logit-variance-one")
