"""check, import and new-card (being written)."""

from __future__ import annotations

import typer


def register(cli: typer.Typer) -> None:
    del cli
