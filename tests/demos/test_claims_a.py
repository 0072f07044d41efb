"""Writer A's demos: card claims pass with the card's params, and fail once the effect is gone."""

from __future__ import annotations

import ast
import math
import time
from pathlib import Path

import pytest
import yaml

from app.demos.contract import DemoContext, DemoResult
from app.demos.registry import load_demo

CONTENT = Path(__file__).resolve().parents[2] / "content"
DEMOS = CONTENT / "demos"
NAMES = [
    "vanishing_gradients",
    "exploding_gradients",
    "gradient_clipping",
    "weight_init",
    "residual_connections",
    "batchnorm_train_eval",
    "batchnorm_training",
    "layernorm_vs_batchnorm",
    "rnn_gradients",
    "lstm_gates",
    "gru_vs_lstm",
]
CARDS = [
    "training/gradients/vanishing-gradients",
    "training/gradients/exploding-gradients",
    "training/gradients/preventing-unstable-gradients",
    "training/gradients/gradient-clipping",
    "training/gradients/detecting-exploding-gradients",
    "training/gradients/weight-initialization",
    "training/gradients/residual-connections",
    "training/normalization/batchnorm-computation",
    "training/normalization/why-batchnorm-works",
    "training/normalization/batchnorm-train-vs-eval",
    "training/normalization/layernorm-vs-batchnorm",
    "training/normalization/transformer-layernorm",
    "sequence/rnn/rnn-gradient-problems",
    "sequence/rnn/lstm-vs-rnn",
    "sequence/rnn/lstm-sigmoid-tanh",
    "sequence/rnn/gru-vs-lstm",
]


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Run as the demo workers do (app/workers: one torch thread); restore afterwards."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def run_demo(name: str, **params: object) -> DemoResult:
    spec = load_demo(DEMOS / f"{name}.py")
    return spec.run(spec.params_model(**params), DemoContext())


def passed(result: DemoResult, claim_id: str) -> bool:
    claim = result.claim(claim_id)
    assert claim is not None, f"claim {claim_id} not reported"
    return claim.passed


def literal_claims(name: str) -> dict[str, str]:
    tree = ast.parse((DEMOS / f"{name}.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "CLAIMS" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name}: no literal CLAIMS dict")


def front_matter(card: str) -> dict:
    text = (CONTENT / "cards" / f"{card}.md").read_text(encoding="utf-8")
    _, header, _ = text.split("---\n", 2)
    return yaml.safe_load(header)


def finite_values(result: DemoResult) -> bool:
    numbers = [v for v in result.metrics.values() if isinstance(v, float)]
    numbers += [v for c in result.claims for v in c.values.values() if isinstance(v, float)]
    numbers += [v for chart in result.charts for s in chart.series for v in s.x + s.y]
    return all(math.isfinite(v) for v in numbers)


@pytest.mark.parametrize("name", NAMES)
def test_default_run_reports_every_claim_once(name: str) -> None:
    start = time.perf_counter()
    result = run_demo(name)
    elapsed = time.perf_counter() - start
    ids = [c.id for c in result.claims]
    assert sorted(ids) == sorted(literal_claims(name))
    assert len(ids) == len(set(ids))
    assert result.charts and result.metrics
    assert finite_values(result)
    # Generous bound: the first run in a process pays torch's lazy imports; the machine is shared.
    assert elapsed < 15, f"{name} took {elapsed:.1f}s"


@pytest.mark.parametrize("card", CARDS)
def test_card_claims_pass_with_card_params(card: str) -> None:
    meta = front_matter(card)
    demo = meta["demo"]
    name = Path(demo["path"]).stem
    assert name in NAMES
    result = run_demo(name, **demo.get("params", {}))
    for claim_id in demo["proves"]:
        assert passed(result, claim_id), f"{card}: {claim_id} failed: {result.claim(claim_id)}"


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
