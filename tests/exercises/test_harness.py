"""The pieces the judge is built from: forbidden calls, comparisons, the wire format."""

from __future__ import annotations

import struct

import pytest
import torch

from app.workers.judge_harness import (
    Case,
    Tolerance,
    compare,
    run_submission,
    static_forbidden,
)
from app.workers.judge_wire import WireError, decode, encode

FORBID = ["torch.nn.functional.softmax", "torch.softmax", "torch.Tensor.softmax"]
CASES = [Case("one", (torch.randn(2, 3),), {})]


@pytest.mark.parametrize(
    "code",
    [
        "def f(x):\n    return F.softmax(x, -1)\n",
        "def f(x):\n    return x.softmax(-1)\n",
        "from torch.nn.functional import softmax\ndef f(x):\n    return softmax(x, -1)\n",
    ],
)
def test_the_syntax_scan_finds_forbidden_calls(code: str) -> None:
    result = run_submission(code, "f", CASES, forbidden=FORBID)
    assert result["reason"] == "forbidden"
    assert "is not allowed in this exercise" in result["error"]


def test_a_hidden_forbidden_call_is_caught_at_run_time_and_restored_after() -> None:
    code = "def f(x):\n    return getattr(torch, 'soft' + 'max')(x, -1)\n"
    assert static_forbidden(code, FORBID) is None
    result = run_submission(code, "f", CASES, forbidden=FORBID)
    assert result == {
        "error": "forbidden call: torch.softmax is not allowed in this exercise",
        "reason": "forbidden",
    }
    assert torch.softmax(torch.zeros(2), 0).tolist() == [0.5, 0.5]


def test_the_learner_traceback_shows_only_their_lines() -> None:
    code = "def f(x):\n    y = 1\n    return x @ torch.ones(7, 7)\n"
    [output] = run_submission(code, "f", CASES)["outputs"]
    assert output["error"].startswith("line 3, in f\nRuntimeError:")
    assert "judge_harness" not in output["error"]


def test_syntax_errors_and_missing_functions_are_named() -> None:
    assert run_submission("def f(:\n", "f", CASES)["error"].startswith("SyntaxError: line 1")
    assert "define a function named f" in run_submission("x = 1\n", "f", CASES)["error"]


def test_printing_is_bounded() -> None:
    result = run_submission("def f(x):\n    print('a' * 10**6)\n    return x\n", "f", CASES)
    assert len(result["stdout"]) == 4096


def test_compare_names_the_shape_and_the_first_mismatch() -> None:
    tol = Tolerance()
    expected = torch.zeros(2, 3)
    assert compare(expected, torch.zeros(3, 2), tol) == (
        "output: wrong shape: expected (2, 3), got (3, 2)"
    )
    actual = torch.zeros(2, 3)
    actual[1, 2] = 0.5
    assert compare(expected, actual, tol) == (
        "output: 1 of 6 values differ; first at index (1, 2): expected 0, got 0.5"
    )
    assert compare((1, [2.0]), (1, [2.0 + 1e-9]), tol) is None
    assert compare((1, 2), (1,), tol) == "output: expected 2 items, got 1"
    assert "expected a tensor, got str" in (compare(expected, "x", tol) or "")
    nan = torch.full((2, 3), float("nan"))
    assert "got nan" in (compare(expected, nan, tol) or "")


def test_the_wire_round_trips_nested_values() -> None:
    value = {"a": [torch.arange(6).reshape(2, 3), (1.5, float("inf"))], "b": None, "c": "s"}
    back = decode(encode(value))
    assert torch.equal(back["a"][0], value["a"][0])
    assert back["a"][1] == (1.5, float("inf"))
    assert back["b"] is None and back["c"] == "s"


def test_the_wire_refuses_oversized_and_forged_payloads() -> None:
    with pytest.raises(WireError, match="larger than"):
        encode(torch.zeros(1024, 1024), max_bytes=1024)
    data = encode(torch.zeros(4))
    with pytest.raises(WireError):
        decode(data[:-4])  # truncated tensor bytes
    header = b'{"t": "float32", "s": [9999999999]}'
    forged = b"BPJ1" + struct.pack("<Q", len(header)) + header + b"\0" * 16
    with pytest.raises(WireError, match="larger than"):
        decode(forged)
    with pytest.raises(WireError):
        decode(b"pickle!" + data)
    with pytest.raises(WireError, match="cannot send"):
        encode(object())
