"""The shared login and sign-up rate limits, and the whole login check.

Attempts are counted in ``login_attempt`` per account and client address; the check and
the attempt are one writer transaction, committed before any password work."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, text, update
from sqlmodel import Session, col, select

from app.db import begin_write
from app.models.base import utcnow
from app.models.user import LoginAttempt, User
from app.services.passwords import Passwords
from app.services.users import get_user_by_username, normalize_username
from app.settings import Settings

ADDRESS_MAX_LENGTH = 64
ATTEMPT_RETENTION = timedelta(days=1)
# Sign-ups are counted in login_attempt under this name, which no username can take
# (usernames start with a letter or digit), so the login limits never see them.
SIGNUP_MARK = "+signup"


@dataclass(frozen=True)
class SignupLimits:
    window: timedelta = timedelta(hours=1)
    per_address: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> SignupLimits:
        return cls(
            window=timedelta(seconds=settings.signup_window_s),
            per_address=settings.signup_max_per_address,
        )


def record_signup_attempt(
    session: Session, address: str, *, limits: SignupLimits, now: datetime | None = None
) -> int | None:
    """Counts a sign-up attempt from this address, atomically with the check; returns
    the seconds to wait when the address is over its limit (nothing recorded), else None
    (recorded and committed)."""
    now = now or utcnow()
    session.rollback()
    begin_write(session)
    _lock_address(session, "signup", address)
    wait = _seconds_until_below(
        session,
        [
            LoginAttempt.username == SIGNUP_MARK,
            LoginAttempt.address == address[:ADDRESS_MAX_LENGTH],
            LoginAttempt.attempted_at > now - limits.window,
        ],
        limits.per_address,
        limits.window,
        now,
        failed_only=False,
    )
    if wait is not None:
        session.rollback()
        return wait
    _add_attempt(session, SIGNUP_MARK, address, True, now)
    session.commit()
    return None


@dataclass(frozen=True)
class LoginLimits:
    """Failed logins allowed per window, per account and per client address."""

    window: timedelta = timedelta(minutes=15)
    per_account: int = 5
    per_address: int = 20

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimits:
        return cls(
            window=timedelta(seconds=settings.login_window_s),
            per_account=settings.login_max_failures_per_account,
            per_address=settings.login_max_failures_per_address,
        )


def _seconds_until_below(
    session: Session,
    where: list,
    limit: int,
    window: timedelta,
    now: datetime,
    *,
    failed_only: bool = True,
) -> int | None:
    """Seconds until fewer than ``limit`` attempts (failures only, by default) match
    ``where`` in the window, or None."""
    if failed_only:
        where = [*where, col(LoginAttempt.succeeded).is_(False)]
    recent = session.exec(
        select(LoginAttempt.attempted_at)
        .where(*where)
        .order_by(col(LoginAttempt.attempted_at).desc())
        .limit(limit)
    ).all()
    if len(recent) < limit:
        return None
    # Once the limit-th newest failure leaves the window, fewer than `limit` remain.
    free_at = recent[limit - 1] + window
    return max(1, int((free_at - now).total_seconds() + 0.999))


def login_retry_after(
    session: Session,
    username: str,
    address: str,
    *,
    limits: LoginLimits,
    now: datetime | None = None,
) -> int | None:
    """Seconds to wait before another login for this account from this address, or from
    this address at all; None when allowed.

    The account limit counts failures per account AND address, so someone guessing
    from elsewhere cannot lock the owner out; the address limit spans every name (a
    guesser cycling through accounts). Per account and address, a success clears the
    failures before it (an attacker cannot produce one); per address it does not (an
    attacker could, with an account of their own)."""
    now = now or utcnow()
    name = normalize_username(username)[:64]
    where_from = LoginAttempt.address == address[:ADDRESS_MAX_LENGTH]
    since = now - limits.window
    last_success = session.exec(
        select(func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.username == name,
            where_from,
            col(LoginAttempt.succeeded).is_(True),
            LoginAttempt.attempted_at > since,
        )
    ).one()
    account_since = max(since, last_success) if last_success else since
    waits = [
        _seconds_until_below(
            session,
            [LoginAttempt.username == name, where_from, LoginAttempt.attempted_at > account_since],
            limits.per_account,
            limits.window,
            now,
        ),
        _seconds_until_below(
            session,
            [where_from, LoginAttempt.attempted_at > since],
            limits.per_address,
            limits.window,
            now,
        ),
    ]
    blocked = [w for w in waits if w is not None]
    return max(blocked) if blocked else None


def _lock_address(session: Session, purpose: str, address: str) -> None:
    """Serialise the check-and-record of one client address. SQLite's writer transaction
    already does (begin_write); PostgreSQL gets a transaction-scoped advisory lock."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(f"{purpose}:{address}".encode(), digest_size=8).digest()
    key = int.from_bytes(digest, "big", signed=True)
    session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=key))


def _add_attempt(
    session: Session, username: str, address: str, succeeded: bool, now: datetime
) -> LoginAttempt:
    session.exec(
        delete(LoginAttempt).where(col(LoginAttempt.attempted_at) < now - ATTEMPT_RETENTION)
    )
    attempt = LoginAttempt(
        username=username[:64],
        address=address[:ADDRESS_MAX_LENGTH],
        succeeded=succeeded,
        attempted_at=now,
    )
    session.add(attempt)
    return attempt


def record_login_attempt(
    session: Session,
    username: str,
    address: str,
    succeeded: bool,
    *,
    now: datetime | None = None,
) -> None:
    """Adds one attempt and prunes attempts older than a day. Commits."""
    _add_attempt(session, normalize_username(username), address, succeeded, now or utcnow())
    session.commit()


@dataclass(frozen=True)
class LoginResult:
    user: User | None = None
    retry_after: int | None = None  # set when the rate limit refused to check the password

    @property
    def ok(self) -> bool:
        return self.user is not None


def log_in(
    session: Session,
    username: str,
    password: str,
    address: str,
    *,
    passwords: Passwords,
    limits: LoginLimits,
    now: datetime | None = None,
) -> LoginResult:
    """The whole login check: the rate limit, the password, then ``last_login_at``.

    The check and the attempt (recorded as a failure) are one writer transaction,
    committed before any password work: concurrent guesses queue on the write lock and
    each sees the ones before it, so no more than the limit are ever checked. Argon2
    then runs with no transaction open (and at most `concurrency` at once); a success
    turns the attempt into a success in a second, short transaction. A refused
    (rate-limited) attempt is not recorded, so the wait ends when the window passes.
    """
    now = now or utcnow()
    name = normalize_username(username)
    session.rollback()
    begin_write(session)
    _lock_address(session, "login", address)
    retry_after = login_retry_after(session, name, address, limits=limits, now=now)
    if retry_after is not None:
        session.rollback()
        return LoginResult(retry_after=retry_after)
    user = get_user_by_username(session, name)
    attempt = _add_attempt(session, name, address, False, now)
    session.commit()
    new_hash: str | None = None
    if user is None:
        passwords.verify_unknown(password)
        ok = False
    else:
        ok, new_hash = passwords.verify(password, user.password_hash)
    if not ok or user is None:
        return LoginResult()
    begin_write(session)
    session.exec(
        update(LoginAttempt).where(col(LoginAttempt.id) == attempt.id).values(succeeded=True)
    )
    values: dict[str, object] = {"last_login_at": now}
    if new_hash:
        values["password_hash"] = new_hash
    session.exec(update(User).where(col(User.id) == user.id).values(**values))
    session.commit()
    session.refresh(user)
    return LoginResult(user=user)
