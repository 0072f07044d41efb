"""The SQL ranking of due reviews equals the Python recall ranking it replaced: lowest
predicted recall first (whole days, as fsrs counts them), then due, then id, within the
REVIEW_WINDOW oldest due cards, active cards only; on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from app.db import session_scope
from app.models.card import Card
from app.models.review import LearnerSettings, ReviewState
from app.services.scheduling import service
from tests.services.scheduling.conftest import START, add_cards, add_user


def states(user_id: int, card_ids: list[str], now: datetime, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i, card_id in enumerate(card_ids):
        # Edge cases: exact whole days, a microsecond either side of a day boundary,
        # equal elapsed/stability ratios, a last review in the future, no stability.
        days = rng.choice([0, 1, 2, 3, 5, 8, 13, 40])
        offset = rng.choice(
            [timedelta(0), timedelta(microseconds=1), -timedelta(microseconds=1),
             timedelta(hours=rng.randint(0, 23), seconds=rng.random() * 3600)]
        )  # fmt: skip
        last = now - timedelta(days=days) + offset
        if i % 17 == 0:
            last = now + timedelta(hours=3)
        stability = rng.choice([1.0, 2.0, 4.0, 2.5, 10.0, 0.5]) if i % 13 else None
        due = now - timedelta(minutes=rng.randint(0, 5000)) if i % 11 else now + timedelta(days=1)
        rows.append(
            dict(
                user_id=user_id,
                card_id=card_id,
                fsrs_state=2,
                stability=stability,
                difficulty=5.0,
                due=due,
                last_review_at=last,
                reps=3,
                lapses=0,
                version=1,
                suspended=(i % 23 == 0),
            )  # fmt: skip
        )
    return rows


def python_ranking(rows: list[dict], now: datetime, limit: int, retired: set[str]) -> list[str]:
    recall = service.recall_fn(service.config_for(LearnerSettings(user_id=0)))
    due = sorted(
        (r for r in rows if r["due"] <= now and not r["suspended"]),
        key=lambda r: (r["due"], r["card_id"]),
    )[: service.REVIEW_WINDOW]
    ranked = sorted(
        (r for r in due if r["card_id"] not in retired),
        key=lambda r: (recall(r["stability"], r["last_review_at"], now), r["due"], r["card_id"]),
    )
    return [r["card_id"] for r in ranked[:limit]]


def test_sql_ranking_equals_recall_ranking(any_engine: Engine) -> None:
    now = START
    user_id = add_user(any_engine)
    card_ids = add_cards(any_engine, 260, decks=("a", "b"))
    retired = set(card_ids[5:260:29])
    rows = states(user_id, card_ids, now, seed=7)
    with session_scope(any_engine, write=True) as s:
        s.execute(insert(ReviewState), rows)
        s.execute(update(Card).where(col(Card.id).in_(retired)).values(status="retired"))
    for limit in (1, 7, 50, 300):
        with session_scope(any_engine) as s:
            got = [r.card_id for r in service.due_review_rows(s, user_id, now, limit)]
        assert got == python_ranking(rows, now, limit, retired), limit
