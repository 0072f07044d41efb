"""Every table, imported here so metadata (and Alembic) sees all of them."""

from app.models.authoring import CardChange, CardChangePublic
from app.models.card import Card, CardAlias, CardRevision, CardTag, CardTranslation
from app.models.demo_run import DemoRun
from app.models.exercise import ExerciseAttempt, ExerciseCode
from app.models.interview import MockCodingRound, MockInterview, MockQuestion
from app.models.review import (
    LearnerSettings,
    LearnerSettingsPublic,
    LearnerSettingsUpdate,
    ReviewLog,
    ReviewState,
)
from app.models.user import LoginAttempt, RevokedSession, User, UserCreate, UserPublic

__all__ = [
    "Card",
    "CardAlias",
    "CardChange",
    "CardChangePublic",
    "CardRevision",
    "CardTag",
    "CardTranslation",
    "DemoRun",
    "ExerciseAttempt",
    "ExerciseCode",
    "LearnerSettings",
    "LearnerSettingsPublic",
    "LearnerSettingsUpdate",
    "LoginAttempt",
    "MockCodingRound",
    "MockInterview",
    "MockQuestion",
    "RevokedSession",
    "ReviewLog",
    "ReviewState",
    "User",
    "UserCreate",
    "UserPublic",
]
