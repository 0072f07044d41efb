"""Argon2id password hashing at one cost, with a cap on hashes at once (each holds its
memory): the slow part of every login and sign-up, always outside a transaction."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.services.errors import ServiceError
from app.settings import Settings


class HashingBusy(ServiceError):
    """Every Argon2 slot stayed taken for the whole wait."""

    code = "busy"
    status = 503

    def __init__(self) -> None:
        super().__init__("Too many logins at once. Please try again in a few seconds.")


# How much lower than the web process's own the CPU priority of Argon2 work is (a nice
# increment). Each hash keeps ``parallelism`` threads busy for tens of milliseconds to
# seconds: at equal priority forty sign-ups on two cores leave the event loop a small
# share of the CPU, and /healthz (or any page) waits behind them.
HASH_NICENESS = 10
T = TypeVar("T")


def _lower_priority() -> None:
    """Runs on each hashing thread when it starts; the threads Argon2 starts for its
    lanes inherit the priority (Linux keeps a nice value per thread)."""
    try:
        me = threading.get_native_id()
        os.setpriority(
            os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + HASH_NICENESS)
        )
    except (AttributeError, OSError):  # not Linux, or not allowed: hash at normal priority
        pass


class Passwords:
    """Argon2id hashing at one cost. ``verify_unknown`` spends the time of a real check,
    so a login for a missing account takes as long as a wrong password. At most
    ``concurrency`` hashes run at once (each holds ``memory_kib``); the others wait up
    to ``wait_s`` and then raise HashingBusy. The hashes run on threads of their own at
    a lower CPU priority (HASH_NICENESS), so requests that need little CPU stay quick
    while sign-ups and logins hash."""

    def __init__(
        self,
        time_cost: int = 3,
        memory_kib: int = 65536,
        parallelism: int = 4,
        *,
        concurrency: int = 4,
        wait_s: float = 10.0,
    ) -> None:
        self._hash = PasswordHash(
            (Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism),)
        )
        self._slots = threading.BoundedSemaphore(concurrency)
        self._wait_s = wait_s
        self._threads = ThreadPoolExecutor(
            concurrency, thread_name_prefix="argon2", initializer=_lower_priority
        )
        self._dummy_hash = self._hash.hash("backprop-dummy-password")

    @contextmanager
    def _slot(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self._wait_s):
            raise HashingBusy()
        try:
            yield
        finally:
            self._slots.release()

    def _run(self, work: Callable[[], T]) -> T:
        """``work`` on a hashing thread, once a slot is free (a slot per thread, so the
        pool never queues)."""
        with self._slot():
            return self._threads.submit(work).result()

    def hash(self, password: str) -> str:
        return self._run(lambda: self._hash.hash(password))

    def verify(self, password: str, password_hash: str) -> tuple[bool, str | None]:
        """(matches, a new hash when the stored one used other parameters, else None)."""

        def check() -> tuple[bool, str | None]:
            try:
                return self._hash.verify_and_update(password, password_hash)
            except Exception:  # a malformed stored hash is a failed check, never a 500
                return False, None

        return self._run(check)

    def verify_unknown(self, password: str) -> None:
        self._run(lambda: self._hash.verify(password, self._dummy_hash))


@lru_cache(maxsize=8)
def passwords_for(
    time_cost: int, memory_kib: int, parallelism: int, concurrency: int = 4, wait_s: float = 10.0
) -> Passwords:
    return Passwords(time_cost, memory_kib, parallelism, concurrency=concurrency, wait_s=wait_s)


def passwords_from_settings(settings: Settings) -> Passwords:
    """The shared Passwords for these settings' Argon2 cost (cheap when environment=test)
    and concurrency cap."""
    return passwords_for(
        *settings.argon2_parameters(),
        settings.password_hash_concurrency,
        settings.password_hash_wait_s,
    )
