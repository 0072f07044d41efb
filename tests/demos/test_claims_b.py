"""Writer B's demos (optimization, generalization, evaluation): claims pass by default and fail
when the parameters remove the effect.

Every demo's contract and every card's ``proves`` are checked in ``test_all_demos.py``.
"""

from __future__ import annotations

from tests.demos.helpers import passed, run_demo


def test_gd_variants_minibatch_effects_vanish_at_full_batch() -> None:
    r = run_demo("gd_variants")
    assert passed(r, "minibatch-lower-loss-per-epoch")
    assert passed(r, "minibatch-noise-floor")
    full = run_demo("gd_variants", batch_size=512)
    assert not passed(full, "minibatch-lower-loss-per-epoch")
    assert not passed(full, "minibatch-noise-floor")
    clean = run_demo("gd_variants", noise=0.0)
    assert not passed(clean, "minibatch-noise-floor")


def test_gd_update_rule_diverges_past_the_stability_bound() -> None:
    r = run_demo("gd_update_rule")
    assert passed(r, "gradient-rule-converges")
    assert passed(r, "weight-rule-ignores-data")
    too_big = run_demo("gd_update_rule", lr=0.1, feature_scale=5.0)
    assert not passed(too_big, "gradient-rule-converges")
    assert too_big.metrics["lr_bound"] < 0.1


def test_momentum_needs_ill_conditioning_and_a_sane_beta() -> None:
    r = run_demo("momentum")
    assert passed(r, "momentum-fewer-steps")
    assert passed(r, "flat-direction-bottleneck")
    round_bowl = run_demo("momentum", kappa=1.0)
    assert not passed(round_bowl, "momentum-fewer-steps")
    assert not passed(round_bowl, "flat-direction-bottleneck")
    assert not passed(run_demo("momentum", momentum=0.0), "momentum-fewer-steps")


def test_rmsprop_claims_and_their_counter_settings() -> None:
    r = run_demo("rmsprop")
    for claim in (
        "rmsprop-balances-steps",
        "rmsprop-beats-sgd-badly-scaled",
        "rmsprop-early-steps-inflated",
    ):
        assert passed(r, claim)
    assert not passed(run_demo("rmsprop", scale_ratio=1.0), "rmsprop-beats-sgd-badly-scaled")
    assert not passed(run_demo("rmsprop", eps=1.0), "rmsprop-balances-steps")
    assert not passed(run_demo("rmsprop", alpha=0.5), "rmsprop-early-steps-inflated")


def test_adam_bias_correction_depends_on_betas_and_eps() -> None:
    r = run_demo("adam_bias_correction")
    for claim in (
        "corrected-first-step-is-lr",
        "uncorrected-first-step-off",
        "uncorrected-m-biased-to-zero",
    ):
        assert passed(r, claim)
    assert not passed(run_demo("adam_bias_correction", beta2=0.99), "uncorrected-first-step-off")
    assert not passed(
        run_demo("adam_bias_correction", eps=0.1, grad_scale=0.001), "corrected-first-step-is-lr"
    )
    assert not passed(run_demo("adam_bias_correction", beta1=0.5), "uncorrected-m-biased-to-zero")


def test_adam_vs_sgd_advantage_needs_bad_scaling() -> None:
    r = run_demo("adam_vs_sgd")
    assert passed(r, "adam-wins-badly-scaled")
    assert passed(r, "adam-loss-scale-invariant")
    assert not passed(run_demo("adam_vs_sgd", feature_scale=1.0), "adam-wins-badly-scaled")
    assert not passed(run_demo("adam_vs_sgd", loss_scale=1e-12), "adam-loss-scale-invariant")


def test_saddle_point_claims() -> None:
    r = run_demo("saddle_points")
    for claim in (
        "gd-stalls-at-saddle",
        "noise-escapes-faster",
        "random-critical-points-mostly-saddles",
    ):
        assert passed(r, claim)
    off = run_demo("saddle_points", init_offset=0.3, noise_std=0.0, dim=2)
    assert not passed(off, "gd-stalls-at-saddle")
    assert not passed(off, "noise-escapes-faster")
    assert not passed(off, "random-critical-points-mostly-saddles")


def test_overfitting_and_underfitting_claims() -> None:
    r = run_demo("overfitting")
    for claim in ("high-degree-overfits", "low-degree-underfits", "more-data-reduces-overfitting"):
        assert passed(r, claim)
    many = run_demo("overfitting", n_train=200)
    assert not passed(many, "high-degree-overfits")
    assert not passed(many, "more-data-reduces-overfitting")
    assert not passed(run_demo("overfitting", ridge=0.1), "high-degree-overfits")
    assert not passed(run_demo("overfitting", target="linear"), "low-degree-underfits")


def test_bias_variance_claims() -> None:
    r = run_demo("bias_variance")
    assert passed(r, "low-degree-bias-dominates")
    assert passed(r, "high-degree-variance-dominates")
    assert not passed(run_demo("bias_variance", target="linear"), "low-degree-bias-dominates")
    assert not passed(run_demo("bias_variance", ridge=30.0), "high-degree-variance-dominates")


def test_l1_vs_l2_claims() -> None:
    r = run_demo("l1_vs_l2")
    for claim in ("l1-exact-zeros", "l2-shrinks-without-zeros", "autograd-l1-not-sparse"):
        assert passed(r, claim)
    no_l1 = run_demo("l1_vs_l2", l1=0.0)
    assert not passed(no_l1, "l1-exact-zeros")
    assert not passed(no_l1, "autograd-l1-not-sparse")
    assert not passed(run_demo("l1_vs_l2", l2=0.0), "l2-shrinks-without-zeros")


def test_dropout_claims() -> None:
    r = run_demo("dropout")
    for claim in (
        "train-random-eval-deterministic",
        "expected-activation-preserved",
        "eval-is-not-mc-average",
    ):
        assert passed(r, claim)
    off = run_demo("dropout", p=0.0)
    assert not passed(off, "train-random-eval-deterministic")
    assert not passed(off, "eval-is-not-mc-average")
    assert not passed(run_demo("dropout", scaling="none"), "expected-activation-preserved")


def test_early_stopping_claims() -> None:
    r = run_demo("early_stopping")
    assert passed(r, "val-loss-turns-up")
    assert passed(r, "early-stopped-model-generalizes-better")
    big = run_demo("early_stopping", n_train=1000)
    assert not passed(big, "val-loss-turns-up")
    assert not passed(big, "early-stopped-model-generalizes-better")


def test_data_augmentation_claims() -> None:
    r = run_demo("data_augmentation")
    assert passed(r, "shift-augmentation-improves-test")
    assert passed(r, "label-breaking-augmentation-hurts")
    assert not passed(
        run_demo("data_augmentation", task="position"), "shift-augmentation-improves-test"
    )
    assert not passed(
        run_demo("data_augmentation", pattern="unrelated"), "label-breaking-augmentation-hurts"
    )


def test_metrics_claims_vanish_when_balanced() -> None:
    r = run_demo("metrics")
    assert passed(r, "accuracy-misleading-imbalanced")
    assert passed(r, "auc-ignores-prevalence-ap-does-not")
    balanced = run_demo("metrics", positive_rate=0.5)
    assert not passed(balanced, "accuracy-misleading-imbalanced")
    assert not passed(balanced, "auc-ignores-prevalence-ap-does-not")
