"""Hostile submissions through the real judge on bubblewrap: each one ends with a clear
reason and the judge stays healthy (a reference submission still passes afterwards)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.exercises.format import Exercise, load_exercises
from app.exercises.sandboxing import JudgeLimits, project_root
from app.workers.judge_runner import Judge
from app.workers.judge_verdict import Verdict

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")

EXERCISES, _ = load_exercises(project_root() / "content")
SOFTMAX = EXERCISES["softmax"]
SECRET = "s3cret-judge-test-value"


@pytest.fixture(scope="module")
def judge() -> Iterator[Judge]:
    os.environ["BACKPROP_SECRET_KEY"] = SECRET  # as in the compose deployment
    judge = Judge(workers=2, spares=2, limits=JudgeLimits(wall_s=8.0, cpu_s=4))
    judge.warm_up()
    yield judge
    judge.close()
    del os.environ["BACKPROP_SECRET_KEY"]


def run(judge: Judge, body: str, exercise: Exercise = SOFTMAX) -> Verdict:
    """Judges ``body`` placed before a correct softmax, so a probe that is contained still
    lets the submission answer (and a probe that escaped would show in its stdout)."""
    code = body + "\n\n" + SOFTMAX.meta.REFERENCE
    return judge.judge(exercise, code)


def probe(judge: Judge, statement: str) -> str:
    """Runs ``statement`` at import time and returns what it printed, or the error name."""
    body = (
        "try:\n"
        + "".join(f"    {line}\n" for line in statement.splitlines())
        + "except BaseException as exc:\n    print('blocked:', type(exc).__name__)\n"
    )
    verdict = run(judge, body)
    assert verdict.passed, verdict  # the probe is contained and the code still answers
    return verdict.stdout


def assert_healthy(judge: Judge) -> None:
    verdict = judge.judge(SOFTMAX, SOFTMAX.meta.REFERENCE)
    assert verdict.passed, verdict


def test_a_reference_passes_and_a_wrong_solution_fails(judge: Judge) -> None:
    assert_healthy(judge)
    verdict = judge.judge(SOFTMAX, SOFTMAX.meta.WRONG[0])
    assert verdict.reason == "failed"
    assert "large logits" in verdict.message


def test_an_infinite_loop_is_stopped(judge: Judge) -> None:
    verdict = judge.judge(SOFTMAX, "def softmax(x, dim=-1):\n    while True:\n        pass\n")
    assert verdict.reason == "timeout"
    assert "took too long" in verdict.message or "CPU" in verdict.message
    assert_healthy(judge)


def test_a_memory_bomb_fails_with_a_memory_error(judge: Judge) -> None:
    verdict = judge.judge(
        SOFTMAX, "def softmax(x, dim=-1):\n    b = bytearray(8 * 1024**3)\n    return x\n"
    )
    assert verdict.reason == "failed"
    assert "MemoryError" in verdict.cases[0].message
    verdict = judge.judge(
        SOFTMAX,
        "def softmax(x, dim=-1):\n"
        "    t = torch.ones(4 * 1024**3, dtype=torch.uint8)\n    return x\n",
    )
    assert (
        "allocate" in verdict.cases[0].message.lower()
        or "memory" in verdict.cases[0].message.lower()
    )
    assert_healthy(judge)


def test_printing_100_mb_is_bounded(judge: Judge) -> None:
    verdict = run(judge, "import os\nprint('x' * 100_000_000)\nos.write(1, b'y' * 100_000_000)\n")
    assert verdict.passed
    assert len(verdict.stdout) <= 4096


def test_etc_passwd_and_shadow_are_not_there(judge: Judge) -> None:
    out = probe(judge, "print(open('/etc/passwd').read())")
    assert out.strip() == "blocked: FileNotFoundError"
    assert probe(judge, "print(open('/etc/shadow').read())").strip() == "blocked: FileNotFoundError"


def test_the_database_and_the_secret_key_are_out_of_reach(judge: Judge) -> None:
    data = Path(tempfile.mkdtemp(dir=project_root(), prefix=".judge-test-data-"))
    try:
        (data / "secret_key").write_text(SECRET)
        (data / "backprop.db").write_text(SECRET)
        for name in ("secret_key", "backprop.db"):
            out = probe(judge, f"print(open({str(data / name)!r}).read())")
            assert SECRET not in out
            assert out.strip() == "blocked: FileNotFoundError"
    finally:
        shutil.rmtree(data)


def test_the_environment_holds_no_secret(judge: Judge) -> None:
    out = probe(
        judge,
        "import os\nprint(dict(os.environ))\n"
        "for p in ('/proc/1/environ', '/proc/self/environ'):\n"
        "    print(open(p, 'rb').read())",
    )
    assert SECRET not in out
    assert "BACKPROP" not in out
    assert "'HOME': '/tmp'" in out


def test_there_is_no_network(judge: Judge) -> None:
    out = probe(judge, "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=2)")
    assert out.startswith("blocked: OSError") or "blocked:" in out
    out = probe(judge, "import socket\nsocket.getaddrinfo('example.com', 80)")
    assert "blocked:" in out


def test_writing_outside_the_temp_dir_fails(judge: Judge) -> None:
    target = project_root() / "app" / "pwned.py"
    out = probe(judge, f"open({str(target)!r}, 'w').write('x')")
    assert out.strip() == "blocked: OSError"
    assert not target.exists()
    assert probe(judge, "open('/usr/pwned', 'w')").strip() == "blocked: OSError"
    assert probe(judge, "open('/tmp/ok', 'w').write('fine'); print('wrote')").strip() == "wrote"


def test_a_large_temp_file_is_stopped(judge: Judge) -> None:
    out = probe(judge, "open('/tmp/big', 'wb').write(b'x' * 64 * 1024 * 1024)")
    assert out.strip().startswith("blocked:")


def test_killing_the_parent_and_the_server_does_nothing(judge: Judge) -> None:
    me = os.getpid()
    out = probe(
        judge,
        "import os, signal\n"
        "for pid in (os.getppid(), 1, " + str(me) + "):\n"
        "    try:\n        os.kill(pid, signal.SIGKILL)\n"
        "    except OSError as exc:\n        print(pid, type(exc).__name__)",
    )
    assert f"{me} ProcessLookupError" in out
    assert_healthy(judge)


def test_sys_exit_and_os_exit_are_told(judge: Judge) -> None:
    verdict = run(judge, "import sys\nsys.exit(0)\n")
    assert verdict.reason == "error"
    assert "sys.exit(0)" in verdict.message
    verdict = run(judge, "import os\nos._exit(3)\n")
    assert verdict.reason == "crashed"
    assert "exit status 3" in verdict.message


def test_patching_the_comparison_cannot_fake_a_pass(judge: Judge) -> None:
    verdict = judge.judge(
        SOFTMAX,
        "import app.workers.judge_harness as h\n"
        "h.compare = lambda *a, **k: None\nh.compare_case = lambda *a, **k: None\n"
        "torch.allclose = lambda *a, **k: True\ntorch.isclose = lambda a, b, **k: a == a\n"
        "def softmax(x, dim=-1):\n    return x\n",
    )
    assert verdict.reason == "failed"
    assert all(not c.passed for c in verdict.cases)


def test_returning_a_10_gb_tensor_is_refused(judge: Judge) -> None:
    verdict = judge.judge(
        SOFTMAX, "def softmax(x, dim=-1):\n    return torch.zeros(1).expand(2_700_000_000)\n"
    )
    assert verdict.reason == "output"
    assert "larger than 32 MB" in verdict.message
    assert_healthy(judge)


def test_a_forbidden_call_is_refused_in_the_sandbox(judge: Judge) -> None:
    verdict = judge.judge(SOFTMAX, "def softmax(x, dim=-1):\n    return x.softmax(dim)\n")
    assert verdict.reason == "forbidden"
    assert "torch.Tensor.softmax is not allowed" in verdict.message


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_fifty_submissions_at_once(judge: Judge) -> None:
    codes = [SOFTMAX.meta.REFERENCE if i % 2 == 0 else SOFTMAX.meta.WRONG[0] for i in range(50)]
    with ThreadPoolExecutor(50) as pool:
        verdicts = list(pool.map(lambda code: judge.judge(SOFTMAX, code), codes))
    wrong = [(i, v.reason, v.message) for i, v in enumerate(verdicts) if v.passed != (i % 2 == 0)]
    assert wrong == []
    assert_healthy(judge)
