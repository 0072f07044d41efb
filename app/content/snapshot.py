"""What the last clean import of a content tree found, keyed by the tree's file stats, so
an unchanged re-import need not read, hash or check a single card file.

A ``TreeSnapshot`` is every file's (path, size, mtime, inode) under ``content/`` plus the
source of the code that loads and checks cards: when any file or that code changes, the
digest changes and the importer loads the tree as usual. The importer still compares what
the snapshot recorded (each card's content hash and path, the aliases) with the database
before it reports "unchanged", so a snapshot can never stand in for a database it was not
taken against.

Like git's index, a file whose mtime is within ``_RACY_NS`` of the moment the snapshot was
taken is not trusted (it could change again within the same timestamp tick); such a tree
is simply loaded again. Stored with ``marshal``; an unreadable file is ignored.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_RACY_NS = 2_000_000_000


@cache
def _code_version() -> bytes:
    """The loader's and checker's own source: a new rule must see every file again."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for folder in (here, here.parent / "demos"):
        for path in sorted(folder.glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.digest()


@dataclass(frozen=True)
class TreeSnapshot:
    digest: bytes
    taken_ns: int
    newest_mtime_ns: int

    @classmethod
    def take(cls, content_dir: Path) -> TreeSnapshot:
        taken = time.time_ns()
        digest = hashlib.sha256(_code_version())
        newest = 0
        for entry in _walk(content_dir, len(str(content_dir)) + 1):
            rel, stat = entry
            newest = max(newest, stat.st_mtime_ns)
            digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\0{stat.st_ino}\0".encode())
        return cls(digest.digest(), taken, newest)

    @property
    def trustworthy(self) -> bool:
        return self.newest_mtime_ns < self.taken_ns - _RACY_NS


def _walk(folder: Path, prefix: int):  # type: ignore[no-untyped-def]
    stack = [str(folder)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name.startswith(".") or entry.name == "__pycache__":
                    continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    yield entry.path[prefix:], entry.stat()


@dataclass(frozen=True)
class KnownTree:
    """What a clean import found: card id -> (content hash, path), and alias -> card id."""

    cards: dict[str, tuple[str, str]]
    aliases: dict[str, str]


def load_known(path: Path, snapshot: TreeSnapshot) -> KnownTree | None:
    """The tree recorded for exactly this snapshot, or None."""
    if not snapshot.trustworthy:
        return None
    try:
        data = marshal.loads(path.read_bytes())
        digest, cards, aliases = data
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if digest != snapshot.digest or not isinstance(cards, dict) or not isinstance(aliases, dict):
        return None
    return KnownTree(cards, aliases)


def save_known(path: Path, snapshot: TreeSnapshot, known: KnownTree) -> None:
    """Record ``known`` for ``snapshot``; skipped when the file cannot be written."""
    if not snapshot.trustworthy:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tree-snapshot-")
        try:
            with os.fdopen(fd, "wb") as out:
                marshal.dump((snapshot.digest, known.cards, known.aliases), out)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except (OSError, ValueError):
        pass
