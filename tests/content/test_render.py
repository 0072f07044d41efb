"""Rendering: math for KaTeX, highlighted code without inline styles, card links, and
nothing hostile surviving."""

from __future__ import annotations

import re
import time

import pytest

from app.content.render import render_card, sanitize


def resolve(card_id: str, lang: str):  # type: ignore[no-untyped-def]
    titles = {"other-card": {"en": "Other <card>", "zh": "另一张"}}
    found = titles.get(card_id)
    return (card_id, found.get(lang, found["en"])) if found else None


def render(question: str, **sections: str):  # type: ignore[no-untyped-def]
    texts = {"Question": question, "Answer": "A"}
    names = {"key_points": "Key points", "pitfalls": "Pitfalls", "follow_ups": "Follow-ups"}
    texts.update({names[k]: v for k, v in sections.items()})
    return render_card("en", "T", texts, resolve=resolve, image_base="cards/basics")


def test_math_is_kept_raw_for_katex():
    html = render("Inline $a<b$ and\n\n$$\n\\sum_i x_i\n$$\n").question_html
    assert '<span class="math math-inline">a&lt;b</span>' in html
    assert '<div class="math math-display">\\sum_i x_i</div>' in html


def test_code_is_highlighted_with_classes_not_styles():
    html = render("```python\ndef f(x):\n    return x\n```\n").question_html
    assert '<pre class="highlight"><code class="language-python">' in html
    assert '<span class="k">def</span>' in html
    assert "style=" not in html


def test_tables_align_with_classes():
    html = render("| a | b |\n|:--|--:|\n| 1 | 2 |\n").question_html
    assert '<th class="align-left">a</th>' in html
    assert '<td class="align-right">2</td>' in html
    assert "style=" not in html


def test_card_links_show_the_target_title():
    rendered = render("See [[other-card]].", follow_ups="- Compare [[other-card]]")
    assert '<a class="card-link" href="/cards/other-card"' in rendered.question_html
    assert "Other &lt;card&gt;</a>" in rendered.question_html
    assert rendered.follow_ups[0]["card_id"] == "other-card"
    assert rendered.follow_ups[0]["text"] == "Compare Other <card>"


def test_links_in_a_translation_use_its_language():
    rendered = render_card("zh", "题", {"Question": "[[other-card]]"}, resolve=resolve)
    assert ">另一张</a>" in rendered.question_html


def test_key_points_keep_html_and_text():
    rendered = render("Q", key_points="- uses $x^2$\n- **bold** point\n")
    assert rendered.key_points == [
        {"html": 'uses <span class="math math-inline">x^2</span>', "text": "uses x^2"},
        {"html": "<strong>bold</strong> point", "text": "bold point"},
    ]


def test_images_are_served_by_the_app():
    html = render("![a diagram](img/diagram.png)").question_html
    assert '<img src="/content/cards/basics/img/diagram.png" alt="a diagram">' in html


HOSTILE = """<script>alert(1)</script>
<img src=x onerror="alert(2)">
[click](javascript:alert(3)) [data](data:text/html;base64,PHNjcmlwdD4=)
<a href="javascript:alert(4)" onclick="alert(5)">x</a>
![pixel](https://evil.example/p.png)
<style>body{display:none}</style>
"""


def test_hostile_markdown_renders_harmless():
    rendered = render(HOSTILE, pitfalls=HOSTILE, key_points="- " + HOSTILE.replace("\n", " "))
    for html in (rendered.question_html, rendered.pitfalls_html, rendered.key_points[0]["html"]):
        assert "<script" not in html
        assert "<style" not in html
        assert not re.search(r"<[^>]+\son\w+=", html)
        assert not re.search(r"<a[^>]+javascript:", html)
        assert not re.search(r"<a[^>]+data:", html)
        assert "<img" not in html  # the outside image is dropped, not fetched


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("<script>alert(1)</script>ok", "ok"),
        ('<img src="/content/a.png" onerror="alert(1)">', '<img src="/content/a.png">'),
        ('<img src="https://evil.example/a.png">', "<img>"),
        ('<img src="//evil.example/a.png">', "<img>"),
        ('<a href="javascript:alert(1)">x</a>', '<a rel="noopener noreferrer">x</a>'),
        ('<p style="color:red" onclick="x()">p</p>', "<p>p</p>"),
        ("<iframe src=/x></iframe>t", "t"),
    ],
)
def test_sanitize(dirty, clean):
    assert sanitize(dirty) == clean


def test_a_900_kb_line_renders_harmlessly():
    unit = '<script>alert(1)</script><img src=x onerror="alert(2)"> [a](javascript:alert(3)) $x$ '
    line = unit * (900_000 // len(unit))
    start = time.perf_counter()
    rendered = render(line)
    # Linear in the input; generous bound for a shared machine.
    assert time.perf_counter() - start < 60
    html = rendered.question_html
    assert "<script" not in html and "<img" not in html
    assert not re.search(r"<a[^>]+javascript:", html)
    assert html.count('<span class="math math-inline">x</span>') == 900_000 // len(unit)
