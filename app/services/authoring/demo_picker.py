"""The demos the editor's picker offers, with their claims."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from app.demos.metadata import read_metadata
from app.demos.registry import DemoError


@dataclass(frozen=True)
class DemoInfo:
    path: str  # relative to content/
    name: str
    title: str
    claims: dict[str, str]


def list_demos(content_dir: Path) -> list[DemoInfo]:
    """Every demo with its claims, from the one metadata reader (never imported here)."""
    demos = []
    for path in sorted((content_dir / "demos").glob("*.py")):
        if path.name.startswith("_"):
            continue
        stat = path.stat()
        info = _demo_info(path, stat.st_mtime_ns, stat.st_size)
        if info is not None:
            demos.append(info)
    return demos


@functools.lru_cache(maxsize=1024)
def _demo_info(path: Path, _mtime_ns: int, _size: int) -> DemoInfo | None:
    # Parsing every demo costs a quarter of a second; the editor page and every live
    # preview ask again. Keyed on the file's mtime and size, so an edit is seen.
    try:
        meta = read_metadata(path)
    except (DemoError, OSError):
        return None
    return DemoInfo(f"demos/{path.name}", path.stem, meta.title, dict(meta.claims))
