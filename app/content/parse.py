"""Read one card file: front matter (with the line of every key) and its ``##`` sections.

Nothing here knows about other files; cross-file rules live in ``tree.py``.
The scan is a line scanner, not a Markdown parse, so ``backprop check`` and an
unchanged re-import stay fast; ``render.py`` does the real Markdown work.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.content.math_check import section_math_problems
from app.content.problems import Problem

MAX_FILE_BYTES = 1 << 20  # 1 MiB

SECTION_NAMES = ("Question", "Answer", "Key points", "Pitfalls", "Follow-ups")
REQUIRED_SECTIONS = ("Question", "Answer")
LIST_SECTIONS = ("Key points", "Follow-ups")

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*))?$")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)*?\1")
_LINK = re.compile(r"\[\[([^\[\]\n]*)\]\]")
_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]*)")
_SPECIAL_STARTS = frozenset("#`~")
_BULLET = re.compile(r"^ {0,3}[-*+](?:[ \t]|$)")

Location = tuple[str | int, ...]


@dataclass
class Section:
    name: str
    line: int  # the heading's line
    text: str  # the Markdown under the heading, heading excluded


@dataclass
class ParsedFile:
    """One file, parsed as far as it could be. ``problems`` empty means usable."""

    path: Path
    raw: bytes = b""
    meta: dict[str, Any] = field(default_factory=dict)
    key_lines: dict[Location, int] = field(default_factory=dict)
    sections: dict[str, Section] = field(default_factory=dict)
    links: list[tuple[str, int]] = field(default_factory=list)
    images: list[tuple[str, int]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Rebuilt from the parse cache (cache.py): key lines and sections not read yet.
    cached: bool = False

    def complete(self) -> ParsedFile:
        """Fill in what the parse cache leaves out by parsing ``raw`` again."""
        if self.cached:
            full = ParsedFile(self.path, self.raw)
            parse_bytes(full)
            self.key_lines, self.sections = full.key_lines, full.sections
            self.cached = False
        return self

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def line_of(self, loc: Location) -> int:
        """The line of the front-matter key at ``loc`` (or of its nearest parent)."""
        if self.cached:
            self.complete()
        while loc:
            if loc in self.key_lines:
                return self.key_lines[loc]
            loc = loc[:-1]
        return 1


def parse_file(path: Path) -> ParsedFile:
    parsed = read_file(path)
    if not parsed.problems:
        parse_bytes(parsed)
    return parsed


def read_file(path: Path) -> ParsedFile:
    """The file's bytes in ``raw``, or a problem when it is too big or unreadable."""
    parsed = ParsedFile(path)
    try:
        with open(path, "rb") as file:
            # One read, no stat: an unchanged re-import is mostly reading files.
            raw = file.read(MAX_FILE_BYTES + 1)
            if len(raw) > MAX_FILE_BYTES:
                size = os.fstat(file.fileno()).st_size
                parsed.problem(1, f"file is {size / (1 << 20):.1f} MiB; the limit is 1 MiB")
                return parsed
        parsed.raw = raw
    except OSError as exc:
        parsed.problem(1, f"cannot read the file: {exc.strerror or exc}")
    return parsed


def parse_bytes(parsed: ParsedFile) -> None:
    raw = parsed.raw
    if len(raw) > MAX_FILE_BYTES:
        parsed.problem(1, f"file is {len(raw) / (1 << 20):.1f} MiB; the limit is 1 MiB")
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        parsed.problem(line, f"invalid UTF-8 (byte 0x{raw[exc.start]:02x} at column {column})")
        return
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").split("\n")
    if not lines or lines[0].rstrip() != "---":
        parsed.problem(1, "the file must start with a '---' line opening the front matter")
        return
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        parsed.problem(1, "the front matter is not closed by a '---' line")
        return
    _parse_front_matter(parsed, "\n".join(lines[1:end]), first_line=2)
    _scan_body(parsed, lines, start=end + 1)


# --- front matter -------------------------------------------------------------


def _parse_front_matter(parsed: ParsedFile, source: str, first_line: int) -> None:
    offset = first_line  # YAML marks are 0-based
    # Anchors and aliases make one value appear in several places (and enable
    # "billion laughs" expansion): refuse them. Checked on the event stream, which
    # sees them before composition resolves them away.
    if "&" in source or "*" in source:
        try:
            for event in yaml.parse(source, Loader=_Loader):
                if isinstance(event, yaml.AliasEvent):
                    parsed.problem(
                        event.start_mark.line + offset,
                        f"YAML alias *{event.anchor} is not allowed; write the value out",
                    )
                elif getattr(event, "anchor", None):
                    parsed.problem(
                        event.start_mark.line + offset,
                        f"YAML anchor &{event.anchor} is not allowed",
                    )
        except yaml.YAMLError as exc:
            _yaml_problem(parsed, exc, offset)
            return
        if parsed.problems:
            return
    loader = _Loader(source)
    try:
        node = loader.get_single_node()
        if node is None:
            parsed.problem(1, "the front matter is empty")
            return
        if not isinstance(node, yaml.MappingNode):
            kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
            parsed.problem(
                node.start_mark.line + offset,
                f"the front matter must be a mapping of keys to values, not {kind}",
            )
            return
        data = _construct(parsed, loader, node, (), offset)
    except yaml.YAMLError as exc:
        _yaml_problem(parsed, exc, offset)
        return
    finally:
        loader.dispose()
    parsed.meta = data


_STR_TAG = "tag:yaml.org,2002:str"


def _construct(parsed: ParsedFile, loader: Any, node: yaml.Node, loc: Location, offset: int) -> Any:
    """Build the value and record the line of every key and list item on the way.

    Cheaper than PyYAML's generic constructor for the handful of plain shapes front
    matter has; any other scalar (numbers, booleans, dates) still goes through it.
    """
    if isinstance(node, yaml.ScalarNode):
        return node.value if node.tag == _STR_TAG else loader.construct_object(node)
    if isinstance(node, yaml.MappingNode):
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(parsed, loader, key_node, loc, offset)
            line = key_node.start_mark.line + offset
            if not isinstance(key, str | int | float | bool) and key is not None:
                parsed.problem(line, "a key must be a plain word")
                continue
            if key in mapping:
                parsed.problem(line, f'duplicate key "{key}"')
            parsed.key_lines[loc + (str(key),)] = line
            mapping[key] = _construct(parsed, loader, value_node, loc + (str(key),), offset)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            parsed.key_lines[loc + (index,)] = item.start_mark.line + offset
            items.append(_construct(parsed, loader, item, loc + (index,), offset))
        return items
    return loader.construct_object(node)


def _yaml_problem(parsed: ParsedFile, exc: yaml.YAMLError, offset: int) -> None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + offset if mark is not None else 1
    what = getattr(exc, "problem", None) or str(exc)
    parsed.problem(line, f"invalid YAML in the front matter: {what}")


# --- body ---------------------------------------------------------------------


def _scan_body(parsed: ParsedFile, lines: list[str], start: int) -> None:
    fence: tuple[str, int] | None = None  # (marker char, length) while inside a fence
    current: tuple[str, int, list[str]] | None = None
    first_lines: dict[str, int] = {}
    stray_reported = False
    previous_blank = True
    for index in range(start, len(lines)):
        line = lines[index]
        number = index + 1
        # Most lines are prose: only a line starting with # ` ~ can open a heading or fence.
        first = line.lstrip(" \t")[:1]
        special = first in _SPECIAL_STARTS
        if fence is not None:
            match = _FENCE.match(line) if special else None
            if (
                match
                and match.group(1)[0] == fence[0]
                and len(match.group(1)) >= fence[1]
                and not match.group(2).strip()
            ):
                fence = None
            if current is not None:
                current[2].append(line)
            continue
        match = _FENCE.match(line) if special else None
        if match and not (match.group(1)[0] == "`" and "`" in match.group(2)):
            marker = match.group(1)
            fence = (marker[0], len(marker))
            if not match.group(2).strip():
                parsed.problem(
                    number,
                    f"code block without a language tag: write {marker}python (or {marker}text)",
                )
            if current is None and not stray_reported:
                parsed.problem(number, "text before the first section (## Question)")
                stray_reported = True
            if current is not None:
                current[2].append(line)
            previous_blank = False
            continue
        heading = _HEADING.match(line) if first == "#" else None
        if heading and len(heading.group(1)) <= 2:
            name = (heading.group(2) or "").strip()
            if name.endswith("#"):
                name = _CLOSING_HASHES.sub("", name).strip()
            if len(heading.group(1)) == 1:
                parsed.problem(
                    number, f'unexpected heading "# {name}": card sections are "## " headings'
                )
            else:
                if current is not None:
                    _close_section(parsed, current)
                current = (name, number, [])
                if name not in SECTION_NAMES:
                    close = difflib.get_close_matches(name, SECTION_NAMES, n=1)
                    hint = f' (did you mean "## {close[0]}"?)' if close else ""
                    parsed.problem(number, f'unknown section "## {name}"{hint}')
                elif name in first_lines:
                    parsed.problem(
                        number, f'duplicate section "## {name}" (first at line {first_lines[name]})'
                    )
                else:
                    first_lines[name] = number
            previous_blank = True
            continue
        blank = not line.strip()
        if current is None:
            if not blank and not stray_reported:
                parsed.problem(number, "text before the first section (## Question)")
                stray_reported = True
        else:
            current[2].append(line)
            if (
                current[0] in LIST_SECTIONS
                and not blank
                and previous_blank
                and not line[:1].isspace()
                and not _BULLET.match(line)
            ):
                parsed.problem(number, f'section "## {current[0]}" must be a bullet list')
        if not blank and ("[[" in line or "![" in line):
            scannable = _CODE_SPAN.sub("", line) if "`" in line else line
            for link in _LINK.finditer(scannable):
                parsed.links.append((link.group(1).strip(), number))
            for image in _IMAGE.finditer(scannable):
                parsed.images.append((image.group(1), number))
        previous_blank = blank
    if fence is not None:
        parsed.problem(len(lines), "code block is not closed")
    if current is not None:
        _close_section(parsed, current)
    for name in REQUIRED_SECTIONS:
        if name not in first_lines:
            # Reported where the body starts: that is where the section belongs.
            parsed.problem(min(start + 1, len(lines)), f'missing section "## {name}"')


def _close_section(parsed: ParsedFile, current: tuple[str, int, list[str]]) -> None:
    name, line, body = current
    if name not in SECTION_NAMES or name in parsed.sections:
        return
    text = "\n".join(body).strip("\n")
    if not text.strip():
        parsed.problem(line, f'empty section "## {name}"')
    parsed.sections[name] = Section(name, line, text)
    if "$" in text:
        # The first line of ``text`` is the first non-blank one under the heading.
        first = line + 1 + next((i for i, b in enumerate(body) if b), 0)
        for offset, message in section_math_problems(text):
            parsed.problem(first + offset, message)
