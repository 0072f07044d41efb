"""A card renamed through `aliases` keeps its learners' history when `backprop import`
runs in a process of its own (which imports nothing but the CLI), on both backends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from app.db import configured_engine, session_scope
from app.models.review import ReviewLog, ReviewState
from app.models.user import User
from app.services.scheduling import service

REPO = Path(__file__).resolve().parents[2]


def card(card_id: str, extra: str = "") -> str:
    return (
        f"---\nid: {card_id}\ntitle: Adam bias correction\ndeck: optim\ndifficulty: medium\n"
        f"demo: none\n{extra}---\n## Question\nWhy correct the bias?\n\n## Answer\nEarly steps.\n"
    )


def backprop_import(database_url: str, content_dir: Path, data_dir: Path) -> str:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "BACKPROP_DATABASE_URL": database_url,
        "BACKPROP_CONTENT_DIR": str(content_dir),
        "BACKPROP_DATA_DIR": str(data_dir),
        "BACKPROP_ENVIRONMENT": "test",
    }
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "import"],
        env=env,
        cwd=data_dir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_cli_import_moves_history_to_the_new_id(any_database_url: str, tmp_path: Path) -> None:
    content_dir = tmp_path / "content"
    cards = content_dir / "cards" / "optim"
    cards.mkdir(parents=True)
    (content_dir / "demos").mkdir()
    (cards / "adam-bias-correction.md").write_text(card("adam-bias-correction"))
    backprop_import(any_database_url, content_dir, tmp_path)

    with configured_engine(any_database_url) as engine:
        with session_scope(engine, write=True) as session:
            user = User(username="learner", password_hash="x")
            session.add(user)
            session.flush()
            assert user.id is not None
            user_id = user.id
            service.grade(
                session, user_id, "adam-bias-correction", 3,
                idempotency_key="k1", expected_version=0,
            )  # fmt: skip

        (cards / "adam-bias-correction.md").unlink()
        (cards / "adam-correction.md").write_text(
            card("adam-correction", "aliases: [adam-bias-correction]\n")
        )
        out = backprop_import(any_database_url, content_dir, tmp_path)
        assert "1 former ids moved" in out

        with session_scope(engine) as session:
            states = session.exec(
                select(ReviewState.card_id).where(ReviewState.user_id == user_id)
            ).all()
            logs = session.exec(
                select(ReviewLog.card_id, func.count()).group_by(ReviewLog.card_id)
            ).all()
        assert states == ["adam-correction"]
        assert logs == [("adam-correction", 1)]
