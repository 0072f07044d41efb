"""A parse cache keyed by each file's SHA-256, so an unchanged re-import skips YAML.

Content-addressed: an entry is what ``parse_bytes`` found in those exact bytes (the front
matter, the links and images with their lines), whatever the file is called or wherever
it lives, so an entry can never go stale. Every cross-file check in ``tree.py`` still runs
on every file; only the per-file parse is skipped. Key lines and sections are left out
(they are most of the bytes and only problems and rendering need them): a cached
``ParsedFile`` parses itself again when asked for them.

Stored with ``marshal`` (plain data only, nothing is executed on load) in one file; a
file written by another parser version or Python, or one that fails to load, is ignored.
Only files without problems are cached.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from app.content import parse, schema
from app.content.parse import ParsedFile
from app.content.schema import DemoRef, ExerciseRef

# (front matter, links, images, validated by: schema model name or "", its fields)
_Record = tuple[dict[str, Any], list[tuple[str, int]], list[tuple[str, int]], str, dict[str, Any]]
M = TypeVar("M", bound=BaseModel)


@cache
def _version() -> bytes:
    """Changes with the parser's source and the marshal format: old entries then miss."""
    digest = hashlib.sha256(Path(parse.__file__).read_bytes())
    digest.update(Path(schema.__file__).read_bytes())
    digest.update(f"{marshal.version} {sys.version_info[:2]}".encode())
    return digest.digest()


class ParseCache:
    """Load with ``ParseCache(path)``, look up with ``get``, record with ``put``, then
    ``save``: it keeps only the entries this run used, so it stays the size of the tree."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._old: dict[bytes, _Record] = {}
        self._used: dict[bytes, _Record] = {}
        self._changed = False
        try:
            data = marshal.loads(path.read_bytes())
            if isinstance(data, tuple) and len(data) == 2 and data[0] == _version():
                self._old = data[1]
        except (OSError, ValueError, EOFError, TypeError):
            pass  # no cache yet, or an unreadable one: parse everything

    def get(self, digest: bytes, parsed: ParsedFile) -> bool:
        """Fill ``parsed`` (path and raw set) from the cache; False on a miss."""
        record = self._old.get(digest) or self._used.get(digest)
        if record is None:
            return False
        self._used[digest] = record
        parsed.meta, links, images = record[:3]
        parsed.links = list(links)
        parsed.images = list(images)
        parsed.cached = True
        return True

    def put(self, digest: bytes, parsed: ParsedFile) -> None:
        if parsed.problems:
            return
        record: _Record = (parsed.meta, parsed.links, parsed.images, "", {})
        try:
            marshal.dumps(record)  # a YAML date, say, is not plain data: leave it out
        except ValueError:
            return
        self._used[digest] = record
        self._changed = True

    def validated(self, digest: bytes, model: type[M]) -> M | None:
        """The front matter as ``model``, when these bytes passed its validation before.
        Built without validating again: validation is most of the cost of a cached file."""
        record = self._used.get(digest)
        if record is None or record[3] != model.__name__:
            return None
        fields = dict(record[4])
        if fields.get("demo") is not None:
            fields["demo"] = DemoRef.model_construct(**fields["demo"])
        if fields.get("exercise") is not None:
            fields["exercise"] = ExerciseRef.model_construct(**fields["exercise"])
        return model.model_construct(**fields)

    def put_validated(self, digest: bytes, meta: BaseModel) -> None:
        record = self._used.get(digest)
        if record is None or record[3] == type(meta).__name__:
            return
        self._used[digest] = (*record[:3], type(meta).__name__, meta.model_dump())
        self._changed = True

    def save(self) -> None:
        """Write the entries used in this run; a cache that cannot be written is skipped."""
        if not self._changed and len(self._used) == len(self._old):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".parse-cache-")
            try:
                with os.fdopen(fd, "wb") as out:
                    marshal.dump((_version(), self._used), out)
                os.replace(tmp, self.path)
            except BaseException:
                os.unlink(tmp)
                raise
        except (OSError, ValueError):
            pass
