"""Factories for scheduler tests: learners and cards on a real migrated database."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.models.card import Card, CardTag
from app.models.review import LearnerSettingsUpdate
from app.models.user import User
from app.services.scheduling import service
from app.services.scheduling.clock import FixedClock

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


def add_user(engine: Engine, name: str | None = None, **settings: object) -> int:
    with session_scope(engine, write=True) as s:
        user = User(username=name or f"u{uuid.uuid4().hex[:8]}", password_hash="x")
        s.add(user)
        s.flush()
        assert user.id is not None
        if settings:
            service.update_settings(s, user.id, LearnerSettingsUpdate(**settings))
        return user.id


def add_cards(
    engine: Engine,
    n: int,
    decks: tuple[str, ...] = ("a",),
    prefix: str = "c",
    tags: tuple[str, ...] = (),
) -> list[str]:
    ids = []
    with session_scope(engine, write=True) as s:
        for i, deck in zip(range(n), itertools.cycle(decks)):
            cid = f"{prefix}{i:05d}"
            s.add(Card(id=cid, deck=deck, title=cid, difficulty="easy", file_path=f"{cid}.md",
                       content_hash="h"))  # fmt: skip
            ids.append(cid)
        s.flush()
        for cid in ids:
            for tag in tags:
                s.add(CardTag(card_id=cid, tag=tag))
    return ids


class Learner:
    """One learner driven through the services, as the pages would."""

    def __init__(self, engine: Engine, user_id: int, clock: FixedClock) -> None:
        self.engine, self.user_id, self.clock = engine, user_id, clock
        self._keys = itertools.count()

    def next(self) -> service.NextCard | None:
        with session_scope(self.engine) as s:
            return service.next_card(s, self.user_id, clock=self.clock)

    def grade(self, card: service.NextCard | str, rating: int, key: str | None = None,
              version: int | None = None, **kw: object) -> service.GradeResult:  # fmt: skip
        card_id = card if isinstance(card, str) else card.card_id
        if version is None:
            version = self.version(card_id) if isinstance(card, str) else card.version
        with session_scope(self.engine, write=True) as s:
            return service.grade(
                s, self.user_id, card_id, rating,
                idempotency_key=key or f"k{next(self._keys)}-{uuid.uuid4().hex[:6]}",
                expected_version=version, clock=self.clock, **kw,  # type: ignore[arg-type]
            )  # fmt: skip

    def answer_next(self, rating: int = 3) -> service.GradeResult | None:
        card = self.next()
        return None if card is None else self.grade(card, rating)

    def version(self, card_id: str) -> int:
        from app.models.review import ReviewState

        with session_scope(self.engine) as s:
            row = s.get(ReviewState, (self.user_id, card_id))
            return row.version if row else 0

    def state(self, card_id: str):  # type: ignore[no-untyped-def]
        from app.models.review import ReviewState

        with session_scope(self.engine) as s:
            return s.get(ReviewState, (self.user_id, card_id))

    def counts(self) -> service.QueueCounts:
        with session_scope(self.engine) as s:
            return service.queue_counts(s, self.user_id, clock=self.clock)

    def call(
        self, fn: Callable[..., object], *args: object, write: bool = False, **kw: object
    ) -> object:
        with session_scope(self.engine, write=write) as s:
            return fn(s, self.user_id, *args, clock=self.clock, **kw)


@pytest.fixture
def make_learner(engine: Engine, clock: FixedClock) -> Iterator[Callable[..., Learner]]:
    def make(**settings: object) -> Learner:
        return Learner(engine, add_user(engine, **settings), clock)

    yield make
