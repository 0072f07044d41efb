"""Markdown -> safe HTML for one card's sections.

Math stays raw TeX inside ``<span class="math math-inline">`` / ``<div class="math math-display">``
for KaTeX in the page; fenced code is highlighted by Pygments with CSS classes (the CSP
forbids ``style=``); ``[[card-id]]`` becomes a link titled with the target's title; and
every fragment goes through nh3, so no script, event handler, ``javascript:`` link or
outside image survives whatever the Markdown says.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from app.content.schema import MAX_ID_LENGTH

# (card_id, lang) -> (current id, title in that language), or None when unknown.
LinkResolver = Callable[[str, str], "tuple[str, str] | None"]

_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ALIGN = re.compile(r"text-align:\s*(left|right|center)")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")

CODE_CSS_CLASS = "highlight"

_ALLOWED_TAGS = {
    "p", "br", "hr", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "sup", "sub",
    "code", "pre", "blockquote", "ul", "ol", "li", "a", "img", "span", "div",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "img": {"src", "alt", "title"},
    "span": {"class"},
    "div": {"class"},
    "code": {"class"},
    "pre": {"class"},
    "th": {"class"},
    "td": {"class"},
    "ol": {"start"},
}


@dataclass
class RenderedCard:
    """One language's rendered text, shaped like the ``card_translation`` row."""

    lang: str
    title: str
    question_html: str = ""
    answer_html: str = ""
    pitfalls_html: str = ""
    key_points: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    search_text: str = ""


def sanitize(fragment: str) -> str:
    """The last line of defence: only known tags and attributes, safe URLs, app images."""
    # The image policy needs a Python callback per attribute, which is slow on
    # highlighted code (a class on every token): pay for it only where an image is.
    cleaner = _cleaners(with_images="<img" in fragment)
    return cleaner.clean(fragment)


# A private-use character: rendered Markdown holds it only where the source does, and
# then ``sanitize_all`` falls back to one pass per fragment.
_SEPARATOR = "\ue000"


def sanitize_all(fragments: list[str]) -> list[str]:
    """``[sanitize(f) for f in fragments]`` in one pass of the sanitizer (a pass costs
    far more to start than per byte). Only for balanced fragments, such as markdown-it's
    output without raw HTML: each then parses alone, and nothing crosses a separator."""
    if len(fragments) > 1 and not any(_SEPARATOR in fragment for fragment in fragments):
        cleaned = sanitize(_SEPARATOR.join(fragments)).split(_SEPARATOR)
        if len(cleaned) == len(fragments):
            return cleaned
    return [sanitize(fragment) for fragment in fragments]


@cache
def _cleaners(*, with_images: bool) -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        clean_content_tags={"script", "style"},
        url_schemes={"http", "https", "mailto"},
        attribute_filter=_filter_attribute if with_images else None,
        link_rel="noopener noreferrer",
    )


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    # Images come only from the app itself: no outside tracking pixels, no data: URLs.
    if tag == "img" and attribute == "src":
        return value if value.startswith("/") and not value.startswith("//") else None
    return value


def pygments_css() -> str:
    """The stylesheet for highlighted code, to be served as a static file."""
    return HtmlFormatter(cssclass=CODE_CSS_CLASS).get_style_defs(f".{CODE_CSS_CLASS}")


@cache
def _lexer(lang: str):  # type: ignore[no-untyped-def]
    try:
        return get_lexer_by_name(lang)
    except ClassNotFound:
        return None


_FORMATTER = HtmlFormatter(nowrap=True)


def _highlight(code: str, lang: str, _attrs: str) -> str:
    lang = lang.strip().split()[0].lower() if lang.strip() else ""
    lexer = _lexer(lang) if lang else None
    body = highlight(code, lexer, _FORMATTER) if lexer else html.escape(code)
    klass = f' class="language-{html.escape(lang)}"' if lang else ""
    return f'<pre class="{CODE_CSS_CLASS}"><code{klass}>{body}</code></pre>\n'


# --- markdown-it plugins --------------------------------------------------------


def _card_link_rule(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    if not src.startswith("[[", pos):
        return False
    # Bounded search, so a line of ten thousand "[[" stays linear.
    end = src.find("]]", pos + 2, pos + 2 + MAX_ID_LENGTH + 2)
    if end < 0:
        return False
    target = src[pos + 2 : end].strip()
    if not _ID.fullmatch(target):
        return False
    if not silent:
        token = state.push("card_link", "", 0)
        token.meta = {"id": target}
        token.content = target
    state.pos = end + 2
    return True


def _render_card_link(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    target = tokens[idx].meta["id"]
    resolved = _resolve(env, target)
    if resolved is None:
        return f'<span class="card-link-missing">{html.escape(target)}</span>'
    card_id, title = resolved
    return f'<a class="card-link" href="/cards/{card_id}">{html.escape(title)}</a>'


def _resolve(env: Mapping[str, Any], card_id: str) -> tuple[str, str] | None:
    resolve = env.get("resolve")
    return resolve(card_id, env["lang"]) if resolve else None


def _render_math_inline(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    return f'<span class="math math-inline">{html.escape(tokens[idx].content)}</span>'


def _render_math_inline_double(
    self: Any, tokens: list[Token], idx: int, options: Any, env: Any
) -> str:
    return f'<span class="math math-display">{html.escape(tokens[idx].content)}</span>'


def _render_math_block(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    return f'<div class="math math-display">{html.escape(tokens[idx].content.strip())}</div>\n'


def _render_image(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    if src and not _SCHEME.match(src) and not src.startswith("/"):
        # Relative to the card's folder; the app serves content files under /content/.
        src = _join_url(env.get("image_base", ""), src)
    else:
        src = ""  # the loader rejects these; never emit them
    alt = html.escape(self.renderInlineAsText(token.children or [], options, env))
    return f'<img src="{html.escape(src)}" alt="{alt}">' if src else alt


def _join_url(base: str, relative: str) -> str:
    parts = [p for p in base.strip("/").split("/") if p]
    for part in relative.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/content/" + "/".join(parts)


@cache
def markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "highlight": _highlight}).enable(
        ["table", "strikethrough"]
    )
    front_matter_plugin(md)
    dollarmath_plugin(md, allow_labels=False, double_inline=True)
    md.inline.ruler.before("link", "card_link", _card_link_rule)
    md.add_render_rule("card_link", _render_card_link)
    md.add_render_rule("math_inline", _render_math_inline)
    md.add_render_rule("math_inline_double", _render_math_inline_double)
    md.add_render_rule("math_block", _render_math_block)
    md.add_render_rule("image", _render_image)
    return md


# --- rendering ------------------------------------------------------------------


def _fix_tokens(tokens: list[Token]) -> None:
    # markdown-it aligns table cells with style="text-align:..."; the CSP forbids style=.
    for token in tokens:
        if token.type in ("th_open", "td_open"):
            style = token.attrs.pop("style", None)
            if style and (match := _ALIGN.search(str(style))):
                token.attrSet("class", f"align-{match.group(1)}")


def _plain_text(tokens: list[Token], env: Mapping[str, Any]) -> str:
    out: list[str] = []
    for token in tokens:
        if token.type == "inline":
            for child in token.children or []:
                if child.type in ("text", "code_inline", "math_inline", "math_inline_double"):
                    out.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    out.append(" ")
                elif child.type == "card_link":
                    resolved = _resolve(env, child.content)
                    out.append(resolved[1] if resolved else child.content)
            out.append(" ")
        elif token.type in ("fence", "code_block", "math_block"):
            out.append(token.content)
            out.append(" ")
    return " ".join("".join(out).split())


_HTML_FIELDS = {"Question": "question_html", "Answer": "answer_html", "Pitfalls": "pitfalls_html"}


def _list_items(tokens: list[Token]) -> list[list[Token]]:
    """The tokens inside each top-level bullet item of a section."""
    items: list[list[Token]] = []
    start: int | None = None
    depth = 0
    for index, token in enumerate(tokens):
        if token.type == "list_item_open":
            if depth == 0:
                start = index
            depth += 1
        elif token.type == "list_item_close":
            depth -= 1
            if depth == 0 and start is not None:
                items.append(tokens[start + 1 : index])
                start = None
    return items


_KEYWORDS = re.compile(r"^\s*(?:keywords|关键词)\s*[:：]\s*(.*)$", re.IGNORECASE | re.DOTALL)


def _split_keywords(inner: list[Token], env: dict[str, Any]) -> tuple[list[Token], list[str]]:
    """A key point's tokens without its nested bullet "keywords: a, b" (mock-interview
    answer matching only; not shown), and those keywords."""
    keep: list[Token] = []
    keywords: list[str] = []
    index = 0
    while index < len(inner):
        token = inner[index]
        if token.type == "bullet_list_open":
            close = next(
                i for i in range(index + 1, len(inner))
                if inner[i].type == "bullet_list_close" and inner[i].level == token.level
            )  # fmt: skip
            block = inner[index : close + 1]
            found = _KEYWORDS.match(_plain_text(block, env))
            if found and sum(t.type == "list_item_open" for t in block) == 1:
                keywords += [k.strip() for k in re.split(r"[,，;；]", found.group(1)) if k.strip()]
                index = close + 1
                continue
        keep.append(token)
        index += 1
    return keep, keywords


def render_card(
    lang: str,
    title: str,
    sections: Mapping[str, str],
    *,
    resolve: LinkResolver | None = None,
    image_base: str = "",
) -> RenderedCard:
    """Render the Markdown of each section (keyed by its heading, e.g. "Key points").

    ``image_base`` is the card's folder relative to ``content/``; ``resolve`` turns a
    ``[[card-id]]`` into the current id and title (unresolved links render as plain text).
    """
    md = markdown()
    env: dict[str, Any] = {"resolve": resolve, "lang": lang, "image_base": image_base}
    rendered = RenderedCard(lang=lang, title=title)
    texts: list[str] = []
    # Every fragment's HTML is sanitised in one pass at the end: ``html_parts`` holds the raw
    # renderer output; each field and item below keeps its index in it.
    html_parts: list[str] = []

    def add(tokens: list[Token]) -> int:
        html_parts.append(md.renderer.render(tokens, md.options, env))
        return len(html_parts) - 1

    fields: list[tuple[str, int]] = []
    items: list[tuple[dict[str, Any], int]] = []  # key point or follow-up, its HTML's index
    for name, source in sections.items():
        tokens = md.parse(source, env)
        _fix_tokens(tokens)
        if name == "Key points":
            for inner in _list_items(tokens):
                inner, keywords = _split_keywords(inner, env)
                point: dict[str, Any] = {"html": "", "text": _plain_text(inner, env)}
                if keywords:
                    point["keywords"] = keywords
                rendered.key_points.append(point)
                items.append((point, add(inner)))
        elif name == "Follow-ups":
            for inner in _list_items(tokens):
                link = _first_link(inner, env)
                follow_up = {"html": "", "text": _plain_text(inner, env), "card_id": link}
                rendered.follow_ups.append(follow_up)
                items.append((follow_up, add(inner)))
        elif name in _HTML_FIELDS:
            fields.append((_HTML_FIELDS[name], add(tokens)))
            if name != "Pitfalls":
                texts.append(_plain_text(tokens, env))
    clean = sanitize_all(html_parts)
    for attribute, index in fields:
        setattr(rendered, attribute, clean[index])
    for item, index in items:
        item["html"] = clean[index].strip()
    rendered.search_text = " ".join([title, *texts])
    return rendered


def _first_link(tokens: list[Token], env: Mapping[str, Any]) -> str | None:
    for token in tokens:
        for child in token.children or []:
            if child.type == "card_link":
                resolved = _resolve(env, child.content)
                return resolved[0] if resolved else None
    return None


# --- batches (run in worker processes for large imports) -------------------------------

# One card to render: its languages' (lang, title, sections), its folder under content/,
# and every link target it uses -> (current id, {lang: title}).
RenderJob = tuple[
    str,
    list[tuple[str, str, dict[str, str]]],
    str,
    dict[str, tuple[str, dict[str, str]]],
]


def render_batch(jobs: list[RenderJob]) -> list[tuple[str, list[RenderedCard]]]:
    """Render cards from plain data only, so a worker process needs nothing else."""
    out = []
    for card_id, files, image_base, links in jobs:

        def resolve(target: str, lang: str, links=links) -> tuple[str, str] | None:  # type: ignore[no-untyped-def]
            found = links.get(target)
            if found is None:
                return None
            current, titles = found
            return current, titles.get(lang) or next(iter(titles.values()))

        out.append(
            (
                card_id,
                [
                    render_card(lang, title, sections, resolve=resolve, image_base=image_base)
                    for lang, title, sections in files
                ],
            )
        )
    return out
