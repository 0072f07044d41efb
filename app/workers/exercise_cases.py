"""The trusted side of an exercise: its test inputs and the reference's outputs.

Exercise modules are reviewed content, executed here (a worker, never the web process)
to build the inputs; results are cached by the file's hash.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from typing import Any

from app.exercises.format import Exercise
from app.workers.judge_harness import Case, Tolerance, run_submission


class ExerciseSetupError(RuntimeError):
    """The exercise itself is broken (its cases or its reference); names the file."""


@dataclass(frozen=True)
class Prepared:
    exercise: Exercise
    cases: list[Case]
    expected: list[dict[str, Any]]
    tolerance: Tolerance


_PREPARED: dict[str, Prepared] = {}
_PREPARING = threading.Lock()


def load_cases(exercise: Exercise) -> list[Case]:
    spec = importlib.util.spec_from_file_location(f"exercise_{exercise.name}", exercise.path)
    if spec is None or spec.loader is None:
        raise ExerciseSetupError(f"{exercise.path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    raw = module.cases()
    cases: list[Case] = []
    for index, item in enumerate(raw):
        if not (isinstance(item, tuple) and len(item) in (2, 3) and isinstance(item[0], str)):
            raise ExerciseSetupError(
                f"{exercise.path}: cases()[{index}] must be (name, args) or (name, args, kwargs)"
            )
        kwargs = item[2] if len(item) == 3 else {}
        cases.append(Case(item[0], tuple(item[1]), dict(kwargs)))
    if not cases:
        raise ExerciseSetupError(f"{exercise.path}: cases() returned no case")
    return cases


def prepare(exercise: Exercise) -> Prepared:
    """Inputs and reference outputs, computed once per file version. Raises
    ExerciseSetupError when the reference fails on its own inputs."""
    # One at a time: the reference runs in this process, where the harness swaps
    # process-wide things (forbidden callables, sys.stdout) while it runs.
    with _PREPARING:
        cached = _PREPARED.get(exercise.sha256)
        if cached is not None:
            return cached
        return _prepare(exercise)


def _prepare(exercise: Exercise) -> Prepared:
    meta = exercise.meta
    cases = load_cases(exercise)
    result = run_submission(
        meta.REFERENCE, meta.FUNCTION, cases, forbidden=meta.FORBIDDEN, grad_args=meta.GRAD_ARGS
    )
    if "error" in result:
        raise ExerciseSetupError(f"{exercise.path}: the reference fails: {result['error']}")
    for case, output in zip(cases, result["outputs"], strict=True):
        if "error" in output:
            raise ExerciseSetupError(
                f"{exercise.path}: the reference fails on case {case.name!r}: {output['error']}"
            )
    prepared = Prepared(exercise, cases, result["outputs"], Tolerance(meta.ATOL, meta.RTOL))
    _PREPARED[exercise.sha256] = prepared
    return prepared
