"""``backprop check`` for exercises: the reference passes its own tests, every wrong
solution fails at least one, and every forbidden name exists. Runs reviewed content
in-process (the CLI, never the web process)."""

from __future__ import annotations

from pathlib import Path

from app.content.problems import Problem
from app.exercises.format import Exercise, load_exercises
from app.workers.exercise_cases import ExerciseSetupError, prepare
from app.workers.judge import judge_in_process
from app.workers.judge_harness import resolve


def check_exercise(exercise: Exercise) -> list[Problem]:
    problems: list[Problem] = []
    path = exercise.path
    for name in exercise.meta.FORBIDDEN:
        try:
            resolve(name)
        except LookupError:
            problems.append(Problem(path, 1, f"FORBIDDEN: {name} does not exist"))
    try:
        prepare(exercise)
    except ExerciseSetupError as exc:
        return [*problems, Problem(path, 1, str(exc).removeprefix(f"{path}: "))]
    except Exception as exc:  # cases() itself is broken
        return [*problems, Problem(path, 1, f"cases() failed: {type(exc).__name__}: {exc}")]
    for index, wrong in enumerate(exercise.meta.WRONG):
        if judge_in_process(exercise, wrong).passed:
            problems.append(Problem(path, 1, f"WRONG[{index}] passes every test: add a case"))
    return problems


def check_exercises(content_dir: Path) -> tuple[int, list[Problem]]:
    """(number of exercises, every problem)."""
    exercises, problems = load_exercises(content_dir)
    for exercise in exercises.values():
        problems.extend(check_exercise(exercise))
    return len(exercises), sorted(problems)
