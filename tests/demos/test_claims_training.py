"""Training-at-scale and PyTorch-internals demos: each claim needs its effect, so removing the
effect (BatchNorm in the batch, no checkpointing, no warm-up, smoothing off, ...) makes it fail.

Every demo's contract and every card's ``proves`` are checked in ``test_all_demos.py``.
"""

from __future__ import annotations

from tests.demos.helpers import passed, run_demo


def test_accumulation_equivalence_needs_per_sample_layers() -> None:
    # k = 1 is the large batch itself: BatchNorm no longer differs.
    assert not passed(run_demo("training_grad_accumulation", k=1), "batchnorm-breaks-equivalence")


def test_one_segment_checkpoint_saves_nothing() -> None:
    one = run_demo("training_checkpointing", segments=1)
    assert not passed(one, "checkpointing-cuts-peak-activation-memory")
    assert passed(one, "gradients-unchanged")


def test_sgd_has_no_adam_state() -> None:
    sgd = run_demo("training_memory_budget", optimizer="sgd")
    assert not passed(sgd, "adam-states-are-8-bytes-per-parameter")
    assert not passed(sgd, "mixed-precision-adam-is-16-bytes-per-parameter")
    assert sgd.metrics["optimizer_states_bytes"] == 0


def test_large_gradients_do_not_underflow_in_fp16() -> None:
    big = run_demo("training_mixed_precision", loss_weight=1e-2)
    assert not passed(big, "unscaled-fp16-gradients-underflow")
    assert passed(big, "loss-scaling-rescues-fp16-gradients")


def test_parameter_server_traffic_grows_with_workers() -> None:
    server = run_demo("systems_ring_allreduce", algorithm="parameter-server")
    assert passed(server, "allreduce-gives-the-sum")
    assert not passed(server, "ring-sends-2-n-minus-1-over-n")
    assert not passed(server, "per-worker-traffic-bounded")


def test_few_microbatches_leave_a_large_bubble() -> None:
    few = run_demo("systems_pipeline_bubble", stages=4, microbatches=3)
    assert passed(few, "bubble-matches-formula")
    assert not passed(few, "more-microbatches-shrink-bubble")


def test_equal_gradient_noise_makes_l2_and_adamw_agree() -> None:
    equal = run_demo("training_adamw_vs_l2", noise_ratio=1.0)
    assert not passed(equal, "l2-in-adam-spares-large-gradient-weights")
    assert passed(equal, "adamw-decays-uniformly")


def test_pre_ln_trains_without_warmup() -> None:
    assert not passed(run_demo("training_warmup", norm="pre"), "no-warmup-fails")


def test_no_smoothing_no_bound() -> None:
    hard = run_demo("training_label_smoothing", epsilon=0.0)
    assert not passed(hard, "smoothed-gap-converges-to-bound")


def test_constant_schedule_keeps_the_noise_floor() -> None:
    flat = run_demo("training_lr_schedules", floor_ratio=1.0)
    assert not passed(flat, "decay-lowers-final-loss")
    assert passed(flat, "cosine-formula-matches-pytorch")


def test_calibrated_model_has_nothing_to_fix() -> None:
    calibrated = run_demo("training_calibration", overconfidence=1.0)
    assert not passed(calibrated, "temperature-lowers-ece")
    assert passed(calibrated, "accuracy-unchanged")


def test_keeping_every_feature_removes_the_leak() -> None:
    everything = run_demo("training_data_leakage", selected=2000)
    assert not passed(everything, "leaky-pipeline-looks-predictive")


def test_balanced_classes_need_no_fix() -> None:
    balanced = run_demo("training_class_imbalance", positive_share=0.5)
    assert not passed(balanced, "plain-model-misses-minority")
    assert not passed(balanced, "constant-predictor-has-high-accuracy")


def test_large_batches_shrink_batchnorm_train_eval_gap() -> None:
    large = run_demo("training_group_norm", batch=64)
    assert not passed(large, "batchnorm-train-eval-gap")
    assert passed(large, "groupnorm-independent-of-batch")


def test_out_of_place_modification_keeps_backward_working() -> None:
    safe = run_demo("pytorch_autograd_internals", modification="out-of-place")
    assert not passed(safe, "inplace-on-saved-tensor-raises")


def test_no_dropout_makes_train_mode_deterministic() -> None:
    assert not passed(
        run_demo("pytorch_train_eval_mode", dropout=0.0), "no-grad-keeps-dropout-active"
    )


def test_cpu_runs_do_not_check_device_speed() -> None:
    """On CPU the speed claims report themselves as unchecked rather than pass on timings."""
    for name, claim_id in (
        ("systems_matmul_precision", "tensor-cores-speed-up-bf16"),
        ("systems_pinned_copy", "pinned-copy-faster"),
        ("systems_pinned_copy", "non-blocking-returns-early"),
    ):
        claim = run_demo(name).claim(claim_id)
        assert claim is not None and claim.values["checked"] is False, (name, claim_id)
