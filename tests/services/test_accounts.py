"""Accounts service: users, passwords, session versions, roles and the login rate limit,
on a real SQLite file (and PostgreSQL where the persistence matters)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.models.base import utcnow
from app.models.user import LoginAttempt, User
from app.services import accounts
from app.services.accounts import AccountError, LoginLimits, Passwords

PASSWORD = "correct horse battery"
CHEAP = Passwords(time_cost=1, memory_kib=8, parallelism=1)
LIMITS = LoginLimits(window=timedelta(minutes=15), per_account=3, per_address=5)


def make(session: Session, name: str = "alice", role: str = "learner") -> User:
    return accounts.create_user(session, name, PASSWORD, passwords=CHEAP, role=role)


# --- users and passwords -----------------------------------------------------


def test_create_user_hashes_with_argon2_and_normalises_the_name(session: Session) -> None:
    user = make(session, "  Alice ")
    assert user.username == "alice"
    assert user.role == "learner"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert accounts.get_user_by_username(session, "ALICE").id == user.id  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("al", PASSWORD, "username"),
        ("has space", PASSWORD, "username"),
        ("-dash", PASSWORD, "username"),
        ("x" * 33, PASSWORD, "username"),
        ("alice", "short", "password"),
        ("alice", "x" * 1025, "password"),
        ("alicealice", "AliceAlice", "password"),
    ],
)
def test_create_user_rejects_bad_input_naming_the_field(
    session: Session, username: str, password: str, field: str
) -> None:
    with pytest.raises(AccountError) as info:
        accounts.create_user(session, username, password, passwords=CHEAP)
    assert info.value.field == field


def test_usernames_are_unique_case_insensitively(session: Session) -> None:
    make(session, "alice")
    with pytest.raises(AccountError, match="taken"):
        make(session, "ALICE")


def test_unknown_role_is_refused(session: Session) -> None:
    with pytest.raises(AccountError):
        make(session, "alice", role="superuser")


def test_authenticate(session: Session) -> None:
    user = make(session)
    assert accounts.authenticate(session, "alice", PASSWORD, passwords=CHEAP).id == user.id  # type: ignore[union-attr]
    assert accounts.authenticate(session, "Alice", PASSWORD, passwords=CHEAP) is not None
    assert accounts.authenticate(session, "alice", "wrong password", passwords=CHEAP) is None
    assert accounts.authenticate(session, "nobody", PASSWORD, passwords=CHEAP) is None


def test_unknown_users_cost_a_real_hash_check(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No early return for a missing account: the same Argon2 work is done."""
    calls: list[str] = []
    real = Passwords.verify_unknown

    def spy(self: Passwords, password: str) -> None:
        calls.append(password)
        real(self, password)

    monkeypatch.setattr(Passwords, "verify_unknown", spy)
    assert accounts.authenticate(session, "nobody", "guess", passwords=CHEAP) is None
    result = accounts.log_in(
        session, "nobody", "guess2", "10.0.0.1", passwords=CHEAP, limits=LIMITS
    )
    assert not result.ok
    assert calls == ["guess", "guess2"]


def test_a_hash_made_with_other_parameters_is_upgraded_at_login(session: Session) -> None:
    user = make(session)
    stronger = Passwords(time_cost=2, memory_kib=16, parallelism=1)
    assert accounts.authenticate(session, "alice", PASSWORD, passwords=stronger) is not None
    session.refresh(user)
    assert "m=16,t=2" in user.password_hash
    assert accounts.authenticate(session, "alice", PASSWORD, passwords=stronger) is not None


def test_a_malformed_stored_hash_fails_closed(session: Session) -> None:
    user = make(session)
    user.password_hash = "not-a-hash"
    session.add(user)
    session.commit()
    assert accounts.authenticate(session, "alice", PASSWORD, passwords=CHEAP) is None


def test_to_public_has_no_password_hash(session: Session) -> None:
    public = accounts.to_public(make(session))
    assert "password_hash" not in public.model_dump()
    assert "$argon2" not in public.model_dump_json()


# --- password changes and session versions -------------------------------------


def test_change_password_checks_the_current_one_and_ends_sessions(session: Session) -> None:
    user = make(session)
    version = user.session_version
    with pytest.raises(AccountError) as info:
        accounts.change_password(session, user, "wrong", "a new passphrase", passwords=CHEAP)
    assert info.value.field == "current_password"
    with pytest.raises(AccountError):
        accounts.change_password(session, user, PASSWORD, PASSWORD, passwords=CHEAP)
    with pytest.raises(AccountError):
        accounts.change_password(session, user, PASSWORD, "short", passwords=CHEAP)
    assert user.session_version == version

    accounts.change_password(session, user, PASSWORD, "a new passphrase", passwords=CHEAP)
    assert user.session_version == version + 1
    assert accounts.authenticate(session, "alice", PASSWORD, passwords=CHEAP) is None
    assert accounts.authenticate(session, "alice", "a new passphrase", passwords=CHEAP)
    assert accounts.user_for_session(session, user.id, version) is None  # type: ignore[arg-type]
    assert accounts.user_for_session(session, user.id, version + 1) is not None  # type: ignore[arg-type]


def test_end_all_sessions_bumps_the_version(session: Session) -> None:
    user = make(session)
    before = user.session_version
    accounts.end_all_sessions(session, user)
    assert accounts.user_for_session(session, user.id, before) is None  # type: ignore[arg-type]


def test_user_for_session_of_a_deleted_account(session: Session) -> None:
    assert accounts.user_for_session(session, 12345, 1) is None


# --- roles ---------------------------------------------------------------------


def test_set_role_and_the_last_admin(session: Session) -> None:
    admin = make(session, "root", role="admin")
    learner = make(session, "bob")
    with pytest.raises(AccountError, match="last admin"):
        accounts.set_role(session, admin, "learner")
    accounts.set_role(session, learner, "admin")
    assert accounts.count_admins(session) == 2
    accounts.set_role(session, admin, "learner")
    assert admin.role == "learner"
    with pytest.raises(AccountError):
        accounts.set_role(session, learner, "owner")


# --- the login rate limit --------------------------------------------------------


def fail(session: Session, username: str, address: str, now=None) -> accounts.LoginResult:  # type: ignore[no-untyped-def]
    return accounts.log_in(
        session, username, "wrong password", address, passwords=CHEAP, limits=LIMITS, now=now
    )


def test_per_account_limit_blocks_even_the_right_password_from_that_address(
    session: Session,
) -> None:
    make(session)
    now = utcnow()
    for _ in range(LIMITS.per_account):
        assert fail(session, "alice", "10.0.0.1", now=now).retry_after is None
    blocked = accounts.log_in(
        session, "alice", PASSWORD, "10.0.0.1", passwords=CHEAP, limits=LIMITS, now=now
    )
    assert not blocked.ok
    assert blocked.retry_after is not None
    assert 0 < blocked.retry_after <= LIMITS.window.total_seconds()
    # The owner, elsewhere, is not locked out by someone else's guesses.
    assert accounts.log_in(
        session, "alice", PASSWORD, "10.9.9.9", passwords=CHEAP, limits=LIMITS, now=now
    ).ok
    # Refused attempts are not recorded, so the wait ends when the window passes.
    later = now + LIMITS.window + timedelta(seconds=1)
    ok = accounts.log_in(
        session, "alice", PASSWORD, "10.0.0.1", passwords=CHEAP, limits=LIMITS, now=later
    )
    assert ok.ok


def test_per_account_limit_is_by_normalised_name(session: Session) -> None:
    make(session)
    now = utcnow()
    for name in ("alice", "ALICE", " Alice"):
        fail(session, name, "10.0.0.1", now=now)
    assert accounts.login_retry_after(session, "alice", "10.0.0.1", limits=LIMITS, now=now)
    assert accounts.login_retry_after(session, "alice", "10.0.0.2", limits=LIMITS, now=now) is None


def test_a_success_clears_the_account_failures_before_it(session: Session) -> None:
    make(session)
    now = utcnow()
    for _ in range(LIMITS.per_account - 1):
        fail(session, "alice", "10.0.0.1", now=now)
    ok = accounts.log_in(
        session, "alice", PASSWORD, "10.0.0.1", passwords=CHEAP, limits=LIMITS, now=now
    )
    assert ok.ok
    assert ok.user.last_login_at == now  # type: ignore[union-attr]
    t = now + timedelta(seconds=1)
    for _ in range(LIMITS.per_account - 1):
        assert fail(session, "alice", "10.0.0.1", now=t).retry_after is None


def test_per_address_limit_spans_accounts_and_unknown_names(session: Session) -> None:
    make(session)
    now = utcnow()
    for i in range(LIMITS.per_address):
        assert fail(session, f"guess{i}", "203.0.113.7", now=now).retry_after is None
    refused = accounts.log_in(
        session, "alice", PASSWORD, "203.0.113.7", passwords=CHEAP, limits=LIMITS, now=now
    )
    assert refused.retry_after is not None
    # Another address is not affected.
    assert accounts.log_in(
        session, "alice", PASSWORD, "198.51.100.1", passwords=CHEAP, limits=LIMITS, now=now
    ).ok


def test_retry_after_counts_from_the_oldest_failure_that_matters(session: Session) -> None:
    now = utcnow()
    for minutes in (10, 5, 1):
        fail(session, "alice", "10.0.0.1", now=now - timedelta(minutes=minutes))
    wait = accounts.login_retry_after(session, "alice", "10.0.0.1", limits=LIMITS, now=now)
    # The oldest of the three (10 minutes ago) leaves the 15-minute window in 5 minutes.
    assert wait == pytest.approx(5 * 60, abs=2)


def test_old_attempts_are_pruned(session: Session) -> None:
    now = utcnow()
    fail(session, "alice", "10.0.0.1", now=now - timedelta(days=2))
    fail(session, "alice", "10.0.0.1", now=now)
    rows = session.exec(select(LoginAttempt)).all()
    assert [r.attempted_at for r in rows] == [now]


def test_the_rate_limit_is_shared_through_the_database(any_engine: Engine) -> None:
    """Two web processes are two sessions (two connections) on one database."""
    with Session(any_engine, expire_on_commit=False) as one:
        make(one)
        for _ in range(LIMITS.per_account):
            fail(one, "alice", "10.0.0.1")
    with Session(any_engine, expire_on_commit=False) as two:
        assert accounts.login_retry_after(two, "alice", "10.0.0.1", limits=LIMITS) is not None


def test_passwords_from_settings_uses_the_settings_cost(settings) -> None:  # type: ignore[no-untyped-def]
    assert settings.argon2_parameters() == (1, 8, 1)  # the test environment is cheap
    passwords = accounts.passwords_from_settings(settings)
    assert passwords is accounts.passwords_from_settings(settings)
    assert "m=8,t=1,p=1" in passwords.hash("something long")
    production = settings.model_copy(update={"environment": "production"})
    assert production.argon2_parameters() == (3, 65536, 4)
