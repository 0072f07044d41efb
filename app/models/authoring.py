"""The authoring history: one row per change an admin makes to a card (or a draft)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import JSONType, UTCDateTime, utcnow

CHANGE_ACTIONS = (
    "baseline",  # the card as the files had it, before its first change in the browser
    "create",
    "edit",
    "revert",
    "retire",
    "restore",
    "draft",  # a draft saved (created in the editor or imported from Anki)
    "publish",
    "upload",
)


class CardChangeBase(SQLModel):
    card_id: str = Field(
        sa_column=Column(
            String(64), ForeignKey("card.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    number: int  # 1, 2, ... per card
    action: str = Field(max_length=16)
    author_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    author_name: str = Field(default="", max_length=64)  # kept even if the account goes
    # Every language file's Markdown after the change, keyed by language ({} once retired).
    markdown: dict[str, str] = Field(default_factory=dict, sa_type=JSONType)
    content_hash: str = Field(default="", max_length=64)
    # Unified diff of the Markdown, file by file, from the state before the change.
    diff: str = Field(default="", sa_column=Column(Text, nullable=False))
    note: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CardChange(CardChangeBase, table=True):
    __tablename__ = "card_change"
    __table_args__ = (UniqueConstraint("card_id", "number", name="uq_card_change_card_id_number"),)

    id: int | None = Field(default=None, primary_key=True)


class CardChangePublic(CardChangeBase):
    id: int
