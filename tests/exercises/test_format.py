"""The exercise format and its checks: every mistake is named with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.content.tree import load_deck
from app.exercises.format import ExerciseFormatError, load_exercise
from app.workers.exercise_check import check_exercise

VALID = '''
FUNCTION = "double"
TITLE = {"en": "Double", "zh": "加倍"}
TASK = {"en": "Return 2 * x.", "zh": "返回 2 * x。"}
STARTER = """def double(x):
    ...
"""
REFERENCE = """def double(x):
    return x * 2
"""
WRONG = ["""def double(x):
    return x + 2
"""]
HINTS = {"en": ["Multiply."], "zh": ["乘法。"]}
EXPLANATION = {"en": "x * 2.", "zh": "x * 2。"}
FORBIDDEN = ["torch.mul"]
GRAD_ARGS = [0]


def cases():
    import torch

    return [("one", (torch.arange(4.0),)), ("batch of one", (torch.ones(1),))]
'''


def write(tmp_path: Path, text: str, name: str = "double") -> Path:
    directory = tmp_path / "content" / "exercises"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    path.write_text(text)
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ExerciseFormatError) as caught:
        load_exercise(path)
    return [f"{p.line}: {p.message}" for p in caught.value.problems]


def test_a_valid_exercise_loads_and_checks(tmp_path: Path) -> None:
    exercise = load_exercise(write(tmp_path, VALID))
    assert exercise.meta.FUNCTION == "double"
    assert exercise.title("zh") == "加倍"
    assert check_exercise(exercise) == []


def test_an_unknown_name_is_an_error_on_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "\nHINT = {}\n")
    assert any("HINT: Extra inputs are not permitted" in p for p in problems_of(path))


def test_a_missing_language_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace(', "zh": "返回 2 * x。"', ""))
    assert problems_of(path) == ["4: TASK.zh: Field required"]


def test_missing_cases_and_a_reference_without_the_function(tmp_path: Path) -> None:
    text = VALID.replace("def cases():", "def inputs():").replace(
        'REFERENCE = """def double(x):', 'REFERENCE = """def twice(x):'
    )
    found = problems_of(write(tmp_path, text))
    assert "1: missing `def cases():` returning the test inputs" in found
    assert any("REFERENCE must define `def double(`" in p for p in found)


def test_a_computed_value_is_refused(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path, VALID + "\nATOL = 1e-5 * 2 if True else 0\n"))
    assert any("ATOL must be a literal" in p for p in found)


def test_check_reports_a_wrong_solution_that_passes_and_an_unknown_forbidden_name(
    tmp_path: Path,
) -> None:
    text = VALID.replace("return x + 2", "return x + x").replace("torch.mul", "torch.mulx")
    problems = [p.message for p in check_exercise(load_exercise(write(tmp_path, text)))]
    assert "FORBIDDEN: torch.mulx does not exist" in problems
    assert "WRONG[0] passes every test: add a case" in problems


def test_check_reports_a_failing_reference(tmp_path: Path) -> None:
    text = VALID.replace("return x * 2\n", "return x * 3\n", 1)
    text = text.replace("return x + 2", "return x + 1")
    exercise = load_exercise(write(tmp_path, text, "triple_bug"))
    # the reference is what defines the expected output: a reference that raises is broken
    broken = load_exercise(write(tmp_path, VALID.replace("return x * 2", "return x.nope()")))
    assert check_exercise(exercise) == []
    [problem] = check_exercise(broken)
    assert "the reference fails on case 'one'" in problem.message
    assert "AttributeError" in problem.message


def test_a_card_pointing_at_a_missing_exercise(content_dir: Path) -> None:
    card = content_dir / "cards" / "a.md"
    card.write_text(
        "---\nid: a\ntitle: A\ndeck: d\ndifficulty: easy\ndemo: none\n"
        "exercise: {path: exercises/nope.py}\n---\n## Question\nQ?\n\n## Answer\nA.\n"
    )
    problems = [str(p) for p in load_deck(content_dir).problems]
    assert any(p.endswith(':7: exercise "exercises/nope.py" not found') for p in problems)


def test_a_card_exercise_path_outside_exercises_is_refused(content_dir: Path) -> None:
    card = content_dir / "cards" / "a.md"
    card.write_text(
        "---\nid: a\ntitle: A\ndeck: d\ndifficulty: easy\ndemo: none\n"
        "exercise: {path: ../data/secret_key}\n---\n## Question\nQ?\n\n## Answer\nA.\n"
    )
    problems = [str(p) for p in load_deck(content_dir).problems]
    assert any("exercise.path" in p and "should match pattern" in p for p in problems)
