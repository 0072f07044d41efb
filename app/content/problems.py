"""A problem found in the content tree, printed as ``path:line: message``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One user-facing error: the file, the 1-based line in it, and what is wrong."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{_shown(self.path)}:{self.line}: {self.message}"


def _shown(path: Path) -> Path:
    """Relative to the working directory when inside it: short, and still clickable."""
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd())
        except ValueError:
            pass
    return path


class ContentError(Exception):
    """The tree has problems; nothing was written. ``problems`` holds every one of them."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        count = len(self.problems)
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the content:\n{lines}")
