"""The shipped exercises: each reference passes its own tests and each plausible wrong
solution fails one, judged in-process (fast); both languages present; linked cards."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.content.tree import load_deck
from app.exercises.format import load_exercises
from app.workers.judge import judge_in_process

CONTENT = Path(__file__).resolve().parents[2] / "content"
EXERCISES, PROBLEMS = load_exercises(CONTENT)


def test_the_catalog_loads_without_problems() -> None:
    assert PROBLEMS == []
    assert len(EXERCISES) >= 30


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_reference_passes_and_every_wrong_solution_fails(name: str) -> None:
    exercise = EXERCISES[name]
    verdict = judge_in_process(exercise, exercise.meta.REFERENCE)
    assert verdict.passed, verdict
    assert all(case.passed for case in verdict.cases)
    for wrong in exercise.meta.WRONG:
        failed = judge_in_process(exercise, wrong)
        assert not failed.passed
        assert failed.reason == "failed"
        assert any(not case.passed and case.message for case in failed.cases)


@pytest.mark.parametrize(
    ("name", "case", "needle"),
    [
        ("softmax", "large logits", "got nan"),
        ("attention", "causal mask", "values differ"),
        ("adam_step", "step 1", "values differ"),
        ("conv2d_unfold", "stride 2", "wrong shape: expected (1, 3, 3, 3)"),
        ("bpe_merge", "one frequent word", "expected 'a', got 'c'"),
    ],
)
def test_the_wrong_solution_fails_for_the_reason_the_issue_names(
    name: str, case: str, needle: str
) -> None:
    verdict = judge_in_process(EXERCISES[name], EXERCISES[name].meta.WRONG[0])
    by_name = {c.name: c for c in verdict.cases}
    assert not by_name[case].passed
    assert needle in by_name[case].message


def test_the_starter_code_runs_and_fails_cleanly() -> None:
    exercise = EXERCISES["softmax"]
    verdict = judge_in_process(exercise, exercise.meta.STARTER)
    assert not verdict.passed
    assert "expected a tensor, got NoneType" in verdict.cases[0].message


def test_linked_cards_point_at_existing_exercises() -> None:
    deck = load_deck(CONTENT)
    linked = {Path(c.meta.exercise.path).stem for c in deck.cards.values() if c.meta.exercise}
    assert [p for p in deck.problems if "exercise" in p.message] == []
    assert linked <= set(EXERCISES)
    assert linked == set(EXERCISES)  # every exercise is linked from its concept card
