"""A cache of rendered cards, beside the parse cache, so importing a known tree into a
fresh database (a new instance, a restored backup, a test) skips Markdown, Pygments and
nh3, which are most of an import's CPU.

An entry's key covers everything a card's rendering depends on: the renderer's version
(its source and the versions of the libraries it calls), the card's id, the hash of all
its language files' bytes, its folder (image URLs) and, for every ``[[link]]`` it holds,
the target's current id and titles. So an entry is never stale: any change to one of
those gives another key. Stored with ``marshal`` (plain data, nothing executed on load);
an unreadable file or another version is ignored.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from dataclasses import fields
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from app.content import render
from app.content.render import RenderedCard

# link target -> (current id, {lang: title})
LinkTargets = dict[str, tuple[str, dict[str, str]]]
_FIELDS = [f.name for f in fields(RenderedCard)]


@cache
def _version() -> bytes:
    digest = hashlib.sha256(Path(render.__file__).read_bytes())
    for package in ("markdown-it-py", "mdit-py-plugins", "pygments", "nh3"):
        try:
            digest.update(f"{package}={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(package.encode())
    digest.update(f"{marshal.version} {sys.version_info[:2]} {_FIELDS}".encode())
    return digest.digest()


def render_key(card_id: str, content_hash: str, folder: str, links: LinkTargets) -> bytes:
    """What one card's rendering depends on, as a digest."""
    digest = hashlib.sha256(_version())
    digest.update(f"{card_id}\0{content_hash}\0{folder}\0".encode())
    for target in sorted(links):
        current, titles = links[target]
        digest.update(f"{target}\0{current}\0".encode())
        for lang in sorted(titles):
            digest.update(f"{lang}\0{titles[lang]}\0".encode())
    return digest.digest()


class RenderCache:
    """``get`` and ``put`` by ``render_key``; ``save`` keeps, per card, the entries of
    this run where it rendered or looked the card up, and the older ones otherwise."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._old: dict[bytes, tuple[str, list[tuple[Any, ...]]]] = {}
        self._used: dict[bytes, tuple[str, list[tuple[Any, ...]]]] = {}
        try:
            data = marshal.loads(path.read_bytes())
            if isinstance(data, tuple) and len(data) == 2 and data[0] == _version():
                self._old = data[1]
        except (OSError, ValueError, EOFError, TypeError):
            pass  # no cache yet, or an unreadable one: render everything

    def get(self, key: bytes) -> list[RenderedCard] | None:
        entry = self._old.get(key) or self._used.get(key)
        if entry is None:
            return None
        self._used[key] = entry
        return [RenderedCard(**dict(zip(_FIELDS, values, strict=True))) for values in entry[1]]

    def put(self, key: bytes, card_id: str, rendered: list[RenderedCard]) -> None:
        # A shallow tuple: ``dataclasses.astuple`` deep-copies every key point and
        # follow-up, which cost about as much as writing the card's rows. Nothing
        # changes a rendered card after this; ``save`` serialises them as they are.
        entry = (card_id, [tuple(getattr(r, name) for name in _FIELDS) for r in rendered])
        try:
            marshal.dumps(entry)
        except ValueError:
            return  # not plain data: leave it out
        self._used[key] = entry

    def save(self, live_ids: set[str]) -> None:
        """Write the cache for the cards in ``live_ids``; skipped when it cannot be written."""
        if not self._used:
            return
        used_ids = {card_id for card_id, _ in self._used.values()}
        kept = {
            key: entry
            for key, entry in self._old.items()
            if entry[0] in live_ids and entry[0] not in used_ids
        }
        kept.update(self._used)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".render-cache-")
            try:
                with os.fdopen(fd, "wb") as out:
                    marshal.dump((_version(), kept), out)
                os.replace(tmp, self.path)
            except BaseException:
                os.unlink(tmp)
                raise
        except (OSError, ValueError):
            pass
