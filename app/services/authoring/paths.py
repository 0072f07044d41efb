"""Where the editor may write: paths built from a form, checked before any file is touched."""

from __future__ import annotations

from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from app.content.schema import CardId, Deck, Lang


class OutsideRoot(ValueError):
    """A target that resolves outside the directory it must stay in."""


_CHECKS: tuple[tuple[str, TypeAdapter[str], str], ...] = (
    ("id", TypeAdapter(CardId), "lowercase words joined by hyphens, e.g. adam-bias-correction"),
    ("deck", TypeAdapter(Deck), "lowercase folder names joined by /, e.g. training/gradients"),
    ("lang", TypeAdapter(Lang), "a language code such as en or zh"),
)


def path_field_problems(values: dict[str, str]) -> list[tuple[str, str]]:
    """(field, message) for each of id, deck and lang that the card schema refuses: the
    values that become file names must pass it before any path is built from them."""
    problems = []
    for name, adapter, hint in _CHECKS:
        value = values.get(name, "")
        try:
            adapter.validate_python(value)
        except ValidationError:
            problems.append((name, f"invalid {name} {value[:80]!r}: use {hint}"))
    return problems


def inside(root: Path, relative: str) -> Path:
    """root / relative, refused when it would land outside root (``..``, an absolute
    path, a symlink pointing away)."""
    base = root.resolve()
    target = (root / relative).resolve()
    if target != base and base not in target.parents:
        raise OutsideRoot(f"{relative!r} is outside {root.name}/")
    return root / relative
