"""Accounts under ordinary concurrency: sign-ups, password changes and a burst of
wrong passwords, each from threads with their own connection (as web requests are)."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from app.models.user import LoginAttempt
from app.services import accounts
from app.services.accounts import (
    HASH_NICENESS,
    AccountError,
    HashingBusy,
    LoginLimits,
    Passwords,
)

# Costly enough that a hash takes a few milliseconds: the window in which a transaction
# held across it would be overtaken.
SLOW = Passwords(time_cost=2, memory_kib=4096, parallelism=1, concurrency=64)
PASSWORD = "correct horse battery"


def in_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    """work(i) for i < n, started together; each returns its value or its exception."""
    start = threading.Barrier(n)

    def run(i: int) -> Any:
        start.wait()
        try:
            return work(i)
        except Exception as exc:  # collected: the assertion names what was raised
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_forty_concurrent_signups_all_succeed(any_engine: Engine) -> None:
    def sign_up(i: int) -> str:
        with Session(any_engine, expire_on_commit=False) as s:
            return accounts.create_user(s, f"user{i:02d}", PASSWORD, passwords=SLOW).username

    results = in_threads(40, sign_up)
    assert [r for r in results if not isinstance(r, str)] == []
    assert sorted(results) == [f"user{i:02d}" for i in range(40)]


def test_one_name_signed_up_at_once_is_taken_cleanly(any_engine: Engine) -> None:
    def sign_up(_: int) -> str:
        with Session(any_engine, expire_on_commit=False) as s:
            return accounts.create_user(s, "same", PASSWORD, passwords=SLOW).username

    results = in_threads(12, sign_up)
    assert results.count("same") == 1
    others = [r for r in results if r != "same"]
    assert all(isinstance(r, AccountError) and "taken" in r.message for r in others), others


def test_concurrent_password_changes_one_wins_none_fail(any_engine: Engine) -> None:
    with Session(any_engine, expire_on_commit=False) as s:
        user_id = accounts.create_user(s, "alice", PASSWORD, passwords=SLOW).id
        assert user_id is not None

    def change(i: int) -> str:
        with Session(any_engine, expire_on_commit=False) as s:
            user = accounts.get_user(s, user_id)
            assert user is not None
            accounts.change_password(s, user, PASSWORD, f"new passphrase {i}", passwords=SLOW)
            return "ok"

    results = in_threads(8, change)
    assert results.count("ok") == 1, results
    assert all(isinstance(r, AccountError) for r in results if r != "ok"), results
    with Session(any_engine) as s:
        user = accounts.get_user(s, user_id)
        assert user is not None and user.session_version == 2


def test_a_burst_of_wrong_passwords_checks_no_more_than_the_limit(any_engine: Engine) -> None:
    limits = LoginLimits(window=timedelta(minutes=15), per_account=5, per_address=100)
    with Session(any_engine, expire_on_commit=False) as s:
        accounts.create_user(s, "alice", PASSWORD, passwords=SLOW)

    def guess(i: int) -> int | None:
        with Session(any_engine, expire_on_commit=False) as s:
            result = accounts.log_in(
                s, "alice", f"guess {i}", "10.0.0.1", passwords=SLOW, limits=limits
            )
            assert not result.ok
            return result.retry_after

    results = in_threads(30, guess)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert sum(r is None for r in results) == 5  # checked; the other 25 were refused
    with Session(any_engine) as s:
        recorded = s.exec(select(func.count()).select_from(LoginAttempt)).one()
    assert recorded == 5


def test_concurrent_hashes_are_capped() -> None:
    passwords = Passwords(time_cost=1, memory_kib=8, parallelism=1, concurrency=2, wait_s=5)
    stored = passwords.hash(PASSWORD)
    running, peak, lock = 0, 0, threading.Lock()
    real = passwords._hash.verify_and_update

    def tracked(password: str, hashed: str) -> tuple[bool, str | None]:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return real(password, hashed)

    passwords._hash.verify_and_update = tracked  # type: ignore[method-assign]
    results = in_threads(10, lambda _: passwords.verify(PASSWORD, stored)[0])
    assert results == [True] * 10
    assert peak == 2


def test_a_hash_that_cannot_get_a_slot_is_refused_with_503() -> None:
    passwords = Passwords(time_cost=1, memory_kib=8, parallelism=1, concurrency=1, wait_s=0.05)
    with passwords._slot():
        try:
            passwords.hash(PASSWORD)
        except HashingBusy as exc:
            assert exc.status == 503 and "try again" in exc.message
        else:
            raise AssertionError("a hash ran without a free slot")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_hashes_run_at_a_lower_cpu_priority_than_the_requests_that_ask() -> None:
    """Forty sign-ups must not starve the event loop: Argon2 runs niced."""
    passwords = Passwords(time_cost=1, memory_kib=8, parallelism=1)
    seen: list[int] = []
    real = passwords._hash.hash

    def spy(password: str) -> str:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return real(password)

    passwords._hash.hash = spy  # type: ignore[method-assign]
    assert passwords.verify(PASSWORD, passwords.hash(PASSWORD))[0]
    caller = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert seen == [min(19, caller + HASH_NICENESS)]
