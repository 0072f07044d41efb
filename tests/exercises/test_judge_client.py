"""The web side reaches the judge through its own process and never imports torch."""

from __future__ import annotations

import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.exercises.format import load_exercise
from app.exercises.judge_client import JudgeClient, JudgeUnavailable
from app.exercises.sandboxing import project_root

SOFTMAX = project_root() / "content" / "exercises" / "softmax.py"


def test_the_client_module_does_not_import_torch() -> None:
    code = "import sys, app.exercises.judge_client; print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=project_root()
    )
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")
def test_verdicts_come_back_through_the_judge_process() -> None:
    client = JudgeClient(workers=2)
    try:
        wrong = "def softmax(x, dim=-1):\n    return x.exp() / x.exp().sum(dim, keepdim=True)\n"
        reference = load_exercise(SOFTMAX).meta.REFERENCE
        with ThreadPoolExecutor(2) as pool:
            good, bad = pool.map(lambda c: client.judge(SOFTMAX, c), [reference, wrong])
        assert good["passed"] and good["reason"] == "passed"
        assert bad["reason"] == "failed"
        assert any(c["name"] == "large logits" and not c["passed"] for c in bad["cases"])
        with pytest.raises(JudgeUnavailable, match="cannot be judged"):
            client.judge(project_root() / "content" / "exercises" / "nope.py", "x = 1")
    finally:
        client.close()
