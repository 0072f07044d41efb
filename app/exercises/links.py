"""Checks, during ``load_deck``, the exercises cards point at and the exercise files
themselves (statically: nothing is executed)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from app.content.problems import Problem
from app.exercises.format import load_exercises

if TYPE_CHECKING:
    from app.content.tree import Deck


def check_exercise_links(deck: Deck) -> list[Problem]:
    """Problems in ``content/exercises/*.py`` and in cards' ``exercise.path``."""
    exercises, problems = load_exercises(deck.content_dir)
    broken = {p.path.name for p in problems}
    for card in deck.cards.values():
        ref = card.meta.exercise
        if ref is None:
            continue
        parsed = card.files[card.meta.lang].parsed
        line = parsed.line_of(("exercise", "path"))
        full = os.path.join(deck.content_dir, ref.path)
        known = Path(ref.path).stem in exercises or Path(ref.path).name in broken
        if not known and not os.path.isfile(full):
            problems.append(Problem(card.path, line, f'exercise "{ref.path}" not found'))
    return problems
