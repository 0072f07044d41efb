"""backprop check / import / new-card."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from app.models import Card
from app.settings import Settings

CARD = """---
id: first-card
title: First card
deck: basics
difficulty: easy
demo: none
---
## Question
Q

## Answer
A
"""


@pytest.fixture
def configured(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setattr("app.commands.content.get_settings", lambda: settings)
    return settings


def test_check_prints_every_problem_and_fails(configured: Settings, content_dir: Path):
    (content_dir / "cards" / "first-card.md").write_text(CARD.replace("## Answer", "## Answr"))
    result = CliRunner().invoke(cli, ["check"])
    assert result.exit_code == 1
    path = content_dir / "cards" / "first-card.md"
    assert f'{path}:11: unknown section "## Answr"' in result.output
    assert f'{path}:8: missing section "## Answer"' in result.output


def test_check_ok(configured: Settings, content_dir: Path):
    (content_dir / "cards" / "first-card.md").write_text(CARD)
    result = CliRunner().invoke(cli, ["check", str(content_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 1 cards, 0 translations")


def test_import_reports_and_is_idempotent(configured: Settings, content_dir: Path, engine):
    (content_dir / "cards" / "first-card.md").write_text(CARD)
    first = CliRunner().invoke(cli, ["import"])
    assert first.exit_code == 0, first.output
    assert "1 added, 0 changed, 0 retired, 0 unchanged" in first.output
    again = CliRunner().invoke(cli, ["import"])
    assert "0 added, 0 changed, 0 retired, 1 unchanged" in again.output
    with Session(engine) as session:
        assert session.exec(select(Card.id)).all() == ["first-card"]


def test_import_with_problems_writes_nothing(configured: Settings, content_dir: Path, engine):
    (content_dir / "cards" / "first-card.md").write_text(CARD)
    (content_dir / "cards" / "bad.md").write_text(CARD)
    result = CliRunner().invoke(cli, ["import"])
    assert result.exit_code == 1
    assert 'id "first-card" does not match the file name "bad.md"' in result.output
    with Session(engine) as session:
        assert session.exec(select(Card.id)).all() == []


def test_new_card(configured: Settings, content_dir: Path):
    result = CliRunner().invoke(
        cli, ["new-card", "--title", "What is a ReLU?", "--deck", "basics/activations"]
    )
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip())
    assert path == content_dir / "cards/basics/activations/what-is-a-relu.md"
    assert path.read_text().startswith("---\nid: what-is-a-relu\n")


@pytest.mark.parametrize("command", ["check", "import", "new-card"])
def test_help(command: str):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
