"""Mock interviews: one row per interview, one per question asked in it.

The server holds the whole state (which question, when it was shown, its deadline, the
typed answer, the ticks), so a reload, a lost connection or a second device resumes
exactly where the interview was, and the countdown is computed from these timestamps.
Per-learner rows only: a card row never holds any of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import JSONType, UTCDateTime, utcnow

INTERVIEW_STATUSES = ("active", "finished", "discarded")
QUESTION_KINDS = ("main", "follow_up")


class MockInterview(SQLModel, table=True):
    __tablename__ = "mock_interview"
    __table_args__ = (Index("ix_mock_interview_user_id_status", "user_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    )
    status: str = Field(default="active", max_length=10)
    lang: str = Field(default="en", max_length=10)
    # What the learner asked for: {"questions": n, "minutes": m, "decks": [...],
    # "weakest": bool, "difficulties": [...], "follow_ups": bool}
    config: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    # The main questions' card ids, in the order they are asked.
    plan: list[str] = Field(default_factory=list, sa_type=JSONType)
    score: float | None = None  # 0..1, set when finished
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MockQuestion(SQLModel, table=True):
    """One question as asked: a main question (a card) or a follow-up (its card's
    follow-up text, answered against the linked card when it has one).

    Phases: answering (answered_at None), reviewing (answered, confirmed_at None), done."""

    __tablename__ = "mock_question"
    __table_args__ = (
        UniqueConstraint("interview_id", "position", name="uq_mock_question_interview_id_position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(
        sa_column=Column(ForeignKey("mock_interview.id", ondelete="CASCADE"), nullable=False)
    )
    position: int  # 0, 1, ... in the order asked (follow-ups included)
    kind: str = Field(max_length=10)  # main | follow_up
    # The card the answer is scored against (None: a follow-up with no linked card).
    card_id: str | None = Field(
        default=None, sa_column=Column(String(64), ForeignKey("card.id"), nullable=True)
    )
    parent_card_id: str | None = Field(default=None, max_length=64)  # the asking card
    deck: str = Field(max_length=200)
    prompt: str = Field(default="", sa_column=Column(Text, nullable=False))  # follow-up text
    budget_s: int
    started_at: datetime = Field(sa_type=UTCDateTime)
    deadline_at: datetime = Field(sa_type=UTCDateTime)
    draft: str = Field(default="", sa_column=Column(Text, nullable=False))
    answer: str = Field(default="", sa_column=Column(Text, nullable=False))
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    late: bool = False
    skipped: bool = False
    # One entry per key point: pre-ticked by matching, then as the learner confirmed.
    suggested: list[bool] = Field(default_factory=list, sa_type=JSONType)
    ticks: list[bool] = Field(default_factory=list, sa_type=JSONType)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    score: float | None = None  # share of key points covered, 0..1
    rating: int | None = None  # the FSRS rating it fed the schedule with
    review_log_id: int | None = None


class MockCodingRound(SQLModel, table=True):
    """The optional coding round of a mock interview: one exercise against a time budget,
    scored by the share of its tests the best submission passed."""

    __tablename__ = "mock_coding_round"

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(
        sa_column=Column(
            ForeignKey("mock_interview.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    exercise: str = Field(max_length=64)
    card_id: str | None = Field(default=None, max_length=64)
    budget_s: int
    started_at: datetime = Field(sa_type=UTCDateTime)
    deadline_at: datetime = Field(sa_type=UTCDateTime)
    code: str = Field(default="", sa_column=Column(Text, nullable=False))
    submissions: int = 0
    tests_passed: int = 0  # of the best submission
    tests_total: int = 0
    passed: bool = False
    last_verdict: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
