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


def test_without_masks_the_future_and_the_padding_leak() -> None:
    masked = run_demo("transformer_causal_mask")
    assert passed(masked, "future-tokens-do-not-leak")
    assert passed(masked, "padding-does-not-leak")
    unmasked = run_demo("transformer_causal_mask", mask="none")
    assert not passed(unmasked, "future-tokens-do-not-leak")
    assert not passed(unmasked, "masked-weights-exactly-zero")
    assert not passed(
        run_demo("transformer_causal_mask", padding_mask=False), "padding-does-not-leak"
    )
    # Right padding sits after every real token: the causal mask alone hides it.
    assert passed(
        run_demo("transformer_causal_mask", padding_mask=False, pad_side="right"),
        "padding-does-not-leak",
    )


def test_one_head_cannot_fetch_two_tokens() -> None:
    assert passed(run_demo("transformer_multihead"), "two-lookups-need-two-heads")
    single = run_demo("transformer_multihead", heads=1)
    assert not passed(single, "two-lookups-need-two-heads")
    assert passed(single, "param-count-independent-of-heads")


def test_online_softmax_without_rescaling_is_wrong() -> None:
    exact = run_demo("transformer_flash_attention")
    assert passed(exact, "online-softmax-equals-softmax")
    assert passed(exact, "tiled-attention-matches-full")
    stale = run_demo("transformer_flash_attention", rescale=False)
    assert not passed(stale, "online-softmax-equals-softmax")
    assert not passed(stale, "tiled-attention-matches-full")


def test_gqa_cache_saving_needs_fewer_kv_heads() -> None:
    assert passed(run_demo("transformer_gqa"), "kv-cache-shrinks-by-group-factor")
    mha = run_demo("transformer_gqa", n_kv_heads=8)
    assert not passed(mha, "kv-cache-shrinks-by-group-factor")
    assert passed(mha, "cached-decoding-matches-full")


def test_added_sinusoids_are_not_relative_but_rope_is() -> None:
    assert passed(run_demo("transformer_rope"), "scores-depend-only-on-offset")
    added = run_demo("transformer_rope", encoding="sinusoidal-added")
    assert not passed(added, "scores-depend-only-on-offset")
    assert not passed(added, "rotation-preserves-norm")
    # Without any position signal the score cannot change with the offset either.
    assert not passed(run_demo("transformer_rope", encoding="none"), "scores-depend-only-on-offset")


def test_no_position_signal_is_order_blind_and_learned_tables_end() -> None:
    assert passed(run_demo("transformer_positions"), "encoding-makes-order-visible")
    none = run_demo("transformer_positions", encoding="none")
    assert not passed(none, "encoding-makes-order-visible")
    learned = run_demo("transformer_positions", encoding="learned")
    assert passed(learned, "encoding-makes-order-visible")
    assert not passed(learned, "defined-beyond-training-length")
    assert passed(
        run_demo("transformer_positions", encoding="alibi"), "defined-beyond-training-length"
    )


def test_positions_runs_at_its_shortest_sequence() -> None:
    # The chart's PE(50).PE(50 + k) once read past the table for seq_len < 13.
    short = run_demo("transformer_positions", seq_len=4)
    assert passed(short, "sinusoidal-shift-is-linear")
    assert passed(short, "alibi-bias-linear-in-distance")


def test_bpe_without_enough_merges_falls_back_to_characters() -> None:
    learned = run_demo("transformer_bpe")
    assert passed(learned, "bpe-learns-expected-merges")
    assert passed(learned, "unseen-word-uses-subwords")
    few = run_demo("transformer_bpe", num_merges=4)
    assert passed(few, "bpe-learns-expected-merges") is False
    assert not passed(few, "unseen-word-uses-subwords")
    assert not passed(run_demo("transformer_bpe", num_merges=0), "unseen-word-uses-subwords")


def test_untied_embeddings_save_nothing_and_starve_absent_rows() -> None:
    tied = run_demo("transformer_weight_tying")
    assert passed(tied, "tying-saves-v-times-d")
    assert passed(tied, "absent-tokens-get-gradient")
    untied = run_demo("transformer_weight_tying", tie=False)
    assert not passed(untied, "tying-saves-v-times-d")
    assert not passed(untied, "absent-tokens-get-gradient")


def test_layernorm_placement_decides_stream_growth_and_top_gradients() -> None:
    pre = run_demo("transformer_pre_post_ln", norm="pre")
    post = run_demo("transformer_pre_post_ln", norm="post")
    assert passed(pre, "residual-stream-grows")
    assert not passed(post, "residual-stream-grows")
    assert passed(post, "block-outputs-normalized")
    assert not passed(pre, "block-outputs-normalized")
    assert passed(post, "post-ln-top-gradient-larger")
    assert not passed(run_demo("transformer_pre_post_ln", layers=2), "post-ln-top-gradient-larger")


def test_rmsnorm_is_not_shift_invariant_but_layernorm_is() -> None:
    rms = run_demo("transformer_rmsnorm", norm="rms")
    assert passed(rms, "scale-invariant")
    assert not passed(rms, "shift-invariant")
    assert passed(run_demo("transformer_rmsnorm", norm="layer"), "shift-invariant")


def test_ffn_share_needs_width_and_the_fit_needs_the_gate() -> None:
    default = run_demo("transformer_ffn_swiglu")
    assert passed(default, "ffn-holds-most-block-params")
    assert passed(default, "gate-fits-products")
    assert not passed(run_demo("transformer_ffn_swiglu", ffn_mult=1), "ffn-holds-most-block-params")
    assert not passed(run_demo("transformer_ffn_swiglu", ffn="swish-no-gate"), "gate-fits-products")


def test_unshifted_targets_are_visible_to_the_causal_model() -> None:
    shifted = run_demo("transformer_pretraining_objectives")
    assert passed(shifted, "causal-targets-not-visible")
    assert passed(shifted, "mlm-supervises-mask-rate")
    assert not passed(
        run_demo("transformer_pretraining_objectives", shift_targets=False),
        "causal-targets-not-visible",
    )
