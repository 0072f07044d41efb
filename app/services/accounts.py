"""Accounts: sign-up, password checks, the shared login rate limit, sessions, roles.

No fastapi here: the web layer and the CLI call these with a Session. Every function
that changes something commits, in a writer transaction (``app.db.begin_write``), and
never hashes a password while a transaction is open: Argon2 takes tens of milliseconds
to seconds, and a SQLite read that waits that long before writing is overtaken.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import bindparam, delete, exists, func, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.db import begin_write, read_rows
from app.models.base import utcnow
from app.models.user import ROLES, LoginAttempt, RevokedSession, User, UserPublic
from app.services.errors import ServiceError
from app.settings import Settings

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 1024  # a bound on hashing work; Argon2 itself has none worth hitting
ADDRESS_MAX_LENGTH = 64
ATTEMPT_RETENTION = timedelta(days=1)
# Sign-ups are counted in login_attempt under this name, which no username can take
# (usernames start with a letter or digit), so the login limits never see them.
SIGNUP_MARK = "+signup"


class AccountError(ValueError):
    """A problem the person can fix; ``field`` names the form field it is about."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- passwords ---------------------------------------------------------------


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


# --- validation --------------------------------------------------------------


def normalize_username(raw: str) -> str:
    """Usernames are case-insensitive: stored and compared lowercased and stripped."""
    return raw.strip().lower()


def validate_username(username: str) -> str:
    name = normalize_username(username)
    if not USERNAME_RE.match(name):
        raise AccountError(
            "Username: 3 to 32 characters, letters, digits, '.', '_' or '-', "
            "starting with a letter or digit.",
            field="username",
        )
    return name


def validate_password(password: str, username: str = "") -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise AccountError(
            f"Password: at least {PASSWORD_MIN_LENGTH} characters.", field="password"
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise AccountError(f"Password: at most {PASSWORD_MAX_LENGTH} characters.", field="password")
    if username and password.strip().lower() == normalize_username(username):
        raise AccountError("Password: must not be the username.", field="password")


def to_public(user: User) -> UserPublic:
    """The only form of a user that templates and JSON may see (no password hash)."""
    return UserPublic.model_validate(user)


# --- users -------------------------------------------------------------------


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def get_user_by_username(session: Session, username: str) -> User | None:
    name = normalize_username(username)
    return session.exec(select(User).where(User.username == name)).first()


def user_for_session(session: Session, user_id: int, session_version: int) -> User | None:
    """The user a session cookie names, or None when the account is gone or the cookie
    predates a password change / "log out everywhere" (its version is stale)."""
    user = session.get(User, user_id)
    if user is None or user.session_version != session_version:
        return None
    return user


_SESSION_USER = select(
    User.id, User.username, User.role, User.locale, User.created_at, User.last_login_at,
    User.session_version,
).where(
    col(User.id) == bindparam("user_id"),
    ~exists().where(col(RevokedSession.nonce) == bindparam("nonce")),
)  # fmt: skip


def public_user_for_session(
    session: Session, user_id: int, session_version: int, nonce: str = ""
) -> UserPublic | None:
    """``to_public(user_for_session(...))`` in one cheap read (the columns UserPublic
    shows and the session version; no User row is loaded): it runs on every request.
    None as well when this cookie (its ``nonce``) was logged out."""
    row = read_rows(session, _SESSION_USER, {"user_id": user_id, "nonce": nonce}).first()
    if row is None or row.session_version != session_version:
        return None
    return UserPublic(
        id=row.id, username=row.username, role=row.role, locale=row.locale,
        created_at=row.created_at, last_login_at=row.last_login_at,
    )  # fmt: skip


def create_user(
    session: Session,
    username: str,
    password: str,
    *,
    passwords: Passwords,
    role: str = "learner",
) -> User:
    """Creates an account. Raises AccountError for a bad or taken username, a weak
    password or an unknown role. Hashes first, then checks the name and writes in one
    writer transaction. Commits."""
    name = validate_username(username)
    validate_password(password, name)
    if role not in ROLES:
        raise AccountError(f"Role: one of {', '.join(ROLES)}.", field="role")
    session.rollback()  # no transaction (and no SQLite snapshot) held while hashing
    password_hash = passwords.hash(password)
    begin_write(session)
    if get_user_by_username(session, name) is not None:
        session.rollback()
        raise AccountError("That username is taken.", field="username")
    user = User(username=name, role=role, password_hash=password_hash)
    session.add(user)
    try:
        session.commit()
    except IntegrityError as exc:  # two sign-ups raced for the name (PostgreSQL)
        session.rollback()
        raise AccountError("That username is taken.", field="username") from exc
    session.refresh(user)
    return user


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


def authenticate(
    session: Session, username: str, password: str, *, passwords: Passwords
) -> User | None:
    """The user when the password matches, else None. Takes about as long for an unknown
    username as for a wrong password. Does not touch the rate limit (see ``log_in``).
    Upgrades a hash made with other Argon2 parameters (and then commits)."""
    user = get_user_by_username(session, username)
    session.rollback()  # no transaction held while hashing
    if user is None:
        passwords.verify_unknown(password)
        return None
    ok, new_hash = passwords.verify(password, user.password_hash)
    if not ok:
        return None
    if new_hash:
        begin_write(session)
        session.exec(update(User).where(col(User.id) == user.id).values(password_hash=new_hash))
        session.commit()
        session.refresh(user)
    return user


def change_password(
    session: Session,
    user: User,
    current_password: str,
    new_password: str,
    *,
    passwords: Passwords,
) -> User:
    """Checks the current password, sets the new one and ends every other session (the
    session version goes up; the caller re-issues its own cookie). Raises AccountError.
    Commits."""
    session.rollback()  # hashing below: hold no transaction meanwhile
    ok, _ = passwords.verify(current_password, user.password_hash)
    if not ok:
        raise AccountError("Current password is wrong.", field="current_password")
    if new_password == current_password:
        raise AccountError("New password: must differ from the current one.", field="password")
    return set_password(
        session, user, new_password, passwords=passwords, expected_hash=user.password_hash
    )


def set_password(
    session: Session,
    user: User,
    new_password: str,
    *,
    passwords: Passwords,
    expected_hash: str | None = None,
) -> User:
    """Sets a password without the current one (admin reset, CLI) and ends every session.
    With ``expected_hash``, refuses when the password changed since it was read (two
    changes at once). Raises AccountError. Commits."""
    validate_password(new_password, user.username)
    session.rollback()
    new_hash = passwords.hash(new_password)
    begin_write(session)
    values = {
        "password_hash": new_hash,
        "password_changed_at": utcnow(),
        "session_version": User.session_version + 1,
    }
    statement = update(User).where(col(User.id) == user.id)
    if expected_hash is not None:
        statement = statement.where(col(User.password_hash) == expected_hash)
    changed = session.exec(statement.values(**values)).rowcount
    if not changed:
        session.rollback()
        raise AccountError(
            "The password was changed meanwhile; log in again.", field="current_password"
        )
    session.commit()
    session.refresh(user)
    return user


def end_all_sessions(session: Session, user: User) -> User:
    """ "Log out everywhere": every cookie issued so far stops working. Commits."""
    session.rollback()
    begin_write(session)
    session.exec(
        update(User).where(col(User.id) == user.id).values(session_version=User.session_version + 1)
    )
    session.commit()
    session.refresh(user)
    return user


def revoke_session(
    session: Session, user_id: int, nonce: str, *, max_age_s: int, now: datetime | None = None
) -> None:
    """ "Log out": this cookie (its nonce) stops working; others of the account do not.
    Forgets revocations older than ``max_age_s`` (those cookies expired anyway). Commits."""
    now = now or utcnow()
    session.rollback()
    begin_write(session)
    session.exec(
        delete(RevokedSession).where(
            col(RevokedSession.revoked_at) < now - timedelta(seconds=max_age_s)
        )
    )
    if session.get(RevokedSession, nonce) is None:
        session.add(RevokedSession(nonce=nonce[:64], user_id=user_id, revoked_at=now))
    session.commit()


def count_admins(session: Session) -> int:
    return session.exec(select(func.count()).select_from(User).where(User.role == "admin")).one()


def set_role(session: Session, user: User, role: str) -> User:
    """Makes the user a learner or an admin. Refuses to demote the last admin. Takes
    effect on the user's next request (roles are read from the database each time).
    Commits."""
    if role not in ROLES:
        raise AccountError(f"Role: one of {', '.join(ROLES)}.", field="role")
    if user.role == "admin" and role != "admin" and count_admins(session) <= 1:
        raise AccountError("Cannot demote the last admin.", field="role")
    user.role = role
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


# --- the login rate limit ----------------------------------------------------


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
