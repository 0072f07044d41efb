"""Writer C's demos (fundamentals, CNNs, GANs): claims pass by default and fail without the
effect.

Every demo's contract and every card's ``proves`` are checked in ``test_all_demos.py``.
"""

from __future__ import annotations

import pytest

from tests.demos.helpers import passed, run_demo


def test_backprop_chain_rule_claims_and_their_failure_modes() -> None:
    ok = run_demo("backprop_chain_rule")
    for cid in (
        "manual-chain-rule-matches-autograd",
        "manual-chain-rule-matches-finite-differences",
        "gradient-step-lowers-loss",
        "gradient-descent-beats-weight-shrinking",
    ):
        assert passed(ok, cid), cid
    broken = run_demo(
        "backprop_chain_rule", chain="skip-activation-derivative", fd_eps=1.0, lr=50.0
    )
    assert not passed(broken, "manual-chain-rule-matches-autograd")
    assert not passed(broken, "manual-chain-rule-matches-finite-differences")
    assert not passed(broken, "gradient-step-lowers-loss")
    assert not passed(broken, "gradient-descent-beats-weight-shrinking")


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_linear_stack_collapses_only_without_activation(activation: str) -> None:
    ok = run_demo("linear_stack")
    assert passed(ok, "collapses-to-one-linear-map")
    assert passed(ok, "no-better-than-one-linear-layer")
    nonlinear = run_demo("linear_stack", activation=activation)
    assert not passed(nonlinear, "collapses-to-one-linear-map")
    assert not passed(nonlinear, "no-better-than-one-linear-layer")


def test_autograd_graph_claims_and_their_failure_modes() -> None:
    ok = run_demo("autograd_graph")
    claims = (
        "grad-accumulates-across-backward-calls",
        "no-grad-records-no-graph",
        "graph-depends-on-data",
    )
    for cid in claims:
        assert passed(ok, cid), cid
    broken = run_demo("autograd_graph", zero_grad_between=True, eval_mode="grad", input_b=0.3)
    for cid in claims:
        assert not passed(broken, cid), cid


def test_activation_derivatives_claims_and_their_failure_modes() -> None:
    ok = run_demo("activation_derivatives")
    claims = (
        "sigmoid-chain-shrinks",
        "tanh-chain-does-not-grow",
        "sigmoid-saturates",
        "tanh-zero-centered-sigmoid-not",
        "leaky-relu-keeps-negative-gradient",
    )
    for cid in claims:
        assert passed(ok, cid), cid
    broken = run_demo(
        "activation_derivatives",
        weight_scale=4.0,
        depth=3,
        x_range=3.0,
        input_mean=1.0,
        leaky_slope=0.0,
    )
    for cid in claims:
        assert not passed(broken, cid), cid


@pytest.mark.parametrize("params", [{"activation": "leaky_relu"}, {"inputs": "standardized"}])
def test_dying_relu_needs_relu_and_raw_inputs(params: dict[str, object]) -> None:
    ok = run_demo("dying_relu")
    assert passed(ok, "many-units-die")
    assert passed(ok, "dead-units-stay-dead")
    healthy = run_demo("dying_relu", **params)
    assert not passed(healthy, "many-units-die")
    assert not passed(healthy, "dead-units-stay-dead")


def test_softmax_claims_and_their_failure_modes() -> None:
    ok = run_demo("softmax")
    claims = (
        "softmax-shift-invariant",
        "temperature-sharpens",
        "ce-gradient-is-p-minus-y",
        "unscaled-attention-saturates",
    )
    for cid in claims:
        assert passed(ok, cid), cid
    broken = run_demo(
        "softmax", implementation="naive", temperature=2.0, label_smoothing=0.1, head_dim=4
    )
    for cid in claims:
        assert not passed(broken, cid), cid


def test_tensor_multiplication_claims_and_their_failure_modes() -> None:
    ok = run_demo("tensor_multiplication")
    claims = (
        "star-differs-from-matmul",
        "matmul-broadcasts-mm-does-not",
        "matmul-needs-matching-inner-dims",
    )
    for cid in claims:
        assert passed(ok, cid), cid
    broken = run_demo("tensor_multiplication", matrices="diagonal", batch=0, k=3)
    for cid in claims:
        assert not passed(broken, cid), cid


def test_convolution_is_cross_correlation_and_detects_edges() -> None:
    ok = run_demo("convolution")
    assert passed(ok, "no-kernel-flip")
    assert passed(ok, "kernel-detects-vertical-edge")
    blur = run_demo("convolution", kernel="blur")
    assert not passed(blur, "no-kernel-flip")
    assert not passed(blur, "kernel-detects-vertical-edge")
    assert ok.metrics["formula_matches"] is True


def test_pooling_claims_and_their_failure_modes() -> None:
    ok = run_demo("pooling")
    for cid in (
        "classic-example-gives-6-8-3-4",
        "gradient-goes-to-one-input-per-window",
        "pooling-halves-resolution",
    ):
        assert passed(ok, cid), cid
    avg = run_demo("pooling", mode="avg")
    assert not passed(avg, "classic-example-gives-6-8-3-4")
    assert not passed(avg, "gradient-goes-to-one-input-per-window")
    assert not passed(run_demo("pooling", kernel=3, stride=1), "pooling-halves-resolution")


def test_conv_shapes_claims_and_their_failure_modes() -> None:
    ok = run_demo("conv_shapes")
    claims = (
        "kernel-depth-equals-input-channels",
        "same-padding-keeps-size",
        "layout-is-channels-first",
    )
    for cid in claims:
        assert passed(ok, cid), cid
    broken = run_demo("conv_shapes", conv_type="depthwise", stride=2, layout="NHWC")
    for cid in claims:
        assert not passed(broken, cid), cid
    # Same sizes by coincidence (32 channels, width 32): runs, but reads the wrong axis as channels.
    assert not passed(
        run_demo("conv_shapes", in_channels=32, size=32, layout="NHWC"), "layout-is-channels-first"
    )


def test_cnn_weight_sharing_claims_and_their_failure_modes() -> None:
    ok = run_demo("cnn_weight_sharing")
    assert passed(ok, "conv-far-fewer-params-than-dense")
    assert passed(ok, "conv-translation-equivariant")
    assert ok.metrics["dense_equivariance_error"] > 1e-3
    broken = run_demo("cnn_weight_sharing", size=10, stride=2, shift=3)
    assert not passed(broken, "conv-far-fewer-params-than-dense")
    assert not passed(broken, "conv-translation-equivariant")


def test_gan_claims_and_their_failure_modes() -> None:
    ok = run_demo("gan_toy")
    assert passed(ok, "generator-matches-target-mean")
    assert passed(ok, "non-saturating-loss-keeps-gradient")
    broken = run_demo("gan_toy", steps=10, d_pretrain_steps=0)
    assert not passed(broken, "generator-matches-target-mean")
    assert not passed(broken, "non-saturating-loss-keeps-gradient")
