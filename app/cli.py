"""The `backprop` command. Each group of subcommands lives in app/commands/."""

from __future__ import annotations

import typer

from app.commands import accounts, content, database, demos, scheduling, server, worker

cli = typer.Typer(
    help="Backprop: spaced-repetition practice for deep-learning interviews.",
    no_args_is_help=True,
    add_completion=False,
)
server.register(cli)
database.register(cli)
content.register(cli)
accounts.register(cli)
scheduling.register(cli)
demos.register(cli)
worker.register(cli)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
