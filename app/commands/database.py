from __future__ import annotations

import sqlite3
from pathlib import Path

import typer
from sqlalchemy.engine import make_url

from app import migrate
from app.settings import get_settings

db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_cli.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    url = get_settings().database_url
    migrate.upgrade(url, revision)
    typer.echo(f"database at {make_url(url).render_as_string(hide_password=True)} is at {revision}")


@db_cli.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="Target revision, or 'base'")) -> None:
    """Revert migrations down to REVISION."""
    migrate.downgrade(get_settings().database_url, revision)
    typer.echo(f"downgraded to {revision}")


def backup(path: Path = typer.Argument(..., help="Where to write the copy")) -> None:
    """Write a consistent copy of the live SQLite database (SQLite's backup API)."""
    url = make_url(get_settings().database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        typer.echo("backup: only SQLite databases; use pg_dump for PostgreSQL", err=True)
        raise typer.Exit(2)
    source_path = Path(url.database)
    if not source_path.exists():
        typer.echo(f"backup: {source_path} does not exist", err=True)
        raise typer.Exit(2)
    path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(path)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()
    typer.echo(f"backed up {source_path} to {path}")


def register(cli: typer.Typer) -> None:
    cli.add_typer(db_cli, name="db")
    cli.command()(backup)
