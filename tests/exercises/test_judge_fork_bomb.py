"""A fork bomb in a submission: contained, and nothing of it is left after the verdict.
Its own module, so no other judge's spares start while it counts processes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.exercises.format import load_exercises
from app.exercises.sandboxing import JudgeLimits, project_root
from app.workers.judge_runner import Judge

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")

SOFTMAX = load_exercises(project_root() / "content")[0]["softmax"]


def _judge_children() -> list[int]:
    """Processes of this checkout's judge children (spares included)."""
    found = []
    marker = b"app.workers.judge_child"
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_a_fork_bomb_is_contained_and_leaves_nothing_behind() -> None:
    judge = Judge(workers=1, spares=0, limits=JudgeLimits(wall_s=5.0, cpu_s=3))
    before = set(_judge_children())
    verdict = judge.judge(
        SOFTMAX,
        "import os\ndef softmax(x, dim=-1):\n    while True:\n        try:\n"
        "            os.fork()\n        except OSError:\n            pass\n",
    )
    assert verdict.reason in ("timeout", "crashed"), verdict
    # right after the verdict, before close(): the submission's processes are gone
    assert set(_judge_children()) - before == set()
    judge.close()
