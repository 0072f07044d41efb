"""Vision, generative and representation demos: their claims need their effect.

Every demo's contract and every card's ``proves`` are checked in ``test_all_demos.py``.
"""

from __future__ import annotations

from tests.demos.helpers import passed, run_demo


def test_receptive_field_growth_needs_strides_and_depth() -> None:
    assert passed(run_demo("vision_receptive_field"), "stride-multiplies-growth")
    assert not passed(run_demo("vision_receptive_field", stride=1), "stride-multiplies-growth")
    one_layer = run_demo("vision_receptive_field", layers=1, kernel=7)
    assert passed(one_layer, "rf-matches-formula")
    assert not passed(one_layer, "effective-rf-concentrated")


def test_separable_conv_saves_nothing_with_a_1x1_kernel() -> None:
    pointwise_only = run_demo("vision_depthwise_separable", kernel=1)
    assert passed(pointwise_only, "param-ratio-matches-formula")
    assert not passed(pointwise_only, "separable-much-cheaper")


def test_gap_head_saves_nothing_on_a_1x1_map() -> None:
    assert not passed(run_demo("vision_conv_cost", size=1), "gap-head-smaller")


def test_no_checkerboard_when_kernel_divides_by_stride() -> None:
    even = run_demo("vision_transposed_conv", kernel=4, stride=2)
    assert not passed(even, "checkerboard-when-uneven-overlap")
    assert passed(even, "output-size-formula")


def test_patch_tokens_are_equivariant_to_on_grid_shifts() -> None:
    on_grid = run_demo("vision_vit_patch", patch=8, shift=8)
    assert not passed(on_grid, "off-grid-shift-breaks-equivariance")


def test_nms_threshold_and_overlap_decide_what_survives() -> None:
    loose = run_demo("vision_iou_nms", iou_threshold=0.9)
    assert not passed(loose, "nms-one-per-object")
    apart = run_demo("vision_iou_nms", overlap=0.3)
    assert not passed(apart, "hard-nms-drops-occluded")
    assert passed(apart, "nms-one-per-object")


def test_perfect_boxes_score_the_same_at_every_iou_threshold() -> None:
    exact = run_demo("vision_detection_map", jitter=0.0)
    assert not passed(exact, "loose-boxes-lower-coco-ap")
    assert passed(exact, "ap-matches-hand-example")


def test_focal_loss_with_gamma_zero_is_cross_entropy() -> None:
    plain = run_demo("vision_focal_loss", gamma=0.0)
    assert passed(plain, "easy-examples-dominate-ce")
    assert not passed(plain, "focal-shifts-loss-to-hard")
    assert not passed(plain, "focal-shifts-gradient-to-hard")
    balanced = run_demo("vision_focal_loss", negatives_per_positive=10)
    assert not passed(balanced, "easy-examples-dominate-ce")


def test_large_foreground_removes_the_dice_advantage() -> None:
    large = run_demo("vision_dice_loss", radius=20)
    assert not passed(large, "accuracy-misleads-on-small-foreground")
    assert not passed(large, "dice-gradient-balanced")
    assert passed(large, "dice-equals-f1")


def test_reparameterisation_loses_to_score_function_on_a_fast_oscillating_f() -> None:
    wiggly = run_demo("generative_reparam", function="fast-sine")
    assert passed(wiggly, "both-unbiased")
    assert not passed(wiggly, "reparam-lower-variance")


def test_one_edge_per_code_leaves_nothing_to_blur() -> None:
    assert not passed(run_demo("generative_vae_kl", edge_positions=1), "l2-decoder-blurs")


def test_autoencoder_needs_training_and_a_narrow_bottleneck() -> None:
    untrained = run_demo("generative_autoencoder", steps=20)
    assert not passed(untrained, "linear-ae-matches-pca")
    assert not passed(untrained, "spans-pca-subspace")
    assert not passed(
        run_demo("generative_autoencoder", bottleneck=5), "narrow-bottleneck-loses-signal"
    )


def test_unconstrained_critic_does_not_estimate_w1() -> None:
    assert not passed(run_demo("generative_wgan", penalty=0.0), "gp-critic-estimates-w1")
    overlapping = run_demo("generative_wgan", theta=0.5)
    assert not passed(overlapping, "js-flat-when-disjoint")


def test_small_betas_leave_signal_at_the_end() -> None:
    gentle = run_demo("generative_diffusion_forward", beta_max=0.002)
    assert passed(gentle, "closed-form-matches-iteration")
    assert not passed(gentle, "terminal-close-to-standard-normal")


def test_too_few_ddim_steps_miss_the_data() -> None:
    assert not passed(
        run_demo("generative_diffusion_sampling", ddim_steps=5), "ddim-few-steps-recovers-data"
    )


def test_zero_guidance_changes_nothing() -> None:
    plain = run_demo("generative_cfg", guidance=0.0)
    assert not passed(plain, "guidance-raises-confidence")
    assert not passed(plain, "guidance-reduces-diversity")


def test_inception_score_cannot_count_overlapping_modes() -> None:
    assert not passed(run_demo("generative_fid_is", separation=1.0), "is-counts-modes")


def test_temperature_one_neither_sharpens_nor_focuses() -> None:
    warm = run_demo("representation_infonce", temperature=1.0)
    assert not passed(warm, "lower-temperature-sharpens")
    assert not passed(warm, "low-temperature-focuses-on-hard-negatives")
    assert not passed(run_demo("representation_infonce", noise=3.0), "mi-bound")


def test_distillation_at_temperature_one_loses_the_dark_knowledge() -> None:
    cold = run_demo("representation_distillation", temperature=1.0)
    assert not passed(cold, "high-temperature-transfers-dark-knowledge")
    # With an unconfident teacher even T = 1 carries the non-argmax probabilities.
    soft_teacher = run_demo("representation_distillation", teacher_scale=1.0)
    assert not passed(soft_teacher, "high-temperature-transfers-dark-knowledge")


def test_overlapping_classes_make_random_triplets_informative() -> None:
    overlapping = run_demo("representation_triplet", separation=1.0)
    assert not passed(overlapping, "random-triplets-mostly-easy")
    assert not passed(run_demo("representation_triplet", margin=0.0), "zero-loss-needs-margin")
