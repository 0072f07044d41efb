"""The judge: runs a learner's submission and says which tests pass.

``judge_in_process`` runs the code in this process (tests of the exercises themselves,
and the development override); ``judge_sandboxed`` (in ``judge_runner``) is the path
for learners' code.
"""

from __future__ import annotations

import time

from app.exercises.format import Exercise
from app.workers.exercise_cases import prepare
from app.workers.judge_harness import run_submission
from app.workers.judge_verdict import Verdict, verdict_from_result


def judge_in_process(exercise: Exercise, code: str) -> Verdict:
    """Only for reviewed code (references, wrong solutions in tests): no isolation."""
    prepared = prepare(exercise)
    started = time.perf_counter()
    meta = exercise.meta
    result = run_submission(
        code, meta.FUNCTION, prepared.cases, forbidden=meta.FORBIDDEN, grad_args=meta.GRAD_ARGS
    )
    verdict = verdict_from_result(prepared, result)
    return Verdict(
        verdict.passed,
        verdict.reason,
        verdict.message,
        verdict.cases,
        verdict.stdout,
        time.perf_counter() - started,
    )
