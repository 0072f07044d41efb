"""``backprop create-admin``, ``create-user``, ``set-role`` and ``set-password``."""

from __future__ import annotations

import sys

import typer

from app.settings import get_settings

PASSWORD_STDIN_HELP = "Read the password from the first line of standard input (scripts)."


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


def _create(username: str, role: str, password_stdin: bool) -> None:
    from app.db import configured_engine, session_scope
    from app.services import accounts

    settings = get_settings()
    with configured_engine() as engine, session_scope(engine, write=True) as session:
        if accounts.get_user_by_username(session, username) is not None:
            hint = f"; use `backprop set-role {username} {role}`" if role == "admin" else ""
            raise _fail(f"{accounts.normalize_username(username)}: already exists{hint}")
        password = _read_password(password_stdin)
        try:
            user = accounts.create_user(
                session,
                username,
                password,
                role=role,
                passwords=accounts.passwords_from_settings(settings),
            )
        except accounts.AccountError as exc:
            raise _fail(exc.message) from exc
        typer.echo(f"created {user.role} {user.username} (id {user.id})")


def create_admin(
    username: str = typer.Argument(..., help="The admin's username"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=PASSWORD_STDIN_HELP),
) -> None:
    """Create an admin account (the first admin is made this way). Prompts for the password."""
    _create(username, "admin", password_stdin)


def create_user(
    username: str = typer.Argument(..., help="The username"),
    admin: bool = typer.Option(False, "--admin", help="Make the account an admin"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=PASSWORD_STDIN_HELP),
) -> None:
    """Create an account (also when sign-up is closed). Prompts for the password."""
    _create(username, "admin" if admin else "learner", password_stdin)


def set_role(
    username: str = typer.Argument(..., help="The username"),
    role: str = typer.Argument(..., help="learner or admin"),
) -> None:
    """Make an account a learner or an admin (the last admin cannot be demoted)."""
    from app.db import configured_engine, session_scope
    from app.services import accounts

    with configured_engine() as engine, session_scope(engine, write=True) as session:
        user = accounts.get_user_by_username(session, username)
        if user is None:
            raise _fail(f"{accounts.normalize_username(username)}: no such account")
        try:
            accounts.set_role(session, user, role)
        except accounts.AccountError as exc:
            raise _fail(exc.message) from exc
        typer.echo(f"{user.username} is now {user.role}")


def set_password(
    username: str = typer.Argument(..., help="The username"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=PASSWORD_STDIN_HELP),
) -> None:
    """Set an account's password and log out all its sessions. Prompts for the password."""
    from app.db import configured_engine, session_scope
    from app.services import accounts

    settings = get_settings()
    with configured_engine() as engine, session_scope(engine, write=True) as session:
        user = accounts.get_user_by_username(session, username)
        if user is None:
            raise _fail(f"{accounts.normalize_username(username)}: no such account")
        try:
            accounts.set_password(
                session,
                user,
                _read_password(password_stdin),
                passwords=accounts.passwords_from_settings(settings),
            )
        except accounts.AccountError as exc:
            raise _fail(exc.message) from exc
        typer.echo(f"password set for {user.username}; its sessions are logged out")


def register(cli: typer.Typer) -> None:
    cli.command("create-admin")(create_admin)
    cli.command("create-user")(create_user)
    cli.command("set-role")(set_role)
    cli.command("set-password")(set_password)
