"""Writing files so a crash leaves either the old content or the new, never half.

A temporary file in the same directory (so the rename never crosses a filesystem)
is written, flushed and fsynced, then ``os.replace``d over the target, and the
directory is fsynced so the rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

TEMP_PREFIX = ".backprop-tmp-"


def _fsync_dir(directory: Path) -> None:
    # Not every platform lets a directory be opened (Windows); the rename is still atomic.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_temp(path: Path, data: bytes) -> Path:
    """Writes ``data`` to a fresh temporary file beside ``path``, fsynced; returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=path.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(temp, path.stat().st_mode & 0o7777)
        else:
            os.chmod(temp, 0o644)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def atomic_write(path: Path, data: bytes | str) -> None:
    """Replaces ``path`` with ``data`` atomically (temp file + fsync + os.replace)."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    temp = write_temp(path, payload)
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


@contextlib.contextmanager
def staged_writes(files: Mapping[Path, bytes | str | None]) -> Iterator[None]:
    """Writes several files as one step, as far as a filesystem allows.

    Every new content is first written to a temporary file (the slow, failure-prone
    part). The block then runs (e.g. the database transaction); if it raises, no
    target was touched. If it succeeds, each temporary is renamed over its target
    (``None`` deletes the target); should a rename fail, the targets already
    replaced are put back from copies of their old bytes.
    """
    temps: dict[Path, Path] = {}
    try:
        for path, data in files.items():
            if data is None:
                continue
            payload = data.encode("utf-8") if isinstance(data, str) else data
            temps[Path(path)] = write_temp(Path(path), payload)
        yield
        _commit(files, temps)
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)


def _commit(files: Mapping[Path, bytes | str | None], temps: dict[Path, Path]) -> None:
    old: dict[Path, bytes | None] = {}
    done: list[Path] = []
    try:
        for raw_path in files:
            path = Path(raw_path)
            old[path] = path.read_bytes() if path.exists() else None
            if path in temps:
                os.replace(temps.pop(path), path)
            else:
                path.unlink(missing_ok=True)
            done.append(path)
            _fsync_dir(path.parent)
    except BaseException:
        for path in reversed(done):
            previous = old[path]
            if previous is None:
                path.unlink(missing_ok=True)
            else:
                atomic_write(path, previous)
        raise


def clean_temporaries(root: Path) -> list[Path]:
    """Removes temporaries left by a crash under ``root``; returns what it removed."""
    removed = []
    for temp in Path(root).rglob(f"{TEMP_PREFIX}*"):
        temp.unlink(missing_ok=True)
        removed.append(temp)
    return removed
