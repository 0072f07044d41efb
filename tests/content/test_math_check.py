"""Math KaTeX would refuse is a problem with its file and line; the check agrees with
the vendored KaTeX itself (run under Node when it is installed)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import card_text

from app.content.math_check import katex_names, section_math_problems, tex_problems
from app.content.tree import load_deck

ROOT = Path(__file__).resolve().parents[2]
KATEX = ROOT / "app/web/static/vendor/katex/katex.min.js"
REFUSED = [
    "a &lt; b",  # an entity Anki left in
    "\\beta&nbsp;v",
    "\\frac{a}{b",
    "a}",
    "\\foo x",
    "\\begin{foo}x\\end{foo}",
    "\\begin{aligned}a\\end{cases}",
    "\\left( x",
    "x \\right)",
    "a & b",
]
# KaTeX renders these without an error but silently drops what follows the %.
STRICTER = ["50% of x"]
ACCEPTED = [
    "v_t = \\beta v_{t-1} + g_t",
    "\\frac{\\partial L}{\\partial w}",
    "\\begin{aligned} a &= b \\\\ c &= d \\end{aligned}",
    "\\left( \\frac{1}{2} \\right)",
    "\\leftarrow \\rightarrow",
    "\\operatorname{softmax}(x)_i",
    "\\mathbb{E}[x] \\le \\sqrt{n}",
    "\\{a, b\\} \\% \\&",
    "\\text{if } x > 0",
]


@pytest.mark.parametrize("tex", REFUSED + STRICTER)
def test_refused_math_is_a_problem(tex: str) -> None:
    assert tex_problems(tex), tex


@pytest.mark.parametrize("tex", ACCEPTED)
def test_good_math_passes(tex: str) -> None:
    assert tex_problems(tex) == []


def test_the_problems_say_what_is_wrong() -> None:
    assert tex_problems("a &lt; b") == ["HTML entity &lt; inside math: write the character itself"]
    assert tex_problems("\\frac{a}{b") == ["a { is never closed"]
    assert tex_problems("\\foo + \\bar") == ["unknown command \\foo (KaTeX does not define it)"]
    assert tex_problems("\\begin{foo}x\\end{foo}") == ["unknown environment {foo}"]


def test_markdown_pairing_problems() -> None:
    # An empty \(\) from Anki became "$$": the delimiters pair across the text.
    text = "first\n\nsecond $$ third $y$ end"
    found = section_math_problems(text)
    assert (2, "math delimiters paired across text: check each $ pair") in found
    assert section_math_problems("one $x$ and a lone $ sign") == [
        (0, "a $ opens math that never closes (write \\$ for the sign)")
    ]
    assert section_math_problems("costs \\$5, `$x` in code, and $x$") == []


def test_a_card_with_bad_math_has_a_problem_on_its_line(content_dir: Path) -> None:
    body = "## Question\nWhat is it?\n\n## Answer\nIt is\n\n$a &lt; b$ and $\\frac{1}{2$.\n"
    path = content_dir / "cards/basics/first-card.md"
    path.parent.mkdir(parents=True)
    path.write_text(card_text(body=body))
    found = [(p.line, p.message) for p in load_deck(content_dir).problems]
    assert found == [
        (14, "HTML entity &lt; inside math: write the character itself"),
        (14, "a { is never closed"),
    ]


def test_the_real_cards_have_no_math_problems() -> None:
    problems = [p for p in load_deck(ROOT / "content").problems if "math" in p.message]
    assert problems == []


# --- against KaTeX itself --------------------------------------------------------------


def _katex(expressions: list[str]) -> list[bool]:
    script = (
        "const k=require(process.argv[1]);console.warn=()=>{};const out=[];"
        "for(const t of JSON.parse(require('fs').readFileSync(0,'utf8'))){"
        "try{k.renderToString(t,{throwOnError:true});out.push(true)}catch(e){out.push(false)}}"
        "process.stdout.write(JSON.stringify(out))"
    )
    result = subprocess.run(
        ["node", "-e", script, str(KATEX)],
        input=json.dumps(expressions),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return list(json.loads(result.stdout))


needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node for KaTeX")


@needs_node
def test_the_check_agrees_with_katex() -> None:
    cases = REFUSED + ACCEPTED
    rendered = _katex(cases)
    assert [not ok for ok in rendered] == [bool(tex_problems(t)) for t in cases]
    assert _katex(STRICTER) == [True]


@needs_node
def test_every_math_span_of_the_real_cards_renders_in_katex() -> None:
    from app.content.render import markdown

    spans = []
    md = markdown()
    for path in sorted((ROOT / "content/cards").rglob("*.md")):
        for token in md.parse(path.read_text(encoding="utf-8")):
            if token.type == "math_block":
                spans.append(token.content)
            for child in token.children or []:
                if child.type.startswith("math_inline"):
                    spans.append(child.content)
    assert len(spans) > 100
    rendered = _katex(spans)
    assert [s for s, ok in zip(spans, rendered, strict=True) if not ok] == []
    assert [s for s in spans if tex_problems(s)] == []


@needs_node
def test_katex_names_match_the_vendored_katex() -> None:
    result = subprocess.run(
        ["node", str(ROOT / "tests/katex_names.js"), str(KATEX)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    fresh = json.loads(result.stdout)
    commands, environments = katex_names()
    assert set(fresh["commands"]) == commands
    assert set(fresh["environments"]) == environments
