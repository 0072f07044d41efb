"""The exercises under ``content_dir/exercises`` and the cards that link them, read
without executing anything and reloaded when a file changes. No fastapi, no torch."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from app.exercises.format import NAME_PATTERN, Exercise, ExerciseFormatError, load_exercise
from app.services.errors import ServiceError

# How stale the practice stage's card -> exercise links may be: a card edited on disk
# shows its new exercise there within this many seconds.
LINKS_TTL_S = 5.0
# libyaml's safe loader when present: a few times faster over every card file.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ExerciseNotFound(ServiceError):
    code = "exercise_not_found"
    status = 404


@dataclass(frozen=True)
class CardLinks:
    """Which card links which exercise (from the cards' ``exercise:`` front matter)."""

    exercise_of_card: dict[str, str]
    cards_of_exercise: dict[str, list[str]]


def _front_matter(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        return {}
    try:
        data = yaml.load(text[3:end], Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


class ExerciseCatalog:
    """Thread-safe. ``get`` re-reads a file only when its size or mtime changed; the card
    links are rebuilt when any card file changed."""

    def __init__(self, content_dir: Path) -> None:
        self.content_dir = Path(content_dir)
        self._lock = threading.Lock()
        self._exercises: dict[Path, tuple[tuple[int, int], Exercise]] = {}
        self._links: tuple[tuple[tuple[str, int, int], ...], CardLinks] | None = None
        self._links_checked_at = 0.0

    def path_of(self, name: str) -> Path:
        return self.content_dir / "exercises" / f"{name}.py"

    def get(self, name: str) -> Exercise:
        """The exercise, or ExerciseNotFound with a sentence (unknown or broken)."""
        path = self.path_of(name)
        if not NAME_PATTERN.match(name) or not path.is_file():
            raise ExerciseNotFound(f"There is no exercise named {name[:64]!r}.")
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._exercises.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            exercise = load_exercise(path)
        except ExerciseFormatError as exc:
            raise ExerciseNotFound(f"The exercise {name!r} is broken: {exc}") from exc
        with self._lock:
            self._exercises[path] = (stamp, exercise)
        return exercise

    def names(self) -> list[str]:
        directory = self.content_dir / "exercises"
        if not directory.is_dir():
            return []
        return sorted(p.stem for p in directory.glob("*.py") if NAME_PATTERN.match(p.stem))

    def links(self, *, max_age_s: float = 0.0) -> CardLinks:
        """The links, re-checked against the card files unless they were checked less
        than ``max_age_s`` ago (the practice stage asks on every card, and stating every
        card file costs milliseconds there)."""
        now = time.monotonic()
        with self._lock:
            if self._links is not None and now - self._links_checked_at < max_age_s:
                return self._links[1]
        links = self._fresh_links()
        with self._lock:
            self._links_checked_at = now
        return links

    def _fresh_links(self) -> CardLinks:
        files = sorted(
            p for p in (self.content_dir / "cards").rglob("*.md") if len(p.suffixes) == 1
        )
        stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
        with self._lock:
            if self._links is not None and self._links[0] == stamp:
                return self._links[1]
        of_card: dict[str, str] = {}
        of_exercise: dict[str, list[str]] = {}
        for path in files:
            meta = _front_matter(path)
            ref = meta.get("exercise")
            if not isinstance(ref, dict) or not isinstance(ref.get("path"), str):
                continue
            name = Path(ref["path"]).stem
            card_id = str(meta.get("id", path.stem))
            of_card[card_id] = name
            of_exercise.setdefault(name, []).append(card_id)
        links = CardLinks(of_card, of_exercise)
        with self._lock:
            self._links = (stamp, links)
        return links

    def exercise_of_card(self, card_id: str, *, max_age_s: float = 0.0) -> str | None:
        return self.links(max_age_s=max_age_s).exercise_of_card.get(card_id)

    def card_of_exercise(self, name: str) -> str | None:
        cards = self.links().cards_of_exercise.get(name)
        return cards[0] if cards else None
