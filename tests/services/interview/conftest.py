"""Cards with key points (English and Chinese) and learners, on a real migrated database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.models.card import Card, CardTranslation
from app.models.user import User
from app.services.scheduling.clock import FixedClock

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

BN_POINTS_EN = [
    "Normalizes each feature over the mini-batch, then a learned scale and shift",
    "Reduces sensitivity to initialization and allows a higher learning rate",
    "Uses running averages of mean and variance at inference",
]
BN_POINTS_ZH = [
    "在小批量上对每个特征做归一化,再做可学习的缩放和平移",
    "降低对初始化的敏感性,允许更大的学习率",
    "推理时使用均值和方差的滑动平均",
]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


def add_user(engine: Engine) -> int:
    with session_scope(engine, write=True) as s:
        user = User(username=f"u{uuid.uuid4().hex[:8]}", password_hash="x")
        s.add(user)
        s.flush()
        assert user.id is not None
        return user.id


def add_card(
    engine: Engine,
    card_id: str,
    deck: str = "a",
    *,
    difficulty: str = "medium",
    points: list[str] | None = None,
    zh_points: list[str] | None = None,
    follow_ups: list[tuple[str, str | None]] = (),  # type: ignore[assignment]
    budget: int | None = None,
) -> str:
    points = points if points is not None else [f"{card_id} point one", f"{card_id} point two"]
    with session_scope(engine, write=True) as s:
        s.add(
            Card(
                id=card_id,
                deck=deck,
                title=f"Title {card_id}",
                difficulty=difficulty,
                file_path=f"{card_id}.md",
                content_hash="h",
                answer_time_s=budget,
            )
        )
        s.flush()
        s.add(
            CardTranslation(
                card_id=card_id,
                lang="en",
                title=f"Title {card_id}",
                question_html="<p>Q?</p>",
                answer_html="<p>A.</p>",
                key_points=[{"html": p, "text": p} for p in points],
                follow_ups=[{"html": t, "text": t, "card_id": c} for t, c in follow_ups],
            )
        )
        if zh_points is not None:
            s.add(
                CardTranslation(
                    card_id=card_id,
                    lang="zh",
                    title=f"标题 {card_id}",
                    question_html="<p>问?</p>",
                    answer_html="<p>答。</p>",
                    key_points=[{"html": p, "text": p} for p in zh_points],
                    follow_ups=[],
                )
            )
    return card_id
