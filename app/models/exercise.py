"""Write-the-code exercises, per learner: the last code written for each exercise, and
each attempt (from opening the exercise to confirming its rating).

Content is separate from schedule: the exercise itself lives in content/exercises/.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from app.models.base import JSONType, UTCDateTime, utcnow


class ExerciseCode(SQLModel, table=True):
    """The learner's last code for one exercise, kept across attempts."""

    __tablename__ = "exercise_code"

    user_id: int = Field(
        sa_column=Column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    )
    exercise: str = Field(sa_column=Column(String(64), primary_key=True))
    code: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ExerciseAttempt(SQLModel, table=True):
    """One attempt at an exercise: open until the learner confirms a rating, which is then
    logged as a review of kind "exercise" (``review_log_id``)."""

    __tablename__ = "exercise_attempt"
    __table_args__ = (Index("ix_exercise_attempt_user_id_exercise", "user_id", "exercise"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    )
    exercise: str = Field(sa_column=Column(String(64), nullable=False))
    card_id: str | None = Field(
        default=None,
        sa_column=Column(String(64), ForeignKey("card.id", ondelete="SET NULL"), nullable=True),
    )
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submissions: int = 0
    failed_submissions: int = 0
    hints_used: int = 0
    gave_up: bool = False
    passed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The last verdict as the judge returned it (reason, message, per-test results).
    last_verdict: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    rating: int | None = None
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    review_log_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("review_log.id", ondelete="SET NULL"), nullable=True),
    )
