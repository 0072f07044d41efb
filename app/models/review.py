"""Per-learner schedule: review state, the append-only review log, learner settings.

Content is separate from schedule: these tables point at cards, cards never hold
per-learner state. A review state changes only through grading (fsrs'
Scheduler.review_card), undo, bury/suspend, or a rebuild from the log.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, field_validator, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import Column, ForeignKey, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import JSONType, UTCDateTime, utcnow

FSRS_LEARNING, FSRS_REVIEW, FSRS_RELEARNING = 1, 2, 3
# How new cards are ordered (app.services.scheduling.new_order), as Anki's sort options.
NEW_CARD_ORDERS = ("difficulty", "added", "random")
REVIEW_KINDS = ("learn", "review", "relearn", "cram", "mock", "exercise")
# Kinds that move the schedule (and that replay and the optimizer read). A mock-interview
# answer goes through the same FSRS review as a practice answer, so it is one of them;
# cram is logged but leaves the state alone. "exercise": a confirmed rating of the card's
# write-the-code exercise, reviewed like a mock answer.
SCHEDULED_KINDS = ("learn", "review", "relearn", "mock", "exercise")


class ReviewState(SQLModel, table=True):
    """The FSRS memory state of one card for one learner. No row: the card is new to them.

    `due` of a Review-state card is the start of its day in the learner's time zone
    (as Anki's day-numbered reviews); learning steps are due at the exact minute.
    `version` grows on every change: a grade must name the version it was shown,
    so a second tab cannot grade a card that moved under it.
    """

    __tablename__ = "review_state"
    __table_args__ = (
        # The queue's index: learning / review cards of one learner by due.
        # card_id last: the queue reads due cards in (due, card_id) order without a sort.
        Index(
            "ix_review_state_user_id_fsrs_state_due_card_id",
            "user_id",
            "fsrs_state",
            "due",
            "card_id",
        ),
        Index("ix_review_state_card_id", "card_id"),
    )

    user_id: int = Field(
        sa_column=Column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    )
    card_id: str = Field(sa_column=Column(String(64), ForeignKey("card.id"), primary_key=True))
    fsrs_state: int  # 1 learning, 2 review, 3 relearning (fsrs.State)
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: datetime = Field(sa_type=UTCDateTime)
    last_review_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reps: int = 0  # scheduled reviews so far (mock included, cram excluded)
    lapses: int = 0  # Again on a Review-state card
    leech: bool = False
    suspended: bool = False
    buried_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    flag: int = 0  # 0 none, 1 red, 2 orange, 3 green, 4 blue (Anki's flags; not scheduling)
    version: int = 1
    introduced_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReviewLog(SQLModel, table=True):
    """Append-only: one row per answer. Only undo of the learner's last review deletes one.

    `state_before` is the review state as it was (None: the card was new), so undo
    restores it exactly. `interview_on` is the interview date in force when the
    review was scheduled, so a replay applies the same cap.
    """

    __tablename__ = "review_log"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "idempotency_key", name="uq_review_log_user_id_idempotency_key"
        ),
        Index("ix_review_log_user_id_reviewed_at", "user_id", "reviewed_at"),
        Index("ix_review_log_card_id", "card_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    )
    card_id: str = Field(sa_column=Column(String(64), ForeignKey("card.id"), nullable=False))
    card_revision_id: int | None = Field(default=None, foreign_key="card_revision.id")
    rating: int  # 1 Again, 2 Hard, 3 Good, 4 Easy
    reviewed_at: datetime = Field(sa_type=UTCDateTime)
    duration_ms: int | None = None
    kind: str = Field(max_length=10)
    idempotency_key: str = Field(max_length=64)
    was_new: bool = False
    due_after: datetime | None = Field(default=None, sa_type=UTCDateTime)
    interview_on: date | None = None
    state_before: dict[str, Any] | None = Field(default=None, sa_type=JSONType)


class LearnerSettingsBase(SQLModel):
    desired_retention: float = Field(default=0.90, ge=0.70, le=0.97)
    learning_steps_s: list[int] = Field(default_factory=lambda: [60, 600], sa_type=JSONType)
    relearning_steps_s: list[int] = Field(default_factory=lambda: [600], sa_type=JSONType)
    maximum_interval_d: int = Field(default=36500, ge=1, le=36500)
    new_per_day: int = Field(default=10, ge=0, le=9999)
    reviews_per_day: int = Field(default=200, ge=0, le=99999)
    time_zone: str = Field(default="UTC", max_length=64)
    day_rollover_hour: int = Field(default=4, ge=0, le=23)
    leech_threshold: int = Field(default=8, ge=1, le=99)
    interview_on: date | None = None
    interview_minutes_per_day: int | None = Field(default=None, ge=1, le=1440)
    # difficulty | added | random (app.services.scheduling.new_order)
    new_card_order: str = Field(default="difficulty", max_length=12)

    @field_validator("learning_steps_s", "relearning_steps_s")
    @classmethod
    def _steps(cls, steps: list[int]) -> list[int]:
        if len(steps) > 10 or any(s < 1 or s > 86400 * 30 for s in steps):
            raise ValueError("steps are 0 to 10 durations of 1 s to 30 days, in seconds")
        return steps

    @field_validator("new_card_order")
    @classmethod
    def _new_order(cls, order: str) -> str:
        if order not in NEW_CARD_ORDERS:
            raise ValueError(f"new_card_order must be one of {', '.join(NEW_CARD_ORDERS)}")
        return order

    @model_validator(mode="after")
    def _interview_needs_minutes(self) -> LearnerSettingsBase:
        # The one place this rule lives: the settings form and PATCH /api/settings both
        # end in a validated LearnerSettings.
        if self.interview_on is not None and not self.interview_minutes_per_day:
            raise ValueError("interview_minutes_per_day: an interview date needs minutes per day")
        return self

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, name: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r}") from exc
        return name


class LearnerSettings(LearnerSettingsBase, table=True):
    """One row per learner; its row lock serialises that learner's grading."""

    __tablename__ = "learner_settings"

    user_id: int = Field(
        sa_column=Column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    )
    # Personal FSRS parameters; None: the defaults (not enough data yet).
    parameters: list[float] | None = Field(default=None, sa_type=JSONType)
    parameters_fitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    parameters_review_count: int | None = None
    optimize_status: str = Field(default="idle", max_length=10)  # idle running done failed
    optimize_message: str = Field(default="", max_length=500)
    # Custom study: extra new cards allowed on one local day (Anki's "increase today's
    # new card limit"); the next day the daily setting alone applies again.
    extra_new_day: date | None = None
    extra_new: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LearnerSettingsPublic(LearnerSettingsBase):
    parameters: list[float] | None
    parameters_fitted_at: datetime | None
    parameters_review_count: int | None
    optimize_status: str
    optimize_message: str


class LearnerSettingsUpdate(SQLModel):
    desired_retention: float | None = Field(default=None, ge=0.70, le=0.97)
    learning_steps_s: list[int] | None = None
    relearning_steps_s: list[int] | None = None
    maximum_interval_d: int | None = Field(default=None, ge=1, le=36500)
    new_per_day: int | None = Field(default=None, ge=0, le=9999)
    reviews_per_day: int | None = Field(default=None, ge=0, le=99999)
    time_zone: str | None = None
    day_rollover_hour: int | None = Field(default=None, ge=0, le=23)
    leech_threshold: int | None = Field(default=None, ge=1, le=99)
    interview_on: date | None = None
    interview_minutes_per_day: int | None = Field(default=None, ge=1, le=1440)
    new_card_order: Literal["difficulty", "added", "random"] | None = None


class GradeIn(BaseModel):
    """One answer, as both doors send it: the JSON API's body and the practice form."""

    card_id: str = PydanticField(min_length=1, max_length=64)
    rating: int = PydanticField(ge=1, le=4, description="1 Again, 2 Hard, 3 Good, 4 Easy")
    version: int = PydanticField(ge=0, description="The `version` the card was shown with")
    idempotency_key: str = PydanticField(min_length=1, max_length=64, description="One per answer")
    duration_ms: int | None = PydanticField(default=None, ge=0, le=86_400_000)
    kind: str | None = PydanticField(default=None, pattern="^(cram|mock)$")
