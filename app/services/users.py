"""Accounts: validation, sign-up, password changes, sessions and roles.

No fastapi here: the web layer and the CLI call these with a Session. Every function
that changes something commits, in a writer transaction (``app.db.begin_write``), and
never hashes a password while a transaction is open: Argon2 takes tens of milliseconds
to seconds, and a SQLite read that waits that long before writing is overtaken."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, exists, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.db import begin_write, read_rows
from app.models.base import utcnow
from app.models.user import ROLES, RevokedSession, User, UserPublic
from app.services.errors import ServiceError
from app.services.passwords import Passwords

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 1024  # a bound on hashing work; Argon2 itself has none worth hitting


class AccountError(ServiceError, ValueError):
    """A problem the person can fix; ``field`` names the form field it is about. (Still a
    ValueError, for callers that catch it as one.)"""

    code, status = "invalid_account", 422

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


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
