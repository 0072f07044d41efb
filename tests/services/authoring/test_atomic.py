"""A crash at any point of a write leaves either the old file or the new one, never half."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.services.authoring import atomic
from app.services.authoring.atomic import atomic_write, clean_temporaries, staged_writes

OLD = "---\nid: a\n---\n\n## Question\n\nold\n" * 50
NEW = "---\nid: a\n---\n\n## Question\n\nnew\n" * 50


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(atomic.TEMP_PREFIX))


def test_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "deck" / "a.md"
    atomic_write(target, OLD)
    atomic_write(target, NEW)
    assert target.read_text() == NEW
    assert leftovers(target.parent) == []


def test_failure_while_writing_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a.md"
    target.write_text(OLD)

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", disk_full)
    with pytest.raises(OSError):
        atomic_write(target, NEW)
    assert target.read_text() == OLD
    assert leftovers(tmp_path) == []


def test_failure_at_rename_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a.md"
    target.write_text(OLD)

    def broken(src: str, dst: str) -> None:
        raise OSError("rename failed")

    monkeypatch.setattr(atomic.os, "replace", broken)
    with pytest.raises(OSError):
        atomic_write(target, NEW)
    assert target.read_text() == OLD


CRASHER = """
import os, sys
from pathlib import Path
from app.services.authoring import atomic
target, stage = Path(sys.argv[1]), sys.argv[2]
new = sys.argv[3].encode()
if stage == "mid-write":
    # Half the bytes reach the temporary file, then the process dies.
    real_write = os.write
    import tempfile
    fd, name = tempfile.mkstemp(prefix=atomic.TEMP_PREFIX, dir=target.parent)
    os.write(fd, new[: len(new) // 2])
    os._exit(9)
if stage == "before-rename":
    atomic.write_temp(target, new)
    os._exit(9)
atomic.atomic_write(target, new)
os._exit(0)
"""


@pytest.mark.parametrize(
    ("stage", "expected"), [("mid-write", OLD), ("before-rename", OLD), ("done", NEW)]
)
def test_a_killed_process_leaves_old_or_new(tmp_path: Path, stage: str, expected: str) -> None:
    target = tmp_path / "a.md"
    target.write_text(OLD)
    subprocess.run(
        [sys.executable, "-c", CRASHER, str(target), stage, NEW],
        cwd=Path(__file__).resolve().parents[3],
        check=False,
    )
    assert target.read_text() == expected
    # The next writer (or `clean_temporaries`) sweeps what the crash left.
    clean_temporaries(tmp_path)
    assert leftovers(tmp_path) == []
    assert sorted(os.listdir(tmp_path)) == ["a.md"]


def test_staged_writes_touch_nothing_when_the_block_fails(tmp_path: Path) -> None:
    a, b = tmp_path / "a.md", tmp_path / "b.md"
    a.write_text(OLD)
    with pytest.raises(RuntimeError), staged_writes({a: NEW, b: NEW}):
        raise RuntimeError("the database transaction failed")
    assert a.read_text() == OLD
    assert not b.exists()
    assert leftovers(tmp_path) == []


def test_staged_writes_commit_and_delete(tmp_path: Path) -> None:
    a, b, gone = tmp_path / "a.md", tmp_path / "sub" / "b.md", tmp_path / "gone.md"
    a.write_text(OLD)
    gone.write_text(OLD)
    with staged_writes({a: NEW, b: NEW, gone: None}):
        assert a.read_text() == OLD
    assert a.read_text() == NEW and b.read_text() == NEW and not gone.exists()


def test_staged_writes_roll_back_when_a_rename_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = tmp_path / "a.md", tmp_path / "b.md"
    a.write_text(OLD)
    b.write_text(OLD)
    real_replace = os.replace
    calls = []

    def second_fails(src: str, dst: str) -> None:
        calls.append(dst)
        if Path(dst) == b:
            raise OSError("rename failed")
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", second_fails)
    with pytest.raises(OSError), staged_writes({a: NEW, b: NEW}):
        pass
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    assert a.read_text() == OLD and b.read_text() == OLD
