"""A stateless web tier: two uvicorn processes on two ports against one PostgreSQL
database, one learner driven across both (session cookie, CSRF, idempotent grading,
undo, logout), and the demo rate limit shared through Redis."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

from app import migrate
from app.db import make_engine
from app.services import accounts
from app.services.demo_runs import RedisRateLimiter
from tests.conftest import TEST_PASSWORD
from tests.services.scheduling.conftest import add_cards


@pytest.fixture
def pg_deck(postgres_url: str) -> str:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    add_cards(engine, 4)
    with Session(engine) as session:
        accounts.create_user(
            session, "learner", TEST_PASSWORD, role="learner",
            passwords=accounts.passwords_for(1, 8, 1),
        )  # fmt: skip
    engine.dispose()
    return postgres_url


def test_two_web_processes_share_one_learner(pg_deck: str, tmp_path: Path, web_processes) -> None:
    content = tmp_path / "content"
    (content / "cards").mkdir(parents=True)
    (content / "demos").mkdir()
    a, b = web_processes(2, pg_deck, content, BACKPROP_SECRET_KEY="shared-secret-key")
    with httpx.Client(timeout=10) as http:
        token = http.get(a.url("/api/auth/csrf")).json()["csrf_token"]
        login = http.post(
            b.url("/api/auth/login"),
            json={"username": "learner", "password": TEST_PASSWORD},
            headers={"X-CSRF-Token": token},
        )
        assert login.status_code == 200, login.text
        headers = {"X-CSRF-Token": login.json()["csrf_token"]}

        card = http.get(a.url("/api/review/next")).json()["card"]
        assert card is not None
        answer = {"card_id": card["card_id"], "rating": 3, "version": card["version"],
                  "idempotency_key": "k1"}  # fmt: skip
        first = http.post(b.url("/api/review/grade"), json=answer, headers=headers)
        assert first.status_code == 200 and not first.json()["replayed"], first.text
        # The same answer retried through the other process is recognised, not recorded twice.
        again = http.post(a.url("/api/review/grade"), json=answer, headers=headers)
        assert again.status_code == 200 and again.json()["replayed"]
        nxt = http.get(b.url("/api/review/next")).json()["card"]
        assert nxt["card_id"] != card["card_id"]
        undo = http.post(a.url("/api/review/undo"), headers=headers)
        assert undo.status_code == 200 and undo.json()["card_id"] == card["card_id"]
        assert http.post(b.url("/api/review/undo"), headers=headers).status_code == 409

        # Logging out on one process ends the session on both.
        assert http.post(b.url("/api/auth/logout"), headers=headers).status_code in (200, 204)
        assert http.get(a.url("/api/review/next")).status_code == 401


def test_the_demo_rate_limit_is_shared_through_redis(redis_url: str, queue_prefix: str) -> None:
    import redis

    one, two = (redis.Redis.from_url(redis_url) for _ in range(2))
    limits = [RedisRateLimiter(c, queue_prefix, per_minute=6, burst=3) for c in (one, two)]
    assert [limits[i % 2].acquire("user:7") for i in range(3)] == [0, 0, 0]
    wait = limits[1].acquire("user:7")
    assert 1 <= wait <= 10  # the other process's bucket is the same bucket
    assert limits[0].acquire("user:8") == 0  # per learner
    down = RedisRateLimiter(redis.Redis.from_url("redis://127.0.0.1:1/0"), queue_prefix)
    assert down.acquire("user:7") == 0  # Redis down: the run itself is refused, clearly
