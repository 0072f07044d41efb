"""Accounts and login attempts. Templates and JSON see UserPublic: never the password hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
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
    # Part of every session cookie; bumping it (password change, "log out everywhere")
    # invalidates every cookie issued before, with no server-side session store.
    session_version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    password_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UserCreate(SQLModel):
    username: str
    password: str


class UserPublic(UserBase):
    id: int
    created_at: datetime
    last_login_at: datetime | None = None


class LoginAttempt(SQLModel, table=True):
    """One row per password check, kept in the database so every web process shares
    the rate limit. Rows older than a day are pruned as new ones arrive."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_attempted_at", "username", "attempted_at"),
        Index("ix_login_attempt_address_attempted_at", "address", "attempted_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)  # as normalised; the account may not exist
    address: str = Field(max_length=64)
    succeeded: bool = Field(default=False)
    attempted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class RevokedSession(SQLModel, table=True):
    """A session cookie ended by "log out": its nonce, kept until the cookie would have
    expired anyway (cookies are signed and stateless; this is the one thing a server
    must remember to end a single one)."""

    __tablename__ = "revoked_session"

    nonce: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(index=True)
    revoked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
