"""Editor problems in the admin's words: "Deck: use lowercase letters ..." instead of a
pydantic message with a regular expression. The `backprop check` form (file:line)
stays available beside it."""

from __future__ import annotations

import re
from typing import Any

FIELD_NAMES = {
    "title": "Title", "deck": "Deck", "difficulty": "Difficulty", "tags": "Tags",
    "id": "Id", "demo": "Demo", "demo.path": "Demo", "demo.params": "Demo parameters",
    "demo.proves": "Claims", "answer_time_s": "Answer time",
}  # fmt: skip

_REWRITES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r'invalid "[\w.]+": String should have at least 1 character'), "is required"),
    (
        re.compile(r'invalid "deck": String should match pattern .*'),
        "use lowercase letters, digits, - and _, with / between levels (e.g. training/gradients)",
    ),
    (
        re.compile(r'invalid "id": String should match pattern .*'),
        "use lowercase letters, digits and -, starting with a letter or digit",
    ),
    (re.compile(r'invalid "difficulty": Input should be .*'), "choose easy, medium or hard"),
    (re.compile(r'missing section "## (\w[\w -]*)"'), r"the \1 section is empty"),
    (re.compile(r'invalid "([\w.]+)": '), ""),
]


def plain_message(message: str) -> str:
    for pattern, replacement in _REWRITES:
        if pattern.search(message):
            return pattern.sub(replacement, message, count=1)
    return message


def field_name(field: str) -> str:
    return FIELD_NAMES.get(field, field.replace("_", " ").capitalize())


def plain(problem: Any) -> str:
    """ "Title: is required" for a FieldProblem (field, line, message, where)."""
    text = plain_message(str(problem.message))
    return f"{field_name(str(problem.field))}: {text[:1].upper()}{text[1:]}"
