"""A learner's scheduler settings: read, lock, change, and turned into FSRS terms."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    bindparam,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from app.db import read_rows
from app.models.review import (
    LearnerSettings,
    LearnerSettingsUpdate,
)
from app.services.scheduling import grading
from app.services.scheduling.clock import SYSTEM_CLOCK, Clock
from app.services.scheduling.fsrs_bridge import (
    DEFAULT_PARAMS,
    SchedulerConfig,
)
from app.services.scheduling.states import USER_ID


def load_settings(session: Session, user_id: int) -> LearnerSettings:
    """The learner's settings, or the defaults (unsaved) if they never changed any."""
    row = session.get(LearnerSettings, user_id)
    return row if row is not None else LearnerSettings(user_id=user_id)


# The hot path's statements are built once, with bound parameters, so each call skips
# building the statement and its cache key (SQLAlchemy reuses the compiled form).
_LOCK_SETTINGS = (
    select(LearnerSettings)
    .where(col(LearnerSettings.user_id) == bindparam("user_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


def lock_learner(session: Session, user_id: int) -> LearnerSettings:
    """Create the settings row if missing and lock it for this transaction."""
    params = {"user_id": user_id}
    row = session.execute(_LOCK_SETTINGS, params).scalar_one_or_none()
    if row is not None:
        return row
    dialect = session.get_bind().dialect.name
    values = {
        "user_id": user_id,
        **LearnerSettings(user_id=user_id).model_dump(exclude={"user_id"}),
    }
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(LearnerSettings).values(**values).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(LearnerSettings).values(**values).on_conflict_do_nothing()
    session.execute(stmt)
    return session.execute(_LOCK_SETTINGS, params).scalar_one()


def update_settings(
    session: Session, user_id: int, changes: LearnerSettingsUpdate, *, clock: Clock = SYSTEM_CLOCK
) -> LearnerSettings:
    """Apply the given fields (validated by LearnerSettingsUpdate). Existing states keep
    their due dates; `reschedule` replays the log under the new settings."""
    row = lock_learner(session, user_id)
    data = changes.model_dump(exclude_unset=True)
    merged = LearnerSettings.model_validate({**row.model_dump(), **data})  # runs validators
    for key in data:
        setattr(row, key, getattr(merged, key))
    row.updated_at = clock.now()
    session.add(row)
    session.flush()
    return row


def config_for(settings: LearnerSettings) -> SchedulerConfig:
    return SchedulerConfig(
        parameters=tuple(settings.parameters) if settings.parameters else DEFAULT_PARAMS,
        desired_retention=settings.desired_retention,
        learning_steps_s=tuple(settings.learning_steps_s),
        relearning_steps_s=tuple(settings.relearning_steps_s),
        maximum_interval_d=settings.maximum_interval_d,
    )


def context_for(
    settings: LearnerSettings, interview_on: date | None = None
) -> grading.GradingContext:
    return grading.GradingContext(
        config=config_for(settings),
        time_zone=settings.time_zone,
        rollover_hour=settings.day_rollover_hour,
        leech_threshold=settings.leech_threshold,
        interview_on=interview_on,
    )


_SETTINGS_ROW = (
    select(*LearnerSettings.__table__.columns)  # type: ignore[attr-defined]
    .where(col(LearnerSettings.user_id) == USER_ID)
    .with_for_update()
)


def locked_settings(session: Session, user_id: int) -> LearnerSettings:
    """lock_learner for a caller that only reads the settings: the locked row as a
    LearnerSettings outside the session, read through Core."""
    row = read_rows(session, _SETTINGS_ROW, {"user_id": user_id}).first()
    if row is None:
        return lock_learner(session, user_id)  # creates the row
    return LearnerSettings(**row._mapping)
