"""A strict check of a card's math and Markdown, so a span KaTeX would show as a red
error is a problem with its line, in the editor and in ``backprop check``.

KaTeX runs in the reader's browser, not here, so this is a check of what KaTeX
refuses, not KaTeX itself: braces that do not balance, ``\\begin``/``\\end`` that do
not pair or name an environment KaTeX lacks, ``\\left`` without ``\\right``, a control
sequence KaTeX does not define (the list in ``katex_names.json`` is read from the
vendored KaTeX by ``tests/katex_names.js``), HTML entities such as ``&nbsp;`` or
``&lt;`` left in the TeX, an ``&`` outside an alignment, and, in the Markdown, a ``$``
left unpaired or math delimiters paired across text. It does not type-check arguments
(``\\frac{a}`` with one argument passes) or check that a command is used in math mode.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from markdown_it.token import Token

_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{1,6}|#x[0-9a-fA-F]{1,6});")
_ALIGNED = {
    "align", "align*", "aligned", "alignat", "alignat*", "alignedat", "array", "darray",
    "split", "cases", "dcases", "rcases", "drcases", "matrix", "pmatrix", "bmatrix",
    "Bmatrix", "vmatrix", "Vmatrix", "matrix*", "pmatrix*", "bmatrix*", "Bmatrix*",
    "vmatrix*", "Vmatrix*", "smallmatrix", "subarray", "CD", "gather", "gather*", "gathered",
}  # fmt: skip
# Defining a macro makes any later name legal: the name check is skipped then.
_DEFINES = ("\\def", "\\gdef", "\\edef", "\\xdef", "\\let", "\\newcommand", "\\renewcommand",
            "\\providecommand", "\\global")  # fmt: skip


@functools.cache
def katex_names() -> tuple[frozenset[str], frozenset[str]]:
    """(control sequences, environments) the vendored KaTeX defines."""
    data: dict[str, Any] = json.loads((Path(__file__).parent / "katex_names.json").read_text())
    return frozenset(data["commands"]), frozenset(data["environments"])


def tex_problems(tex: str) -> list[str]:
    """What KaTeX would refuse in this TeX, one sentence each (empty: it renders)."""
    problems: list[str] = []
    entity = _ENTITY.search(tex)
    if entity:
        problems.append(f"HTML entity {entity.group(0)} inside math: write the character itself")
    commands, environments = katex_names()
    check_names = not any(d in tex for d in _DEFINES)
    depth = 0
    envs: list[str] = []
    lefts = 0
    unknown: list[str] = []
    index = 0
    while index < len(tex):
        char = tex[index]
        if char == "\\":
            match = re.match(r"\\([a-zA-Z]+|.?)", tex[index:], re.S)
            assert match is not None
            name = "\\" + match.group(1)
            index += len(match.group(0))
            if name in ("\\begin", "\\end"):
                env = re.match(r"\s*\{([^{}]*)\}", tex[index:])
                if env is None:
                    problems.append(f"{name} without {{environment}}")
                    continue
                index += len(env.group(0))
                problem = _environment(name, env.group(1).strip(), envs, environments)
                if problem:
                    problems.append(problem)
            elif name == "\\left":
                lefts += 1
            elif name == "\\right":
                lefts -= 1
                if lefts < 0:
                    problems.append("\\right without \\left")
                    lefts = 0
            elif check_names and name[1:].isalpha() and name not in commands:
                unknown.append(name)
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                problems.append("a } closes no {")
                depth = 0
        elif char == "&" and not (envs and envs[-1] in _ALIGNED) and not entity:
            problems.append("& outside an aligned environment (write \\& for the symbol)")
        elif char == "%":
            problems.append("% starts a TeX comment: write \\% for the symbol")
        index += 1
    if depth > 0:
        problems.append(f"{depth} {{ never closed" if depth > 1 else "a { is never closed")
    if envs:
        problems.append(f"\\begin{{{envs[-1]}}} without \\end{{{envs[-1]}}}")
    if lefts > 0:
        problems.append("\\left without \\right")
    if unknown:
        names = ", ".join(dict.fromkeys(unknown))
        problems.append(f"unknown command {names} (KaTeX does not define it)")
    return list(dict.fromkeys(problems))


def _environment(kind: str, name: str, open_envs: list[str], known: frozenset[str]) -> str | None:
    if kind == "\\begin":
        open_envs.append(name)
        return None if name in known else f"unknown environment {{{name}}}"
    if not open_envs:
        return f"\\end{{{name}}} without \\begin{{{name}}}"
    opened = open_envs.pop()
    return None if opened == name else f"\\begin{{{opened}}} closed by \\end{{{name}}}"


_CODE_SPAN = re.compile(r"(`+).*?\1", re.S)
_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)(?:\\\\)*\$")


def markdown_math_problems(tokens: list[Token], lines: list[str]) -> list[tuple[int, str]]:
    """(0-based line, sentence) for each math span KaTeX would refuse and each ``$``
    left unpaired, from a markdown-it token stream of ``lines``."""
    found: list[tuple[int, str]] = []
    for token in tokens:
        start = token.map[0] if token.map else 0
        if token.type == "math_block":
            found += [(start, p) for p in tex_problems(token.content)]
        if token.type != "inline" or not token.children:
            continue
        end = token.map[1] if token.map else start + 1
        delimiters = 0
        for child in token.children:
            if child.type not in ("math_inline", "math_inline_double"):
                continue
            delimiters += 2 if child.type == "math_inline" else 4
            line = _line_of(child.content, lines, start, end)
            problems = tex_problems(child.content)
            if child.content[:1].isspace() and child.content[-1:].isspace():
                problems.append("math delimiters paired across text: check each $ pair")
            found += [(line, p) for p in problems]
        raw = _CODE_SPAN.sub("", token.content)
        if len(_UNESCAPED_DOLLAR.findall(raw)) > delimiters:
            line = _line_of("$", lines, start, end)
            found.append((line, "a $ opens math that never closes (write \\$ for the sign)"))
    return found


def _line_of(needle: str, lines: list[str], start: int, end: int) -> int:
    for number in range(start, min(end, len(lines))):
        if needle.split("\n")[0] in lines[number]:
            return number
    return start


_COMMAND = re.compile(r"\\[a-zA-Z]+")
_DELIMITER = re.compile(r"(?<!\\)\$\$?")
_LEFT, _RIGHT = re.compile(r"\\left(?![a-zA-Z])"), re.compile(r"\\right(?![a-zA-Z])")


def _worth_parsing(text: str) -> bool:
    """A cheap look over the whole section: could any math in it be refused? Parsing
    Markdown costs a millisecond a section, and most sections are fine."""
    if _ENTITY.search(text):
        return True
    pieces = _DELIMITER.split(text)
    if len(pieces) % 2 == 0:  # an odd number of delimiters
        return True
    for math in pieces[1::2]:  # what the delimiters enclose, paired in order
        if math[:1] in (" ", "\t") and math[-1:].isspace() or "&" in math or "%" in math:
            return True
    raw = text.replace("\\{", "").replace("\\}", "")
    if raw.count("{") != raw.count("}") or "\\begin" in raw or "\\end" in raw:
        return True
    if len(_LEFT.findall(raw)) != len(_RIGHT.findall(raw)):
        return True
    commands, _ = katex_names()
    return any(name not in commands for name in _COMMAND.findall(text))


def section_math_problems(text: str) -> list[tuple[int, str]]:
    """(0-based line in ``text``, sentence) for the math of one card section."""
    from app.content.render import markdown  # the renderer the pages use

    if not _worth_parsing(text):
        return []
    return markdown_math_problems(markdown().parse(text), text.split("\n"))
