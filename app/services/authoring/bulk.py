"""Bulk upload: one Markdown card or a zip of cards, checked like ``backprop check``
against the whole tree, all or nothing.

Reading the upload refuses, with one clear message each, what must never reach the
disk: a zip bomb (too many members, too many bytes once inflated, or an inflation
ratio no text file has), a member whose path would leave the content directory
(absolute, ``..``, a drive letter, a symlink), and any file that is not ``.md``.
Everything else is the content loader's job, run on a staging copy of the tree with
the upload laid over it, so a problem names the file and line exactly as
``backprop check`` would.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from app.content.problems import Problem
from app.content.tree import load_deck
from app.services.authoring.paths import inside
from app.services.errors import ServiceError


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int = 10 << 20  # the upload itself
    max_members: int = 2000
    max_total_bytes: int = 50 << 20  # sum of inflated sizes
    max_member_bytes: int = 1 << 20  # one card file (the loader's own limit)
    max_ratio: float = 100.0  # inflated / compressed, per member


DEFAULT_LIMITS = Limits()


class UploadRefused(ServiceError):
    """The upload is refused before anything is checked; ``reasons`` says why, one per line."""

    code, status = "upload_refused", 400

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons))


@dataclass(frozen=True)
class UploadedFile:
    name: str  # as named in the upload, for messages
    target: str  # where it goes, relative to content/, POSIX separators: "cards/x/y.md"
    data: bytes


# --- reading the upload ------------------------------------------------------------


def read_upload(filename: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> list[UploadedFile]:
    """The files an upload holds, with their targets; raises UploadRefused."""
    if len(data) > limits.max_upload_bytes:
        raise UploadRefused(
            [
                f"{filename}: the upload is {len(data) >> 20} MiB; the limit is "
                f"{limits.max_upload_bytes >> 20} MiB"
            ]
        )
    lower = filename.lower()
    if lower.endswith(".zip"):
        return read_zip(filename, data, limits)
    if lower.endswith(".md"):
        base = PurePosixPath(filename.replace("\\", "/")).name
        if len(data) > limits.max_member_bytes:
            raise UploadRefused([f"{base}: larger than {limits.max_member_bytes >> 20} MiB"])
        return [UploadedFile(base, f"cards/{_deck_folder(data)}{base}", data)]
    raise UploadRefused([f"{filename}: not a Markdown card (.md) or a zip of cards (.zip)"])


def _deck_folder(data: bytes) -> str:
    """The folder a lone card file goes to: its deck (checked later, like any card)."""
    try:
        text = data.decode("utf-8").removeprefix("\ufeff").replace("\r\n", "\n")
        if text.startswith("---\n"):
            end = text.find("\n---", 4)
            meta = yaml.safe_load(text[4:end]) if end != -1 else None
            deck = meta.get("deck") if isinstance(meta, dict) else None
            if isinstance(deck, str) and _safe_parts(deck) is not None:
                return deck.strip("/") + "/"
    except (UnicodeDecodeError, yaml.YAMLError):
        pass
    return ""


def _safe_parts(name: str) -> tuple[str, ...] | None:
    """The parts of a relative POSIX path that stays where it is put, or None."""
    if not name or "\\" in name or "\0" in name or name.startswith("/"):
        return None
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if not parts or any(p == ".." or ":" in p for p in parts):
        return None
    return parts


def read_zip(filename: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> list[UploadedFile]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        raise UploadRefused([f"{filename}: not a valid zip file"]) from None
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_members:
            raise UploadRefused(
                [
                    f"{filename}: refused as a possible zip bomb: {len(members)} entries "
                    f"(the limit is {limits.max_members})"
                ]
            )
        total = sum(m.file_size for m in members)
        if total > limits.max_total_bytes:
            raise UploadRefused(
                [
                    f"{filename}: refused as a possible zip bomb: {total >> 20} MiB once "
                    f"unpacked (the limit is {limits.max_total_bytes >> 20} MiB)"
                ]
            )
        reasons: list[str] = []
        chosen: list[tuple[zipfile.ZipInfo, str]] = []
        seen: set[str] = set()
        for member in members:
            name = member.filename
            mode = member.external_attr >> 16
            parts = _safe_parts(name)
            if parts is None:
                reasons.append(f"{name}: path leaves the content directory; refused")
                continue
            if stat.S_ISLNK(mode):
                reasons.append(f"{name}: symbolic links are refused")
                continue
            if member.is_dir():
                continue
            if member.flag_bits & 0x1:
                reasons.append(f"{name}: encrypted entries are refused")
                continue
            if not name.lower().endswith(".md"):
                reasons.append(f"{name}: not a Markdown file (.md); only cards can be uploaded")
                continue
            if member.file_size > limits.max_member_bytes:
                reasons.append(
                    f"{name}: {member.file_size >> 20} MiB once unpacked; a card is at most "
                    f"{limits.max_member_bytes >> 20} MiB"
                )
                continue
            ratio = member.file_size / max(member.compress_size, 1)
            if member.file_size > 64 << 10 and ratio > limits.max_ratio:
                reasons.append(f"{name}: refused as a possible zip bomb (compressed {ratio:.0f}:1)")
                continue
            target = "/".join(_strip_prefix(parts))
            if target.lower() in seen:
                reasons.append(f"{name}: appears twice in the zip")
                continue
            seen.add(target.lower())
            chosen.append((member, target))
        if reasons:
            raise UploadRefused(reasons)
        if not chosen:
            raise UploadRefused([f"{filename}: the zip holds no .md card"])
        files = []
        for member, target in chosen:
            content = _read_member(archive, member, limits.max_member_bytes)
            if content is None:
                raise UploadRefused(
                    [
                        f"{member.filename}: inflates past its declared size; refused as a "
                        "possible zip bomb"
                    ]
                )
            files.append(UploadedFile(member.filename, "cards/" + target, content))
        return files


def _strip_prefix(parts: tuple[str, ...]) -> tuple[str, ...]:
    """Zips made from the repository may hold content/cards/... or cards/...; both map to
    content/cards/. The deck folders below are kept as they are."""
    if len(parts) > 2 and parts[0] == "content" and parts[1] == "cards":
        return parts[2:]
    if len(parts) > 1 and parts[0] == "cards":
        return parts[1:]
    return parts


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> bytes | None:
    # The declared size can lie; never inflate more than the limit allows.
    cap = min(member.file_size, limit)
    with archive.open(member) as handle:
        content = handle.read(cap + 1)
    return None if len(content) > cap else content


# --- checking against the tree -----------------------------------------------------


@contextmanager
def staged_tree(
    content_dir: Path, files: list[UploadedFile], deletes: Iterable[str] = ()
) -> Iterator[Path]:
    """A throwaway copy of the content tree with the upload laid over it (and the
    ``deletes``, paths relative to content/, removed)."""
    with tempfile.TemporaryDirectory(prefix="backprop-upload-") as tmp:
        staging = Path(tmp) / "content"
        if content_dir.is_dir():
            shutil.copytree(
                content_dir,
                staging,
                ignore=shutil.ignore_patterns(".backprop-tmp-*", "__pycache__", ".git"),
            )
        else:
            staging.mkdir()
        (staging / "cards").mkdir(exist_ok=True)
        for file in files:
            path = inside(staging, file.target)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(file.data)
        for rel in deletes:
            inside(staging, rel).unlink(missing_ok=True)
        yield staging


Checker = Callable[[Path], list[Problem]]


def default_checker(content_dir: Path) -> list[Problem]:
    return list(load_deck(content_dir).problems)


def check_upload(
    content_dir: Path, files: list[UploadedFile], checker: Checker = default_checker
) -> list[Problem]:
    """Every problem of the tree with the upload applied, paths as the admin knows them:
    the name in the upload for an uploaded file, ``content/...`` for the others."""
    by_target = {f.target: f.name for f in files}
    with staged_tree(content_dir, files) as staging:
        problems = checker(staging)

        def shown(path: Path | str) -> str:
            rel = Path(os.path.relpath(path, staging)).as_posix()
            return by_target.get(rel) or (f"content/{rel}" if not rel.startswith("..") else rel)

        # Messages may name other files too ("duplicate id ... also in <path>").
        mentioned = re.compile(re.escape(str(staging)) + r"/[^\s:,;)\"']+")
        mapped = []
        for problem in problems:
            message = mentioned.sub(lambda m: shown(m.group(0)), problem.message)
            mapped.append(Problem(Path(shown(problem.path)), problem.line, message))
    return sorted(mapped)
