"""Demo runs: every requested run, its outcome, and the cache of results.

A run that finished is the cache: a later request with the same ``cache_key`` (demo,
hash of its code, canonical params, device kind, torch version) gets a new row with
``cached=True`` pointing at the run that computed the result (``source_run_id``), so
the result JSON is stored once and any web process can serve it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, String, Text
from sqlmodel import Field, SQLModel

from app.models.base import JSONType, UTCDateTime, utcnow

RUN_STATUSES = ("queued", "running", "succeeded", "failed")


class DemoRun(SQLModel, table=True):
    __tablename__ = "demo_run"
    __table_args__ = (Index("ix_demo_run_cache_key_status", "cache_key", "status"),)

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    demo_name: str = Field(max_length=64, index=True)
    code_hash: str = Field(max_length=64)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    cache_key: str = Field(max_length=64)
    status: str = Field(default="queued", max_length=10)
    reason_code: str | None = Field(default=None, max_length=20)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # The traceback of a failed run: admins only, never in a learner's JSON.
    error_detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    output: str = Field(default="", sa_column=Column(Text, nullable=False))
    result: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    cached: bool = False
    source_run_id: str | None = Field(
        default=None,
        sa_column=Column(String(32), ForeignKey("demo_run.id", ondelete="SET NULL")),
    )
    progress: float = 0.0
    progress_message: str = Field(default="", max_length=200)
    device: str | None = Field(default=None, max_length=10)
    device_name: str | None = Field(default=None, max_length=200)
    torch_version: str | None = Field(default=None, max_length=40)
    deterministic: bool | None = None
    timings: dict[str, float] = Field(default_factory=dict, sa_type=JSONType)
    requested_by: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("user.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
