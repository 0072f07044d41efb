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


def test_temperature_one_is_not_greedy() -> None:
    assert passed(run_demo("llm_sampling"), "low-temperature-is-greedy")
    warm = run_demo("llm_sampling", temperature=1.0)
    assert not passed(warm, "low-temperature-is-greedy")
    assert warm.metrics["share_argmax"] < 0.7


def test_top_p_off_by_one_drops_below_p() -> None:
    assert passed(run_demo("llm_sampling"), "top-p-smallest-set")
    buggy = run_demo("llm_sampling", top_p_rule="exclusive")
    assert not passed(buggy, "top-p-smallest-set")
    assert buggy.metrics["top_p_mass"] < 0.9


def test_beam_of_width_one_is_greedy() -> None:
    assert passed(run_demo("llm_beam_search"), "beam-beats-greedy")
    greedy = run_demo("llm_beam_search", beam_width=1)
    assert not passed(greedy, "beam-beats-greedy")
    assert greedy.metrics["mean_logp_beam"] == greedy.metrics["mean_logp_greedy"]


def test_length_bias_needs_an_end_token() -> None:
    assert passed(run_demo("llm_beam_search"), "unnormalized-beam-prefers-short")
    assert not passed(run_demo("llm_beam_search", eos_prob=0.0), "unnormalized-beam-prefers-short")


def test_no_penalty_changes_nothing() -> None:
    assert passed(run_demo("llm_repetition"), "penalty-raises-diversity")
    off = run_demo("llm_repetition", penalty=1.0)
    assert passed(off, "greedy-loops")
    assert not passed(off, "penalty-raises-diversity")
    assert not passed(off, "penalty-costs-likelihood")


def test_a_large_init_starts_far_above_log_vocab() -> None:
    assert passed(run_demo("llm_perplexity"), "initial-loss-is-log-vocab")
    loud = run_demo("llm_perplexity", init_scale=3.0)
    assert not passed(loud, "initial-loss-is-log-vocab")
    assert loud.metrics["initial_loss"] > 3 * loud.metrics["log_vocab"]


def test_an_untrained_model_is_far_from_the_source() -> None:
    assert not passed(run_demo("llm_perplexity", steps=0), "training-approaches-source")


@pytest.mark.parametrize("rule", ["accept-all", "resample-from-target"])
def test_speculative_decoding_without_the_exact_rule_is_biased(rule: str) -> None:
    assert passed(run_demo("llm_speculative_decoding"), "output-matches-target")
    biased = run_demo("llm_speculative_decoding", rule=rule)
    assert not passed(biased, "output-matches-target")
    assert biased.metrics["total_variation"] > 5 * biased.metrics["sampling_noise"]


def test_even_a_random_draft_keeps_the_target_distribution() -> None:
    random_draft = run_demo("llm_speculative_decoding", draft_noise=1.0, draft_tokens=1)
    assert passed(random_draft, "output-matches-target")
    assert not passed(random_draft, "fewer-target-passes")


def test_without_outliers_quantization_has_nothing_to_fix() -> None:
    assert passed(run_demo("llm_quantization"), "weight-outliers-hurt-per-tensor")
    assert passed(run_demo("llm_quantization"), "activation-outliers-break-int8")
    clean = run_demo("llm_quantization", outlier_scale=1.0)
    assert not passed(clean, "weight-outliers-hurt-per-tensor")
    assert not passed(clean, "activation-outliers-break-int8")
    assert passed(clean, "int8-is-nearly-lossless")


def test_a_random_b_changes_the_model_before_training() -> None:
    assert passed(run_demo("llm_lora"), "zero-b-unchanged-at-start")
    random_b = run_demo("llm_lora", init_b="random")
    assert not passed(random_b, "zero-b-unchanged-at-start")
    assert random_b.metrics["start_output_change"] > 0.1


def test_a_rank_below_the_update_rank_cannot_fit_it() -> None:
    assert passed(run_demo("llm_lora"), "rank-r-fits-low-rank-update")
    assert not passed(run_demo("llm_lora", rank=1), "rank-r-fits-low-rank-update")


def test_moe_without_the_balancing_loss_stays_collapsed() -> None:
    assert passed(run_demo("llm_moe_routing"), "balancing-spreads-load")
    off = run_demo("llm_moe_routing", balance_coef=0.0)
    assert passed(off, "collapse-without-balancing")
    assert not passed(off, "balancing-spreads-load")
    assert not passed(off, "aux-loss-near-one-when-balanced")


def test_6nd_misses_attention_at_long_context() -> None:
    assert passed(run_demo("llm_scaling_laws"), "flops-match-6nd")
    long = run_demo("llm_scaling_laws", context_len=512)
    assert not passed(long, "flops-match-6nd")
    # The gap is attention's own matmuls, which 6ND leaves out.
    explained = long.metrics["six_n_d"] + long.metrics["attention_flops_estimate"]
    assert abs(long.metrics["measured_flops"] - explained) / explained < 0.01


def test_a_weak_kl_penalty_lets_the_policy_drift() -> None:
    assert passed(run_demo("llm_rlhf_kl"), "kl-keeps-policy-close")
    weak = run_demo("llm_rlhf_kl", beta=0.05)
    assert not passed(weak, "kl-keeps-policy-close")
    assert weak.metrics["kl"] > 3.0
    # The optimiser still reaches the closed form; it is the objective that changed.
    assert passed(weak, "policy-matches-closed-form")


def test_dpo_without_the_reference_model_misses_the_rlhf_optimum() -> None:
    assert passed(run_demo("llm_dpo"), "dpo-recovers-rlhf-optimum")
    dropped = run_demo("llm_dpo", reference="dropped")
    for claim_id in ("loss-starts-at-log2", "dpo-recovers-rlhf-optimum", "implicit-reward-matches"):
        assert not passed(dropped, claim_id), claim_id


def test_perplexity_runs_with_a_wild_initialisation() -> None:
    # exp of the untrained model's loss (hundreds of nats) once overflowed: OverflowError.
    wild = run_demo("llm_perplexity", init_scale=10.0)
    assert not passed(wild, "initial-loss-is-log-vocab")
    assert passed(wild, "ppl-is-exp-cross-entropy") and passed(wild, "uniform-ppl-is-vocab")
