"""Card fields and sections -> the Markdown text of a card file, in the canonical layout.

The canonical layout is what contributors write by hand (every card under
content/cards/ is in it; a test checks each one)::

    ---
    id: vanishing-gradients
    title: Why do gradients vanish in deep networks?
    deck: training/gradients
    tags: [gradients, activations]
    difficulty: medium
    demo:
      path: demos/vanishing_gradients.py
      params: {depth: 20}
      proves: [first-layer-gradient-vanishes]
    answer_time_s: 90
    source: [000_693752ffcdca7e64.txt]
    ---
    ## Question
    ...

    ## Answer
    ...

Keys come in the order of CARD_FORMAT.md's table, optional keys are left out when
they hold their default, lists and params are YAML flow collections, and the sections
come in their fixed order: the heading right after the front matter (or after one
blank line), its text on the next line. The file ends with exactly one newline.
``card_to_markdown(card_from_meta(...))`` of a file in this layout gives back the
same bytes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

SECTION_NAMES = ("Question", "Answer", "Key points", "Pitfalls", "Follow-ups")
DEFAULT_LANG = "en"
MAX_ID_LENGTH = 64


@dataclass
class DemoFields:
    path: str  # relative to content/, e.g. "demos/vanishing_gradients.py"
    params: dict[str, Any] = field(default_factory=dict)
    proves: list[str] = field(default_factory=list)


@dataclass
class CardFields:
    """A default-language card file: its front matter and its sections."""

    id: str
    title: str
    deck: str
    difficulty: str
    demo: DemoFields | None = None
    tags: list[str] = field(default_factory=list)
    lang: str = DEFAULT_LANG
    aliases: list[str] = field(default_factory=list)
    answer_time_s: int | None = None
    source: list[str] = field(default_factory=list)
    exercise: str | None = None  # "exercises/<name>.py", relative to content/
    sections: dict[str, str] = field(default_factory=dict)


@dataclass
class TranslationFields:
    """A translation file ``<id>.<lang>.md``: only what differs per language."""

    id: str
    lang: str
    title: str
    sections: dict[str, str] = field(default_factory=dict)


# --- YAML, one value at a time so the layout stays ours ------------------------------


def _yaml(value: Any) -> str:
    """One value in flow style on one line, quoted only where YAML needs it."""
    text = yaml.safe_dump(
        value, allow_unicode=True, width=10**9, default_flow_style=True, sort_keys=False
    )
    return text.removesuffix("\n...\n").rstrip("\n")


def _front_matter(pairs: Iterable[tuple[str, Any]]) -> list[str]:
    lines = ["---"]
    for key, value in pairs:
        if isinstance(value, DemoFields):
            lines.append(f"{key}:")
            lines.append(f"  path: {_yaml(value.path)}")
            if value.params:
                lines.append(f"  params: {_yaml(dict(value.params))}")
            lines.append(f"  proves: {_yaml(list(value.proves))}")
        else:
            lines.append(f"{key}: {_yaml(value)}")
    lines.append("---")
    return lines


def _body(sections: Mapping[str, str], *, keep_empty: bool = False) -> list[str]:
    unknown = set(sections) - set(SECTION_NAMES)
    if unknown:
        raise ValueError(f"unknown section(s): {', '.join(sorted(unknown))}")
    lines: list[str] = []
    for name in SECTION_NAMES:
        text = normalise_section(sections.get(name, ""))
        if not text and not (keep_empty and name in sections):
            continue
        # The house style: a blank line between sections, none after a heading.
        lines += ([""] if lines else []) + [f"## {name}"] + ([text] if text else [])
    return lines


def normalise_section(text: str) -> str:
    """What a section holds once written: CRLF to LF, trailing spaces kept (Markdown
    line breaks), leading and trailing blank lines dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.strip("\n").rstrip() if text.strip() else ""


def card_to_markdown(card: CardFields, *, keep_empty: bool = False) -> str:
    """The file text. keep_empty writes the headings of empty sections named in
    card.sections, as a skeleton for an author to fill in."""
    pairs: list[tuple[str, Any]] = [
        ("id", card.id),
        ("title", card.title.strip()),
        ("deck", card.deck),
    ]
    if card.tags:
        pairs.append(("tags", list(card.tags)))
    pairs.append(("difficulty", card.difficulty))
    pairs.append(("demo", card.demo if card.demo is not None else "none"))
    if card.lang != DEFAULT_LANG:
        pairs.append(("lang", card.lang))
    if card.aliases:
        pairs.append(("aliases", list(card.aliases)))
    if card.answer_time_s is not None:
        pairs.append(("answer_time_s", card.answer_time_s))
    if card.source:
        pairs.append(("source", list(card.source)))
    if card.exercise:
        pairs.append(("exercise", {"path": card.exercise}))
    return "\n".join(_front_matter(pairs) + _body(card.sections, keep_empty=keep_empty)) + "\n"


def translation_to_markdown(translation: TranslationFields) -> str:
    pairs = [
        ("id", translation.id),
        ("lang", translation.lang),
        ("title", translation.title.strip()),
    ]
    return "\n".join(_front_matter(pairs) + _body(translation.sections)) + "\n"


# --- back from a parsed file -------------------------------------------------------


def card_from_meta(meta: Mapping[str, Any], sections: Mapping[str, str]) -> CardFields:
    """The fields of a parsed default-language file (front matter as loaded by YAML)."""
    demo = meta.get("demo")
    demo_fields = None
    if isinstance(demo, Mapping):
        demo_fields = DemoFields(
            path=str(demo.get("path", "")),
            params=dict(demo.get("params") or {}),
            proves=list(demo.get("proves") or []),
        )
    source = meta.get("source") or []
    exercise = meta.get("exercise")
    return CardFields(
        id=str(meta.get("id", "")),
        title=str(meta.get("title", "")),
        deck=str(meta.get("deck", "")),
        difficulty=str(meta.get("difficulty", "")),
        demo=demo_fields,
        tags=list(meta.get("tags") or []),
        lang=str(meta.get("lang") or DEFAULT_LANG),
        aliases=list(meta.get("aliases") or []),
        answer_time_s=meta.get("answer_time_s"),
        source=[source] if isinstance(source, str) else list(source),
        exercise=str(exercise["path"]) if isinstance(exercise, Mapping) else None,
        sections=dict(sections),
    )


def translation_from_meta(
    meta: Mapping[str, Any], sections: Mapping[str, str]
) -> TranslationFields:
    return TranslationFields(
        id=str(meta.get("id", "")),
        lang=str(meta.get("lang", "")),
        title=str(meta.get("title", "")),
        sections=dict(sections),
    )


# --- ids ---------------------------------------------------------------------------

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(title: str, max_length: int = MAX_ID_LENGTH) -> str:
    """A kebab-case id from a title: ASCII letters and digits, at most max_length chars,
    cut at a word boundary. "Adam's bias correction?" -> "adams-bias-correction"."""
    ascii_text = (
        unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    )
    slug = _NON_SLUG.sub("-", ascii_text.replace("'", "")).strip("-")
    if len(slug) > max_length:
        cut = slug[: max_length + 1]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else slug[:max_length]
    return slug.strip("-") or "card"


def unique_id(title: str, taken: Iterable[str] | None = None, *, exists=None) -> str:  # type: ignore[no-untyped-def]
    """slugify(title), with -2, -3, ... appended until it is neither in ``taken`` nor
    reported by ``exists(id)``."""
    taken_set = set(taken or ())
    base = slugify(title)
    candidate = base
    number = 2
    while candidate in taken_set or (exists is not None and exists(candidate)):
        suffix = f"-{number}"
        candidate = base[: MAX_ID_LENGTH - len(suffix)].rstrip("-") + suffix
        number += 1
    return candidate
