"""Every table, imported here so metadata (and Alembic) sees all of them."""

from app.models.card import Card, CardAlias, CardRevision, CardTag, CardTranslation
from app.models.user import LoginAttempt, User, UserCreate, UserPublic

__all__ = [
    "Card",
    "CardAlias",
    "CardRevision",
    "CardTag",
    "CardTranslation",
    "LoginAttempt",
    "User",
    "UserCreate",
    "UserPublic",
]
