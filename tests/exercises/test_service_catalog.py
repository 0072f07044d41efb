"""The service's catalog: exercises by name (unknown and broken ones refused with a
sentence) and the card -> exercise links, refreshed when a card file changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.services.exercises.catalog import ExerciseCatalog, ExerciseNotFound

REPO = Path(__file__).resolve().parents[2] / "content" / "exercises"


def card(card_id: str, exercise: str | None) -> str:
    line = f"exercise: {{path: exercises/{exercise}.py}}\n" if exercise else ""
    return f"---\nid: {card_id}\ntitle: T\ndeck: d\ndifficulty: easy\n{line}---\n## Question\nQ\n"


def test_names_links_and_refusals(tmp_path: Path) -> None:
    (tmp_path / "exercises").mkdir()
    (tmp_path / "cards").mkdir()
    shutil.copy(REPO / "softmax.py", tmp_path / "exercises" / "softmax.py")
    (tmp_path / "exercises" / "broken.py").write_text("FUNCTION = 3\n")
    (tmp_path / "cards" / "a.md").write_text(card("a", "softmax"))
    (tmp_path / "cards" / "a.zh.md").write_text(card("a", "broken"))  # translations ignored
    catalog = ExerciseCatalog(tmp_path)

    assert catalog.get("softmax").meta.FUNCTION == "softmax"
    assert catalog.names() == ["broken", "softmax"]
    with pytest.raises(ExerciseNotFound, match="no exercise named 'nope'"):
        catalog.get("nope")
    with pytest.raises(ExerciseNotFound, match="is broken"):
        catalog.get("broken")
    with pytest.raises(ExerciseNotFound):
        catalog.get("../cards/a")
    assert catalog.exercise_of_card("a") == "softmax"
    assert catalog.card_of_exercise("softmax") == "a"

    (tmp_path / "cards" / "a.md").write_text(card("a", None) + "\n")
    (tmp_path / "cards" / "b.md").write_text(card("b", "softmax"))
    assert catalog.exercise_of_card("a", max_age_s=60) == "softmax"  # the cached answer
    assert catalog.exercise_of_card("a") is None
    assert catalog.card_of_exercise("softmax") == "b"
