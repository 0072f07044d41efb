"""Accounts. UserPublic is what templates and JSON see: never the password hash."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow

ROLES = ("learner", "admin")


class UserBase(SQLModel):
    username: str = Field(max_length=64, unique=True, index=True)
    role: str = Field(default="learner", max_length=10)
    locale: str = Field(default="en", max_length=10)


class User(UserBase, table=True):
    __tablename__ = "user"

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UserPublic(UserBase):
    id: int
    created_at: datetime
