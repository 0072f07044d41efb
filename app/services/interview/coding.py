"""The optional coding round of a mock interview: one write-the-code exercise against its
time budget, scored by the tests (the best submission's share of passed tests), shown in
the interview's report. Takes a Session; never runs code: the caller judges it (the
exercise service's judge) between ``begin_submission`` and ``record``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from app.models.interview import MockCodingRound
from app.services.interview.service import InterviewError, NotFound, get_interview


class RoundClosed(InterviewError):
    code, status = "coding_round_closed", 409


@dataclass(frozen=True)
class CodingSummary:
    exercise: str
    card_id: str | None
    tests_passed: int
    tests_total: int
    score: float  # 0..1
    passed: bool
    submissions: int
    seconds: float
    budget_s: int
    finished: bool


def choose_exercise(
    plan: Sequence[str], exercise_of_card: Mapping[str, str], fallback: Sequence[str]
) -> tuple[str, str | None] | None:
    """(exercise, card) for the round: the first interview card that links an exercise,
    else the first exercise the learner has queued (``fallback``), else None."""
    for card_id in plan:
        if card_id in exercise_of_card:
            return exercise_of_card[card_id], card_id
    cards_of = {name: card for card, name in exercise_of_card.items()}
    for name in fallback:
        return name, cards_of.get(name)
    return None


def get_round(session: Session, user_id: int, interview_id: int) -> MockCodingRound | None:
    get_interview(session, user_id, interview_id)  # NotFound unless it is theirs
    return session.exec(
        select(MockCodingRound).where(MockCodingRound.interview_id == interview_id)
    ).first()


def start_round(
    session: Session,
    user_id: int,
    interview_id: int,
    exercise: str,
    card_id: str | None,
    budget_s: int,
    now: datetime,
) -> MockCodingRound:
    """The interview's round, started now; the existing one if it has one (idempotent).
    Only a finished interview gets one (it is the last part of the interview)."""
    interview = get_interview(session, user_id, interview_id)
    if interview.status != "finished":
        raise RoundClosed("Finish the interview's questions before its coding round.")
    existing = get_round(session, user_id, interview_id)
    if existing is not None:
        return existing
    row = MockCodingRound(
        interview_id=interview_id, exercise=exercise, card_id=card_id, budget_s=budget_s,
        started_at=now, deadline_at=now + timedelta(seconds=budget_s),
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def open_round(session: Session, user_id: int, interview_id: int, now: datetime) -> MockCodingRound:
    """The round, if a submission may still be made (started, not finished, in time)."""
    row = get_round(session, user_id, interview_id)
    if row is None:
        raise NotFound("This interview has no coding round; start one from its report.")
    if row.finished_at is not None:
        raise RoundClosed("This coding round is finished.")
    if now > row.deadline_at:
        row.finished_at = row.deadline_at
        session.add(row)
        raise RoundClosed("The time for this coding round is up; it was scored as it stood.")
    return row


def record(row: MockCodingRound, code: str, verdict: Mapping[str, Any]) -> None:
    """Counts one judged submission; the best share of passed tests is kept."""
    cases = verdict.get("cases") or []
    passed = sum(1 for case in cases if case.get("passed"))
    row.submissions += 1
    row.code = code
    row.last_verdict = dict(verdict)
    total = len(cases) or row.tests_total
    if verdict.get("passed") or (
        total and passed / total > row.tests_passed / max(1, row.tests_total)
    ):
        row.tests_passed, row.tests_total = passed, total
    elif not row.tests_total:
        row.tests_total = total
    row.passed = row.passed or bool(verdict.get("passed"))


def finish_round(session: Session, user_id: int, interview_id: int, now: datetime) -> None:
    row = get_round(session, user_id, interview_id)
    if row is None:
        raise NotFound("This interview has no coding round.")
    if row.finished_at is None:
        row.finished_at = min(now, row.deadline_at)
        session.add(row)


def summary(row: MockCodingRound, now: datetime) -> CodingSummary:
    end = row.finished_at or min(now, row.deadline_at)
    score = row.tests_passed / row.tests_total if row.tests_total else 0.0
    return CodingSummary(
        exercise=row.exercise, card_id=row.card_id, tests_passed=row.tests_passed,
        tests_total=row.tests_total, score=score, passed=row.passed,
        submissions=row.submissions, seconds=max(0.0, (end - row.started_at).total_seconds()),
        budget_s=row.budget_s, finished=row.finished_at is not None or now > row.deadline_at,
    )  # fmt: skip
