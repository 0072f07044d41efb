"""Anki's HTML as Markdown that renders what the learner saw in Anki."""

from __future__ import annotations

import pytest

from app.content.render import render_card
from app.services.anki.markdown import html_to_markdown


def md(source: str) -> str:
    return html_to_markdown(source)[0]


def html(markdown: str) -> str:
    return render_card("en", "t", {"Answer": markdown}).answer_html


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<b>word </b>next", "**word** next"),
        ("a<b> b</b>c", "a **b**c"),
        ("<i>RMSprop </i>scaling", "*RMSprop* scaling"),
        ("<b><i>both </i></b>then", "***both*** then"),
        ("x<b> </b>y<i></i>", "x y"),
        ("<b>line<br></b>next", "**line**\\\nnext"),
    ],
)
def test_whitespace_moves_outside_emphasis(source: str, expected: str) -> None:
    assert md(source) == expected
    assert "**" not in html(md(source)).replace("<strong>", "").replace("</strong>", "")


def test_div_and_br_lines_stay_lines_of_one_paragraph() -> None:
    assert md("<div>one</div><div>two</div><div>three</div>") == "one\\\ntwo\\\nthree"
    assert html(md("<div>one</div><div>two</div>")).count("<p>") == 1
    assert md("a<br>b") == "a\\\nb"
    # A blank line in Anki (an empty <div> or two <br>) is a new paragraph.
    assert md("<div>one</div><div><br></div><div>two</div>") == "one\n\ntwo"
    assert md("a<br><br>b") == "a\n\nb"
    # A <br> ending a <div> line adds nothing (the browser ignores it too).
    assert md("<div>line<br></div><div>two</div>") == "line\\\ntwo"


def test_entities_are_decoded_inside_math_and_empty_math_is_dropped() -> None:
    text = md("\\(\\beta&nbsp;v &lt; 1\\) then \\(\\) and \\[x &gt; 0\\]")
    assert text == "$\\beta v < 1$ then and $$x > 0$$"
    rendered = html(text)
    assert rendered.count('class="math math-inline"') == 1
    assert rendered.count('class="math math-display"') == 1
    # Tags the Anki editor leaves inside math are dropped, not kept as text.
    assert md("\\(a<br>+ <b>b</b>\\)") == "$a + b$"


def test_an_empty_math_span_does_not_pair_the_wrong_delimiters() -> None:
    text = md("first \\(\\) second \\(y\\) third")
    assert text == "first second $y$ third"
    assert ">y<" in html(text)


def test_code_fence_is_longer_than_any_backtick_run_inside() -> None:
    text = md("<pre>print('```')\nx = 1\n\n````\ny</pre>after")
    assert text.startswith("`````text\n")
    assert text.endswith("\n`````\n\nafter")
    rendered = html(text)
    assert "after" in rendered.split("</pre>")[-1]  # the fence closed where it should
    assert "x = 1" in rendered.split("</pre>")[0]


def test_inline_code_is_not_escaped_and_keeps_its_backticks() -> None:
    assert md("<code>a_b*c</code>") == "`a_b*c`"
    assert md("<code>a`b</code>") == "``a`b``"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("costs $5 * 2 &lt;b&gt; [$]x^2[/$]", "costs \\$5 \\* 2 \\<b> $x^2$"),
        ("<ul><li>a</li><li>b</li></ul>", "- a\n- b"),
        ("<ol><li>a</li><li>b</li></ol>", "1. a\n2. b"),
    ],
)
def test_text_escapes_and_lists(source: str, expected: str) -> None:
    assert md(source) == expected
