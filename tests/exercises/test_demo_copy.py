"""A learner's edited copy of a demo runs like a submission: in a fresh sandboxed
process with the judge's limits, its result validated by the trusted side, and the
shared demo file never written."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.exercises.sandboxing import JudgeLimits
from app.workers.judge_runner import Judge

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")

QUICK = Path(__file__).resolve().parents[1] / "workers" / "hostile_demos" / "quick.py"
SOURCE = QUICK.read_text()


@pytest.fixture(scope="module")
def judge() -> Iterator[Judge]:
    judge = Judge(workers=2, spares=1, limits=JudgeLimits(wall_s=6.0, cpu_s=3))
    yield judge
    judge.close()


def test_the_copy_runs_and_its_edits_are_what_ran(judge: Judge) -> None:
    plain = judge.run_demo(SOURCE, {"a": 2.0, "b": 5.0})
    assert plain["ok"], plain
    assert plain["result"]["summary"] == "2.0 + 5.0 = 7.0"
    assert [(c["id"], c["passed"]) for c in plain["result"]["claims"]] == [("sum-correct", True)]
    edited = SOURCE.replace("passed=total == params.a + params.b", "passed=total < 0")
    assert edited != SOURCE
    run = judge.run_demo(edited, {})
    assert run["ok"] and run["result"]["claims"][0]["passed"] is False


@pytest.mark.parametrize(
    ("tail", "reason", "words"),
    [
        # The CPU limit or the wall clock, whichever comes first (the wall clock on a busy machine).
        ("\nwhile True:\n    pass\n", "timeout", "took too long|of CPU"),
        (f"\nopen({str(QUICK)!r}, 'a').write('# pwned')\n", "error", "Error"),
        ("\nprint(open('/etc/shadow').read())\n", "error", "Error"),
        ("\nimport sys\nsys.exit(3)\n", "error", "sys.exit"),
        (
            "\ndef run(params, ctx):\n    return {'summary': 1}\n",
            "error",
            "must return a DemoResult",
        ),
        ("\nx = (\n", "error", "SyntaxError"),
    ],
)
def test_hostile_copies_end_with_a_reason_and_leave_the_demo_alone(
    judge: Judge, tail: str, reason: str, words: str
) -> None:
    before = hashlib.sha256(QUICK.read_bytes()).hexdigest()
    outcome = judge.run_demo(SOURCE + tail, {})
    assert outcome["ok"] is False
    assert outcome["reason"] == reason, outcome
    assert re.search(words, outcome["message"]), outcome
    assert hashlib.sha256(QUICK.read_bytes()).hexdigest() == before


def test_parameters_are_validated_by_the_copys_own_params(judge: Judge) -> None:
    outcome = judge.run_demo(SOURCE, {"a": 1000})
    assert outcome["ok"] is False and "less than or equal to 100" in outcome["message"]
