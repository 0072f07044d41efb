"""A follow-up's wording: the question itself, without the linked card's title that the
rendered Markdown appends (the link is how the interviewer picks the next card, not
part of what they ask), as HTML with its math and as plain text."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

# The renderer's card link (app.content.render._render_card_link), and any other tag.
_CARD_LINK = re.compile(r'\s*<a class="card-link"[^>]*>.*?</a>\s*', re.S)
_MISSING_LINK = re.compile(r'\s*<span class="card-link-missing">.*?</span>\s*', re.S)
_TAG = re.compile(r"<[^>]+>")
_PARAGRAPH = re.compile(r"^<p>(.*)</p>$", re.S)


def wording_html(item: Mapping[str, Any]) -> str:
    """The follow-up as inline HTML (sanitized by the content pipeline), link removed."""
    fragment = str(item.get("html", "")).strip()
    fragment = _MISSING_LINK.sub(" ", _CARD_LINK.sub(" ", fragment)).strip()
    inner = _PARAGRAPH.match(fragment)
    return (inner.group(1) if inner else fragment).strip()


def wording_text(item: Mapping[str, Any]) -> str:
    """The follow-up as plain text (math as its TeX source), link removed."""
    if not item.get("html"):
        return str(item.get("text", "")).strip()
    return " ".join(html.unescape(_TAG.sub("", wording_html(item))).split())


def find_html(follow_ups: list[Mapping[str, Any]], prompt: str) -> str | None:
    """The HTML wording of the follow-up stored as `prompt` (today's plain wording, or
    an older row's full text with the title); None when the card no longer has it."""
    for item in follow_ups:
        if prompt in (wording_text(item), str(item.get("text", ""))):
            return wording_html(item)
    return None
