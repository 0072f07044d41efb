"""``backprop check``, ``backprop import`` and ``backprop new-card``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from app.content.problems import ContentError
from app.settings import get_settings

if TYPE_CHECKING:
    from app.services.importer import ImportReport

# Below this many files a progress bar is noise.
_PROGRESS_FROM = 500

_STAGES = {"check": "checking", "render": "rendering", "write": "writing"}


def _content_dir(directory: Path | None) -> Path:
    return directory if directory is not None else get_settings().content_dir


DirArgument = Annotated[
    Path | None,
    typer.Argument(help="The content directory (default: the configured content_dir)"),
]


def check(directory: DirArgument = None) -> None:
    """Validate every card file; print each problem as path:line: message."""
    from app.content.tree import load_deck

    content_dir = _content_dir(directory)
    deck = load_deck(content_dir, cache_path=parse_cache_path())
    for problem in deck.problems:
        typer.echo(str(problem))
    if deck.problems:
        count = len(deck.problems)
        typer.echo(f"{count} problem{'s' if count != 1 else ''}", err=True)
        raise typer.Exit(1)
    translations = sum(len(c.files) - 1 for c in deck.cards.values())
    typer.echo(f"OK: {len(deck.cards)} cards, {translations} translations in {content_dir}")
    _check_exercises(content_dir)


def _check_exercises(content_dir: Path) -> None:
    """Runs each exercise's reference and wrong solutions (reviewed code, in this process)."""
    if not (content_dir / "exercises").is_dir():
        return
    from app.workers.exercise_check import check_exercises

    count, problems = check_exercises(content_dir)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        typer.echo(f"{len(problems)} exercise problem{'s' if len(problems) != 1 else ''}", err=True)
        raise typer.Exit(1)
    typer.echo(f"OK: {count} exercises")


def import_(
    directory: DirArgument = None,
    rerender: Annotated[
        bool, typer.Option("--rerender", help="Re-render every card (after a renderer change)")
    ] = False,
) -> None:
    """Load the content tree into the database in one transaction (run `backprop db upgrade`
    first). Any problem aborts the import and writes nothing."""
    import_content(_content_dir(directory), rerender=rerender)


def import_content(content_dir: Path, *, rerender: bool = False) -> ImportReport:
    """Import ``content_dir`` into the configured database, printing the report (or every
    problem, then exit 1). Used by ``backprop import`` and ``backprop start``."""
    from app.content.tree import card_files
    from app.db import configured_engine, session_scope
    from app.services.importer import import_tree

    many = (content_dir / "cards").is_dir() and len(card_files(content_dir)) >= _PROGRESS_FROM
    try:
        with (
            configured_engine(get_settings().database_url) as engine,
            Progress(
                TextColumn("{task.description:<10}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                disable=not many,
                auto_refresh=False,  # no refresh thread: rendering may fork workers
                transient=True,
            ) as bar,
        ):
            tasks: dict[str, TaskID] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total)
                bar.update(tasks[stage], completed=done, total=total, refresh=True)

            with session_scope(engine, write=True) as session:
                report = import_tree(
                    session,
                    content_dir,
                    progress=progress,
                    rerender=rerender,
                    cache_path=parse_cache_path(),
                )
    except ContentError as exc:
        for problem in exc.problems:
            typer.echo(str(problem))
        typer.echo(f"import aborted, nothing written: {len(exc.problems)} problem(s)", err=True)
        raise typer.Exit(1) from None
    typer.echo(str(report))
    return report


def parse_cache_path() -> Path:
    """Where ``check`` and ``import`` keep the parse cache (content-addressed, disposable)."""
    return get_settings().data_dir / "parse-cache"


def new_card(
    title: Annotated[str, typer.Option("--title", help="The question's display title")],
    deck: Annotated[str, typer.Option("--deck", help="Topic path, e.g. training/gradients")],
    difficulty: Annotated[
        str, typer.Option("--difficulty", help="easy, medium or hard")
    ] = "medium",
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag (repeat for more)")] = None,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="The content directory (default: configured)")
    ] = None,
) -> None:
    """Write a card skeleton with a fresh id made from the title, and print its path."""
    from app.services.importer import new_card_file

    content_dir = _content_dir(directory)
    try:
        path = new_card_file(
            content_dir,
            title,
            deck,
            difficulty=difficulty,
            tags=tag or (),
            taken=_ids_in_database(),
        )
    except ValueError as exc:
        typer.echo(f"new-card: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(str(path))


def _ids_in_database() -> set[str]:
    """Ids and former ids already in the database, so a retired id is never reused.
    Empty when there is no database yet: the tree's file names still count."""
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session, select

    from app.db import configured_engine
    from app.models import Card, CardAlias

    try:
        with configured_engine(get_settings().database_url) as engine, Session(engine) as session:
            return set(session.exec(select(Card.id)).all()) | set(
                session.exec(select(CardAlias.alias)).all()
            )
    except SQLAlchemyError:
        return set()


def register(cli: typer.Typer) -> None:
    cli.command("check")(check)
    cli.command("import")(import_)
    cli.command("new-card")(new_card)
