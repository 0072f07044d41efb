"""The deck: cards, their revisions, rendered translations, tags and aliases.

Content is separate from schedule: nothing here holds per-learner state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import JSONType, UTCDateTime, utcnow

CARD_STATUSES = ("active", "retired", "draft")


class Card(SQLModel, table=True):
    __tablename__ = "card"

    id: str = Field(sa_column=Column(String(64), primary_key=True))
    deck: str = Field(max_length=200, index=True)
    title: str = Field(max_length=300)
    difficulty: str = Field(max_length=10)
    status: str = Field(default="active", max_length=10, index=True)
    demo_path: str | None = Field(default=None, max_length=300)
    demo_params: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    demo_proves: list[str] = Field(default_factory=list, sa_type=JSONType)
    answer_time_s: int | None = None
    sources: list[str] = Field(default_factory=list, sa_type=JSONType)
    file_path: str = Field(max_length=500)
    content_hash: str = Field(max_length=64)
    revision: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CardRevision(SQLModel, table=True):
    """One row per distinct content of a card; the review log points at these."""

    __tablename__ = "card_revision"
    __table_args__ = (
        UniqueConstraint("card_id", "number", name="uq_card_revision_card_id_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    card_id: str = Field(
        sa_column=Column(String(64), ForeignKey("card.id", ondelete="CASCADE"), index=True)
    )
    number: int
    content_hash: str = Field(max_length=64)
    # The source Markdown of every language file, keyed by language.
    markdown: dict[str, str] = Field(default_factory=dict, sa_type=JSONType)
    author_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CardTranslation(SQLModel, table=True):
    """A card's rendered text in one language (the default language included)."""

    __tablename__ = "card_translation"

    card_id: str = Field(
        sa_column=Column(String(64), ForeignKey("card.id", ondelete="CASCADE"), primary_key=True)
    )
    lang: str = Field(max_length=10, primary_key=True)
    title: str = Field(max_length=300)
    question_html: str = Field(sa_column=Column(Text, nullable=False))
    answer_html: str = Field(sa_column=Column(Text, nullable=False))
    pitfalls_html: str = Field(default="", sa_column=Column(Text, nullable=False))
    # [{"html": ..., "text": ..., "keywords"?: [...]}]: rendered for pages, plain text and
    # optional keywords for mock-interview answer matching.
    key_points: list[dict[str, str]] = Field(default_factory=list, sa_type=JSONType)
    # [{"html": ..., "text": ..., "card_id": linked id or null}]
    follow_ups: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    # Plain text of question and answer, for search.
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False))


class CardTag(SQLModel, table=True):
    __tablename__ = "card_tag"

    card_id: str = Field(
        sa_column=Column(String(64), ForeignKey("card.id", ondelete="CASCADE"), primary_key=True)
    )
    tag: str = Field(max_length=64, primary_key=True, index=True)


class CardAlias(SQLModel, table=True):
    """A former id of a card; review history keyed by it was moved to card_id."""

    __tablename__ = "card_alias"

    alias: str = Field(sa_column=Column(String(64), primary_key=True))
    card_id: str = Field(
        sa_column=Column(String(64), ForeignKey("card.id", ondelete="CASCADE"), index=True)
    )
