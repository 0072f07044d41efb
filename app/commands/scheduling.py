"""`backprop optimize` and `backprop reschedule`: personal parameters and rebuilds."""

from __future__ import annotations

import typer
from sqlalchemy import select

from app.db import configured_engine, session_scope
from app.models.review import ReviewLog
from app.models.user import User


def _user_ids(session, name: str | None, user_id: int | None) -> list[int]:  # type: ignore[no-untyped-def]
    if user_id is not None:
        return [user_id]
    if name is not None:
        found = session.execute(select(User.id).where(User.username == name)).scalar_one_or_none()
        if found is None:
            typer.echo(f"no user named {name!r}", err=True)
            raise typer.Exit(2)
        return [found]
    return list(session.execute(select(ReviewLog.user_id).distinct()).scalars())


def optimize(
    user: str = typer.Option(None, "--user", help="Username"),
    user_id: int = typer.Option(None, "--user-id", help="User id (the settings page's job)"),
) -> None:
    """Fit a learner's FSRS parameters to their own review log (fsrs-rs, seconds)."""
    from app.services.scheduling.optimizer import optimize_user

    if user is None and user_id is None:
        typer.echo("optimize: give --user NAME", err=True)
        raise typer.Exit(2)
    with configured_engine() as engine:
        with session_scope(engine) as session:
            (uid,) = _user_ids(session, user, user_id)
        try:
            with session_scope(engine, write=True) as session:
                report = optimize_user(session, uid)
        except Exception as exc:
            with session_scope(engine, write=True) as session:
                from app.services.scheduling.learner import lock_learner

                row = lock_learner(session, uid)
                row.optimize_status, row.optimize_message = "failed", str(exc)[:500]
            raise
        typer.echo(report.message)
        if report.fitted:
            typer.echo("parameters: " + ", ".join(f"{p:.4f}" for p in report.parameters or []))
            typer.echo("run `backprop reschedule --user NAME` to apply them to existing cards")


def reschedule(
    user: str = typer.Option(None, "--user", help="Username (default: every learner)"),
    check: bool = typer.Option(False, "--check", help="Only compare states with the log"),
) -> None:
    """Replay every review log into fresh states (or --check that they agree)."""
    from app.services.scheduling import replay

    failed = False
    with configured_engine() as engine:
        with session_scope(engine) as session:
            ids = _user_ids(session, user, None)
        for uid in ids:
            if check:
                with session_scope(engine) as session:
                    problems = replay.verify(session, uid)
                failed |= bool(problems)
                typer.echo(
                    f"user {uid}: "
                    + (
                        "states agree with the log"
                        if not problems
                        else f"{len(problems)} differences, e.g. {problems[0]}"
                    )
                )
            else:
                with session_scope(engine, write=True) as session:
                    changed = replay.reschedule(session, uid)
                typer.echo(f"user {uid}: {changed} states rebuilt from the log")
    if failed:
        raise typer.Exit(1)


def register(cli: typer.Typer) -> None:
    cli.command()(optimize)
    cli.command()(reschedule)
