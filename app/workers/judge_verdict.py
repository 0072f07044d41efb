"""Turning a child's (untrusted) result into a verdict, in the trusted judge."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from app.workers.exercise_cases import Prepared
from app.workers.judge_harness import compare_case


@dataclass(frozen=True)
class CaseVerdict:
    name: str
    passed: bool
    message: str = ""


@dataclass(frozen=True)
class Verdict:
    """``reason``: passed, failed (a test), error (the code does not load), forbidden,
    timeout, memory, output (too much), crashed, unavailable (no sandbox)."""

    passed: bool
    reason: str
    message: str
    cases: list[CaseVerdict] = field(default_factory=list)
    stdout: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def verdict_from_result(prepared: Prepared, result: Any) -> Verdict:
    if not isinstance(result, dict):
        return Verdict(False, "crashed", "The submission's process sent a malformed result.")
    stdout = str(result.get("stdout") or "")[:4096]
    if "error" in result:
        known = ("forbidden", "error", "memory", "output")
        reason = result.get("reason") if result.get("reason") in known else "error"
        return Verdict(False, str(reason), str(result["error"])[:2000], stdout=stdout)
    outputs = result.get("outputs")
    if not isinstance(outputs, list) or len(outputs) != len(prepared.cases):
        return Verdict(False, "crashed", "The submission's process sent a malformed result.")
    cases = []
    for case, expected, actual in zip(prepared.cases, prepared.expected, outputs, strict=True):
        problem = compare_case(expected, actual, prepared.tolerance)
        cases.append(CaseVerdict(case.name, problem is None, problem or ""))
    failed = [c for c in cases if not c.passed]
    if failed:
        message = f"{len(failed)} of {len(cases)} tests failed; first: {failed[0].name}"
        return Verdict(False, "failed", message, cases, stdout)
    return Verdict(True, "passed", f"All {len(cases)} tests passed.", cases, stdout)
