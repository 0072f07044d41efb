"""Anki field HTML -> the Markdown of a card section.

Anki's editor writes HTML the way a browser does: ``<b>word </b>`` (the space inside
the emphasis, which Markdown would show as literal ``**``), one ``<div>`` per line,
entities such as ``&nbsp;`` and ``&lt;`` inside MathJax, and sometimes an empty
``\\(\\)``. Conversion keeps what the learner saw: whitespace is moved outside emphasis,
``<div>`` and ``<br>`` lines stay lines of one paragraph (a blank line only where
Anki showed one), math is decoded and delimited with ``$``/``$$``, and ``<pre>`` code
is fenced with more backticks than any run inside it.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nh3

from app.services.anki.package import safe_media_name

_KEEP = {"b", "strong", "i", "em", "u", "code", "pre", "br", "p", "div", "ul", "ol", "li",
         "img", "a", "sub", "sup", "span", "table", "tr", "td", "th", "hr"}  # fmt: skip
MATH = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]|\[\$\$\](.*?)\[/\$\$\]|\[\$\](.*?)\[/\$\]"
                  r"|\[latex\](.*?)\[/latex\]", re.S)  # fmt: skip
SOUND = re.compile(r"\[sound:[^\]]*\]")
_ESCAPE = re.compile(r"([\\`*_\[\]$<])")
_TAG = re.compile(r"<[^>]*>")

# Private-use characters mark what the parser emits but Markdown must not see as text.
_MATH_OPEN, _MATH_CLOSE = "\ue000", "\ue001"
_LINE = "\ue002"  # end of a <div>: a line break, however many close at once
_BR = "\ue003"  # one <br>: each one is a line
_PARA = "\ue004"  # end of a <p>: a paragraph break
_BLOCK_OPEN, _BLOCK_CLOSE = "\ue005", "\ue006"
_MARKS = _LINE + _BR + _PARA
_BLOCK = re.compile(f"{_BLOCK_OPEN}(\\d+){_BLOCK_CLOSE}")
_PLACEHOLDER = re.compile(f"{_MATH_OPEN}(\\d+){_MATH_CLOSE}")
_BREAKS = re.compile(f"[ \t{_MARKS}]*[{_MARKS}][ \t{_MARKS}]*")
_EMPHASIS = {"b": "**", "strong": "**", "i": "*", "em": "*"}


def decode_math(tex: str) -> str:
    """The TeX Anki stored in HTML: tags dropped, entities decoded, no-break spaces plain."""
    tex = _TAG.sub("", re.sub(r"<br\s*/?>", " ", tex))
    return re.sub(r"[ \t\n]{2,}", " ", html.unescape(tex).replace("\xa0", " ")).strip()


class _Markdowner(HTMLParser):
    """Sanitised HTML -> Markdown. Text is escaped; math placeholders pass through."""

    def __init__(self, image_for: dict[str, str]) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[int]] = []  # [counter] per open list; 0 = bulleted
        self.pre: list[int] = []  # where each open <pre> starts in ``out``
        self.code: list[int] = []  # where each open inline <code> starts
        self.emphasis: list[int] = []  # where each open emphasis marker is
        self.divs: list[int] = []
        self.link: str | None = None
        self.image_for = image_for
        self.used: list[str] = []
        self.blocks: list[str] = []  # fenced code, kept out of the whitespace clean-up

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if self.pre:
            if tag == "br":
                self.out.append("\n")
            return
        if tag in _EMPHASIS and not self.code:
            self.emphasis.append(len(self.out))
            self.out.append(_EMPHASIS[tag])
        elif tag == "code":
            self.code.append(len(self.out))
        elif tag == "pre":
            self.pre.append(len(self.out))
        elif tag == "br":
            self.out.append(_BR)
        elif tag == "div":
            self.divs.append(len(self.out))
            self.out.append(_LINE)
        elif tag in ("p", "table", "tr"):
            self.out.append(_PARA)
        elif tag == "hr":
            self.out.append(f"{_PARA}---{_PARA}")
        elif tag in ("ul", "ol"):
            self.lists.append([1 if tag == "ol" else 0])
            self.out.append(_PARA)
        elif tag == "li":
            indent = "  " * (len(self.lists) - 1)
            counter = self.lists[-1] if self.lists else [0]
            marker = f"{counter[0]}." if counter[0] else "-"
            if counter[0]:
                counter[0] += 1
            self.out.append(f"\n{indent}{marker} ")
        elif tag == "img":
            src = safe_media_name(attributes.get("src") or "")
            if src and src in self.image_for:
                self.used.append(src)
                alt = _ESCAPE.sub(r"\\\1", attributes.get("alt") or src)
                self.out.append(f"![{alt}]({self.image_for[src]})")
        elif tag == "a":
            href = attributes.get("href") or ""
            if href.startswith(("http://", "https://")):
                self.link = href
                self.out.append("[")
        elif tag in ("td", "th"):
            self.out.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self.pre:
            start = self.pre.pop()
            if not self.pre:
                self.blocks.append(fenced(strip_marks("".join(self.out[start:]))))
                self.out[start:] = [
                    f"{_PARA}{_BLOCK_OPEN}{len(self.blocks) - 1}{_BLOCK_CLOSE}{_PARA}"
                ]
            return
        if self.pre:
            if tag in ("div", "p"):
                self.out.append("\n")
            return
        if tag in _EMPHASIS and self.emphasis and not self.code:
            self._close_emphasis(_EMPHASIS[tag])
        elif tag == "code" and self.code:
            start = self.code.pop()
            self.out[start:] = [code_span("".join(self.out[start:]))]
        elif tag == "div":
            start = self.divs.pop() if self.divs else len(self.out)
            # A <br> closing a line of text is no extra line (browsers ignore it), but
            # <div><br></div> is how Anki writes a blank line.
            body = "".join(self.out[start:])
            if body.rstrip(" \t").endswith(_BR) and body.strip(_MARKS + " \t"):
                index = max(i for i in range(start, len(self.out)) if self.out[i] == _BR)
                del self.out[index]
            self.out.append(_LINE)
        elif tag in ("p", "table", "tr"):
            self.out.append(_PARA)
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self.out.append(_PARA)
        elif tag == "a" and self.link:
            self.out.append(f"]({self.link})")
            self.link = None

    def _close_emphasis(self, marker: str) -> None:
        """Close the innermost emphasis with whitespace and line breaks moved after it;
        an emphasis around nothing visible is dropped."""
        start = self.emphasis.pop()
        trailing: list[str] = []
        while len(self.out) > start + 1 and not self.out[-1].strip(" \t\n" + _MARKS):
            trailing.insert(0, self.out.pop())
        text = "".join(self.out[-1:]) if len(self.out) > start + 1 else ""
        if text and text != text.rstrip(" \t"):
            self.out[-1] = text.rstrip(" \t")
            trailing.insert(0, " ")
        if len(self.out) == start + 1:  # nothing inside
            del self.out[start]
        else:
            self.out.append(marker)
        self.out.extend(trailing)

    def handle_data(self, data: str) -> None:
        if self.pre or self.code:
            self.out.append(data)
            return
        text = re.sub(r"\s+", " ", data)
        if text.startswith(" ") and self.emphasis and self.emphasis[-1] == len(self.out) - 1:
            # "<b> word</b>": the space goes before the opening marker.
            self.out.insert(self.emphasis[-1], " ")
            self.emphasis[-1] += 1
            text = text.lstrip(" ")
        if text:
            self.out.append(_escape_keeping_math(text))


def strip_marks(text: str) -> str:
    return text.replace(_LINE, "\n").replace(_BR, "\n").replace(_PARA, "\n")


def fenced(code: str) -> str:
    """A fenced block longer than any backtick run in the code, so none can close it."""
    code = code.strip("\n")
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{code}\n{fence}"


def code_span(code: str) -> str:
    code = strip_marks(code).replace("\n", " ")
    if not code.strip():
        return ""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if code.startswith("`") or code.endswith("`") else ""
    return f"{ticks}{pad}{code}{pad}{ticks}"


def _escape_keeping_math(text: str) -> str:
    parts = []
    last = 0
    for match in _PLACEHOLDER.finditer(text):
        parts.append(_ESCAPE.sub(r"\\\1", text[last : match.start()]))
        parts.append(match.group(0))
        last = match.end()
    parts.append(_ESCAPE.sub(r"\\\1", text[last:]))
    return "".join(parts)


def _breaks(match: re.Match[str]) -> str:
    run = match.group(0)
    lines = run.count(_BR) + (1 if _LINE in run else 0)
    return "\n\n" if _PARA in run or lines >= 2 else "\\\n"


def html_to_markdown(source: str, image_for: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """Anki field HTML -> (Markdown, media names it uses). Sanitised first with nh3."""
    maths: list[str] = []

    def keep_math(match: re.Match[str]) -> str:
        inline, display, dd, d, latex = match.groups()
        tex = decode_math(inline if inline is not None else d if d is not None else "")
        if inline is None and d is None:
            tex = decode_math(display or dd or latex or "")
            text = f"$${tex}$$" if tex else ""
        else:
            text = f"${tex}$" if tex else ""
        if not text:  # an empty \(\) would pair with the next delimiter
            return ""
        maths.append(text)
        return f"{_MATH_OPEN}{len(maths) - 1}{_MATH_CLOSE}"

    source = SOUND.sub("", source)
    source = MATH.sub(keep_math, source)
    clean = nh3.clean(
        source,
        tags=_KEEP,
        attributes={"img": {"src", "alt"}, "a": {"href"}},
        clean_content_tags={"script", "style"},
        url_schemes={"http", "https"},
        link_rel=None,
    )
    parser = _Markdowner(image_for or {})
    parser.feed(clean)
    parser.close()
    text = "".join(parser.out).strip(_MARKS + " \t\n")
    text = _BREAKS.sub(_breaks, text)
    text = _PLACEHOLDER.sub(lambda m: maths[int(m.group(1))], text)
    text = text.replace(_MATH_OPEN, "").replace(_MATH_CLOSE, "")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    # A hard break (backslash) only where a line of the same paragraph follows it.
    text = re.sub(r"\\\n(?=\n|$|\s*(?:[-*+]|\d+\.) )", "\n", text)
    text = re.sub(r"\\$", "", text)
    text = re.sub(
        f"{_BLOCK_OPEN}(\\d+){_BLOCK_CLOSE}", lambda m: parser.blocks[int(m.group(1))], text
    )
    return text, parser.used


def plain_text(source: str) -> str:
    text = nh3.clean(re.sub(r"<br\s*/?>|</(div|p|li)>", " ", source), tags=set())
    return re.sub(r"\s+", " ", html.unescape(text)).strip()
