"""Running a submission on the exercise's inputs, and comparing its outputs with the
reference's.

``run_submission`` is what the sandboxed child executes (and what the fast in-process
tests call directly); ``compare_case`` runs only in the trusted judge, on outputs that
came back through ``judge_wire``, so patching ``torch.allclose`` or this module inside
the child changes nothing about the verdict.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import io
import math
import sys
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

SUBMISSION_FILE = "<submission>"
MAX_PRINTED = 4096
GRAD_SEED = 1234


@dataclass(frozen=True)
class Case:
    """One test input: a name shown to the learner, positional and keyword arguments."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


class ForbiddenCall(Exception):
    """The submission used a call the exercise forbids."""


def static_forbidden(code: str, forbidden: Sequence[str]) -> str | None:
    """The first forbidden name the code mentions (``F.softmax``, ``x.softmax``, ``from
    torch.nn.functional import softmax``), read from its syntax tree; None if clean."""
    last = {name.rsplit(".", 1)[-1]: name for name in forbidden}
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None  # reported when the code runs, with its line
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in last:
            return f"line {node.lineno}: {last[node.attr]} is not allowed in this exercise"
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in last:
                    return f"line {node.lineno}: {last[alias.name]} is not allowed in this exercise"
    return None


def resolve(dotted: str) -> tuple[Any, str]:
    """(owner object, attribute name) of a dotted name such as ``torch.nn.functional.softmax``
    or ``torch.Tensor.softmax``. Raises LookupError when it does not exist."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            owner: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for part in parts[split:-1]:
            owner = getattr(owner, part, None)
        if owner is not None and hasattr(owner, parts[-1]):
            return owner, parts[-1]
    raise LookupError(f"{dotted} does not exist")


@contextlib.contextmanager
def forbidden_calls(names: Sequence[str]) -> Iterator[None]:
    """Replaces each forbidden callable by one that raises ForbiddenCall, and restores it
    afterwards: catches calls the syntax scan cannot see (``getattr(F, "soft" + "max")``)."""
    saved: list[tuple[Any, str, Any]] = []
    try:
        for name in names:
            try:
                owner, attr = resolve(name)
            except LookupError:
                continue  # `backprop check` reports it; the syntax scan still applies
            original = getattr(owner, attr)

            def refuse(*_a: Any, _name: str = name, **_k: Any) -> Any:
                raise ForbiddenCall(f"{_name} is not allowed in this exercise")

            try:
                setattr(owner, attr, refuse)
            except (AttributeError, TypeError):
                continue  # a C type that refuses new attributes; the syntax scan remains
            saved.append((owner, attr, original))
        yield
    finally:
        for owner, attr, original in reversed(saved):
            setattr(owner, attr, original)


def learner_traceback(exc: BaseException) -> str:
    """The exception and only the frames of the learner's own code: never the harness's."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == SUBMISSION_FILE]
    lines = [f"line {f.lineno}, in {f.name}" for f in frames[-5:]]
    lines.append(f"{type(exc).__name__}: {exc}"[:500])
    return "\n".join(lines)


def _clone(value: Any, grad_args: Sequence[int], index: int | None = None) -> Any:
    if isinstance(value, torch.Tensor):
        copy = value.detach().clone()
        if index in grad_args and copy.is_floating_point():
            copy.requires_grad_(True)
        return copy
    if isinstance(value, list):
        return [_clone(v, ()) for v in value]
    if isinstance(value, tuple):
        return tuple(_clone(v, ()) for v in value)
    if isinstance(value, dict):
        return {k: _clone(v, ()) for k, v in value.items()}
    return value


def _first_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, list | tuple) and value:
        return _first_tensor(value[0])
    return None


def call_case(function: Any, case: Case, grad_args: Sequence[int]) -> dict[str, Any]:
    """{"value": outputs, "grads": [...]} for one case: the gradient of a fixed random
    projection of the first output with respect to the arguments in ``grad_args``."""
    args = tuple(_clone(a, grad_args, i) for i, a in enumerate(case.args))
    kwargs = {k: _clone(v, ()) for k, v in case.kwargs.items()}
    with torch.enable_grad():
        value = function(*args, **kwargs)
    result: dict[str, Any] = {"value": _detached(value)}
    if grad_args:
        out = _first_tensor(value)
        inputs = [args[i] for i in grad_args]
        if out is None or not out.requires_grad:
            result["grads"] = None
        else:
            weights = torch.randn(
                out.shape, generator=torch.Generator().manual_seed(GRAD_SEED), dtype=out.dtype
            )
            grads = torch.autograd.grad((out * weights).sum(), inputs, allow_unused=True)
            result["grads"] = [None if g is None else g.detach() for g in grads]
    return result


def _detached(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, list):
        return [_detached(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_detached(v) for v in value)
    if isinstance(value, dict):
        return {k: _detached(v) for k, v in value.items()}
    return value


def load_function(code: str, function: str) -> Any:
    """Executes the code in a fresh namespace (torch, F and math imported) and returns the
    named function. Raises whatever the code raises, or NameError when it is missing."""
    namespace: dict[str, Any] = {
        "__name__": "submission",
        "torch": torch,
        "F": torch.nn.functional,
        "math": math,
    }
    exec(compile(code, SUBMISSION_FILE, "exec"), namespace)  # noqa: S102 - sandboxed
    found = namespace.get(function)
    if not callable(found):
        raise NameError(f"define a function named {function}")
    return found


def run_submission(
    code: str,
    function: str,
    cases: Sequence[Case],
    *,
    forbidden: Sequence[str] = (),
    grad_args: Sequence[int] = (),
) -> dict[str, Any]:
    """{"outputs": [per case {"value", "grads"} or {"error"}], "stdout": first 4 KB
    printed} or {"error": message} when the code does not load. Never raises for a
    learner's mistake."""
    refused = static_forbidden(code, forbidden)
    if refused:
        return {"error": f"forbidden call: {refused}", "reason": "forbidden"}
    printed = io.StringIO()
    outputs: list[dict[str, Any]] = []
    with forbidden_calls(forbidden), _bounded_stdout(printed):
        try:
            fn = load_function(code, function)
        except SyntaxError as exc:
            return {"error": f"SyntaxError: line {exc.lineno}: {exc.msg}", "reason": "error"}
        except ForbiddenCall as exc:
            return {"error": f"forbidden call: {exc}", "reason": "forbidden"}
        except Exception as exc:  # the learner's code failed while loading
            return {"error": learner_traceback(exc), "reason": "error"}
        for case in cases:
            try:
                outputs.append(call_case(fn, case, grad_args))
            except ForbiddenCall as exc:
                return {"error": f"forbidden call: {exc}", "reason": "forbidden"}
            except Exception as exc:
                outputs.append({"error": learner_traceback(exc)})
    return {"outputs": outputs, "stdout": printed.getvalue()[:MAX_PRINTED]}


class _Bounded(io.TextIOBase):
    def __init__(self, sink: io.StringIO) -> None:
        self.sink = sink

    def write(self, text: str) -> int:
        room = MAX_PRINTED - self.sink.tell()
        if room > 0:
            self.sink.write(text[:room])
        return len(text)


@contextlib.contextmanager
def _bounded_stdout(sink: io.StringIO) -> Iterator[None]:
    saved = sys.stdout
    sys.stdout = _Bounded(sink)
    try:
        yield
    finally:
        sys.stdout = saved


# --- trusted side -------------------------------------------------------------------


@dataclass(frozen=True)
class Tolerance:
    atol: float = 1e-5
    rtol: float = 1e-4


def compare(expected: Any, actual: Any, tol: Tolerance, where: str = "output") -> str | None:
    """None when ``actual`` matches ``expected``; otherwise one sentence saying where and
    how it differs (shape, first mismatching index and both values, type, length)."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, torch.Tensor):
            return f"{where}: expected a tensor, got {type(actual).__name__}"
        if tuple(actual.shape) != tuple(expected.shape):
            return (
                f"{where}: wrong shape: expected {tuple(expected.shape)}, got {tuple(actual.shape)}"
            )
        if not expected.is_floating_point():
            diff = (actual.to(torch.int64) != expected.to(torch.int64)).reshape(-1)
            if actual.is_floating_point():
                diff = (actual.double() != expected.double()).reshape(-1)
        else:
            a, e = actual.double(), expected.double()
            close = torch.isclose(a, e, rtol=tol.rtol, atol=tol.atol, equal_nan=True)
            diff = (~close).reshape(-1)
        if bool(diff.any()):
            flat = int(torch.nonzero(diff)[0].item())
            index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), expected.shape))
            shown = index if index else "()"
            got = actual.reshape(-1)[flat].item()
            want = expected.reshape(-1)[flat].item()
            count = int(diff.sum().item())
            return (
                f"{where}: {count} of {diff.numel()} values differ; first at index {shown}: "
                f"expected {want:.6g}, got {got:.6g}"
            )
        return None
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        return (
            None
            if actual == expected and type(actual) is type(expected)
            else (f"{where}: expected {expected!r:.60}, got {actual!r:.60}")
        )
    if isinstance(expected, int | float):
        if isinstance(actual, torch.Tensor) and actual.numel() == 1:
            actual = actual.item()
        if not isinstance(actual, int | float) or isinstance(actual, bool):
            return f"{where}: expected a number, got {type(actual).__name__}"
        if isinstance(expected, int) and isinstance(actual, float) and not actual.is_integer():
            return f"{where}: expected {expected}, got {actual}"
        if not math.isclose(actual, expected, rel_tol=tol.rtol, abs_tol=tol.atol):
            return f"{where}: expected {expected:.6g}, got {actual:.6g}"
        return None
    if isinstance(expected, list | tuple):
        if not isinstance(actual, list | tuple):
            return f"{where}: expected a {type(expected).__name__}, got {type(actual).__name__}"
        if len(actual) != len(expected):
            return f"{where}: expected {len(expected)} items, got {len(actual)}"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            problem = compare(e, a, tol, f"{where}[{i}]")
            if problem:
                return problem
        return None
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(actual) != set(expected):
            return f"{where}: expected a dict with keys {sorted(expected)}"
        for key in expected:
            problem = compare(expected[key], actual[key], tol, f"{where}[{key!r}]")
            if problem:
                return problem
        return None
    return f"{where}: cannot compare {type(expected).__name__}"


def compare_case(expected: dict[str, Any], actual: Any, tol: Tolerance) -> str | None:
    """Judges one case's output record from the child (any shape: it is untrusted)."""
    if not isinstance(actual, dict):
        return "the submission's process sent a malformed result"
    if "error" in actual:
        return str(actual["error"])[:2000]
    problem = compare(expected["value"], actual.get("value"), tol)
    if problem:
        return problem
    if "grads" in expected:
        want, got = expected["grads"], actual.get("grads")
        if want is not None and got is None:
            return "gradient: the output is not differentiable with respect to the inputs"
        if want is not None:
            for i, (w, g) in enumerate(zip(want, got or [], strict=False)):
                if w is None:
                    continue
                if g is None:
                    return f"gradient mismatch: input {i} gets no gradient"
                problem = compare(w, g, tol, f"gradient of input {i}")
                if problem:
                    return f"gradient mismatch: {problem}"
    return None
