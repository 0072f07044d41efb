"""Helpers for writing card files into the per-test ``content_dir``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

DEMO = '''"""A demo for tests (torch-free: the loader imports it to check card params)."""
from pydantic import BaseModel, Field

CLAIMS = {"first-claim": "One.", "second-claim": "Two."}


class Params(BaseModel):
    depth: int = Field(default=10, ge=1, le=40)


def run(params, ctx):
    raise NotImplementedError
'''

BODY = """## Question
What is it?

## Answer
It is.
"""


def card_text(
    card_id: str = "first-card",
    *,
    title: str = "First card",
    extra: str = "",
    demo: str = "demo: none",
    body: str = BODY,
) -> str:
    """A valid card; ``extra`` adds front-matter lines (line 7 onwards)."""
    return (
        "---\n"
        f"id: {card_id}\n"  # line 2
        f"title: {title}\n"  # line 3
        "deck: training/basics\n"  # line 4
        "difficulty: medium\n"  # line 5
        f"{demo}\n"  # line 6
        f"{extra}"
        "---\n"
        f"{body}"
    )


def translation_text(card_id: str = "first-card", *, lang: str = "zh", extra: str = "") -> str:
    return (
        f"---\nid: {card_id}\nlang: {lang}\ntitle: 第一张卡\n{extra}---\n"
        "## Question\n是什么?\n\n## Answer\n就是。\n"
    )


Writer = Callable[[str, str | bytes], Path]


@pytest.fixture
def write(content_dir: Path) -> Writer:
    """write("cards/x/first-card.md", text) -> the path written."""

    def _write(relative: str, text: str | bytes) -> Path:
        path = content_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def demo(write: Writer) -> Path:
    return write("demos/example.py", DEMO)
