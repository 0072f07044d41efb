"""Writer A's demos (gradients, normalization, RNNs): their claims need their effect.

Every demo's contract and every card's ``proves`` are checked in ``test_all_demos.py``.
"""

from __future__ import annotations

from tests.demos.helpers import passed, run_demo


def test_vanishing_gradients_depends_on_activation_and_init() -> None:
    sigmoid = run_demo("vanishing_gradients", activation="sigmoid", init="pytorch-default")
    assert passed(sigmoid, "first-layer-gradient-vanishes")
    assert not passed(sigmoid, "gradient-scale-preserved")
    relu_he = run_demo("vanishing_gradients", activation="relu", init="he")
    assert not passed(relu_he, "first-layer-gradient-vanishes")
    assert passed(relu_he, "gradient-scale-preserved")
    shallow = run_demo("vanishing_gradients", depth=2)
    assert not passed(shallow, "first-layer-gradient-vanishes")


def test_exploding_gradients_disappear_at_critical_init() -> None:
    critical = run_demo("exploding_gradients", weight_gain=1.0)
    for claim_id in ("backward-signal-explodes", "grad-norm-spikes", "loss-diverges"):
        assert not passed(critical, claim_id), claim_id
    # Sigmoid damps even oversized weights: no explosion.
    assert not passed(
        run_demo("exploding_gradients", activation="sigmoid", weight_gain=4.0),
        "backward-signal-explodes",
    )


def test_gradient_clipping_effects_need_their_conditions() -> None:
    no_op = run_demo("gradient_clipping", max_norm=1e6)
    assert passed(no_op, "unclipped-diverges")
    assert not passed(no_op, "clipped-converges")
    assert not passed(run_demo("gradient_clipping", lr=0.001), "unclipped-diverges")
    assert not passed(
        run_demo("gradient_clipping", clip_value=100.0), "value-clipping-changes-direction"
    )
    assert not passed(run_demo("gradient_clipping", depth=2), "clipping-does-not-fix-vanishing")


def test_weight_init_bad_choices_fail() -> None:
    assert not passed(run_demo("weight_init", init="xavier"), "activation-scale-preserved")
    constant = run_demo("weight_init", init="constant")
    assert not passed(constant, "symmetry-broken")
    assert not passed(constant, "activation-scale-preserved")


def test_plain_network_loses_the_gradient() -> None:
    plain = run_demo("residual_connections", residual=False)
    assert not passed(plain, "early-block-gradient-survives")
    assert not passed(plain, "loss-halves")


def test_batchnorm_train_mode_and_wrong_estimators_fail() -> None:
    assert not passed(run_demo("batchnorm_train_eval", mode="train"), "output-independent-of-batch")
    assert not passed(
        run_demo("batchnorm_train_eval", variance="unbiased"), "manual-matches-pytorch"
    )
    assert not passed(run_demo("batchnorm_train_eval", momentum=0.001), "running-stats-converge")


def test_without_batchnorm_training_and_invariance_fail() -> None:
    plain = run_demo("batchnorm_training", batchnorm=False)
    assert not passed(plain, "trains-at-this-lr")
    assert not passed(plain, "output-invariant-to-weight-scale")


def test_batchnorm_on_sequences_fails_layernorm_claims() -> None:
    bn = run_demo("layernorm_vs_batchnorm", norm="batch")
    for claim_id in (
        "output-independent-of-batch",
        "real-tokens-unaffected-by-padding",
        "per-token-normalized",
    ):
        assert not passed(bn, claim_id), claim_id


def test_rnn_gradient_regimes() -> None:
    assert not passed(
        run_demo("rnn_gradients", cell="lstm", forget_bias=3.0), "long-range-gradient-vanishes"
    )
    exploding = run_demo("rnn_gradients", cell="rnn", recurrent_gain=4.0)
    assert passed(exploding, "long-range-gradient-explodes")
    assert not passed(exploding, "long-range-gradient-vanishes")
    # An LSTM does not prevent explosion when its recurrent weights are large.
    assert passed(
        run_demo("rnn_gradients", cell="lstm", recurrent_gain=8.0), "long-range-gradient-explodes"
    )
    # With forget gates near 0.5 an LSTM's gradient vanishes too.
    assert not passed(
        run_demo("rnn_gradients", cell="lstm", forget_bias=0.0), "long-range-gradient-survives"
    )


def test_lstm_activation_swaps_break_claims() -> None:
    tanh_gates = run_demo("lstm_gates", gate_activation="tanh")
    assert not passed(tanh_gates, "gates-in-unit-interval")
    assert not passed(tanh_gates, "matches-torch-lstm")
    relu_values = run_demo("lstm_gates", value_activation="relu")
    assert not passed(relu_values, "hidden-state-bounded")
    assert not passed(relu_values, "matches-torch-lstm")


def test_gru_lstm_claims_need_equal_sizes_and_short_memory() -> None:
    assert not passed(run_demo("gru_vs_lstm", gru_hidden=48), "gru-three-quarters-params")
    assert not passed(run_demo("gru_vs_lstm", seq_len=30), "both-gated-cells-remember")
