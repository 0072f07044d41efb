"""Accounts, under one name: sign-up, password checks, the shared login rate limit,
sessions, roles.

A facade: the users and their validation live in `users`, Argon2 hashing in `passwords`,
the login and sign-up rate limits and the login check in `login_limits`. New code may
import from those directly; this one re-exports every name callers used before the split.

No fastapi here: the web layer and the CLI call these with a Session. Every function
that changes something commits, in a writer transaction (``app.db.begin_write``), and
never hashes a password while a transaction is open: Argon2 takes tens of milliseconds
to seconds, and a SQLite read that waits that long before writing is overtaken.
"""

from __future__ import annotations

from app.services.login_limits import (
    ADDRESS_MAX_LENGTH,
    ATTEMPT_RETENTION,
    SIGNUP_MARK,
    LoginLimits,
    LoginResult,
    SignupLimits,
    log_in,
    login_retry_after,
    record_login_attempt,
    record_signup_attempt,
)
from app.services.passwords import (
    HASH_NICENESS,
    HashingBusy,
    Passwords,
    passwords_for,
    passwords_from_settings,
)
from app.services.users import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    USERNAME_RE,
    AccountError,
    authenticate,
    change_password,
    count_admins,
    create_user,
    end_all_sessions,
    get_user,
    get_user_by_username,
    normalize_username,
    public_user_for_session,
    revoke_session,
    set_password,
    set_role,
    to_public,
    user_for_session,
    validate_password,
    validate_username,
)

__all__ = [
    "ADDRESS_MAX_LENGTH", "ATTEMPT_RETENTION", "HASH_NICENESS", "PASSWORD_MAX_LENGTH",
    "PASSWORD_MIN_LENGTH",
    "SIGNUP_MARK", "USERNAME_RE", "AccountError", "HashingBusy", "LoginLimits", "LoginResult",
    "Passwords", "SignupLimits", "authenticate", "change_password", "count_admins",
    "create_user", "end_all_sessions", "get_user", "get_user_by_username", "log_in",
    "login_retry_after", "normalize_username", "passwords_for", "passwords_from_settings",
    "public_user_for_session", "record_login_attempt", "record_signup_attempt",
    "revoke_session", "set_password", "set_role", "to_public", "user_for_session",
    "validate_password", "validate_username",
]  # fmt: skip
