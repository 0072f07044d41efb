"""A write-the-code exercise in Chromium, by keyboard: a learner opens the softmax card's
exercise, submits the unstable softmax with Ctrl+Enter, reads the failing test, fixes it,
passes, confirms the suggested rating, and finds the review in their history."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import Page, expect

from app.exercises.format import load_exercise
from tests.browser.conftest import PROJECT_ROOT
from tests.browser.test_practice import sign_up

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="the judge needs bubblewrap"),
]

SOFTMAX = load_exercise(PROJECT_ROOT / "content" / "exercises" / "softmax.py").meta


def replace_code(page: Page, code: str) -> None:
    """Select everything in the editor and type the code in (inserted as typed text, so
    the editor's auto-indent does not double the indentation)."""
    page.locator(".exercise-panel[data-exercise] .cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)


def test_wrong_then_right_by_keyboard_and_the_rating_reaches_the_log(  # type: ignore[no-untyped-def]
    browser_page,
) -> None:
    page = browser_page
    sign_up(page, "exercise-learner")
    page.goto("/cards/softmax")
    panel = page.locator(".exercise-panel[data-exercise]")
    expect(panel.locator(".cm-editor")).to_be_visible()
    expect(panel.locator("textarea.exercise-code")).to_be_hidden()
    expect(panel.locator(".cm-content")).to_contain_text("def softmax(")  # the starter

    replace_code(page, SOFTMAX.WRONG[0])
    page.keyboard.press("Control+Enter")
    failed = panel.locator(".exercise-case.case-failed")
    expect(failed.first).to_be_visible(timeout=60_000)
    expect(panel.locator(".exercise-verdict-message")).to_contain_text("Not yet.")
    large = panel.locator(".exercise-case.case-failed", has_text="large logits")
    expect(large.locator(".case-message")).not_to_be_empty()
    # The editor kept the learner's code and the focus moves nowhere else.
    expect(panel.locator(".cm-content")).to_contain_text("e = x.exp()")

    replace_code(page, SOFTMAX.REFERENCE)
    page.keyboard.press("Control+Enter")
    expect(panel.locator(".exercise-verdict.verdict-passed")).to_be_visible(timeout=60_000)
    expect(panel.locator(".exercise-case.case-failed")).to_have_count(0)
    expect(panel.locator(".exercise-solution")).to_contain_text("x.amax(dim=dim, keepdim=True)")

    # Failed once first: the suggestion is Hard; the learner confirms it by keyboard.
    rating = panel.locator(".exercise-rating")
    expect(rating).to_contain_text("Suggested rating: Hard")
    hard = rating.locator("button.suggested")
    expect(hard).to_have_text("Hard")
    hard.focus()
    page.keyboard.press("Enter")
    expect(panel.locator(".exercise-confirmed")).to_contain_text("Logged as Hard")

    page.reload()
    history = page.locator(".history-table tbody tr")
    expect(history).to_have_count(1)
    expect(history.first.locator("td").nth(1)).to_have_text("Hard")
    expect(history.first.locator("td").nth(2)).to_have_text("exercise")
    # The next attempt opens with the learner's last (passing) code.
    expect(panel.locator(".cm-content")).to_contain_text("x.amax(dim=dim, keepdim=True)")


TINY_DEMO = """from pydantic import BaseModel
from app.demos.contract import Claim, DemoResult


class Params(BaseModel):
    n: int = 3


def run(params, ctx):
    total = sum(range(params.n + 1))
    return DemoResult(summary=f"my copy sums to {total}",
                      claims=[Claim(id="my-claim", text="It sums.", passed=total == 6)])
"""


def test_the_demo_source_is_shown_read_only_and_an_edited_copy_runs(  # type: ignore[no-untyped-def]
    browser_page,
) -> None:
    page = browser_page
    sign_up(page, "demo-copy-learner")
    page.goto("/cards/softmax")
    source = page.locator(".demo-source")
    shown = source.locator(".demo-source-view .cm-content")
    expect(shown).to_contain_text("Softmax: shift invariance")  # (only visible lines render)
    expect(shown).to_have_attribute("contenteditable", "false")
    expect(source.locator("textarea.demo-source-text")).to_be_hidden()

    source.locator("details.demo-copy summary").click()
    copy = source.locator(".demo-copy-form .cm-content")
    expect(copy).to_contain_text('TITLE = "Softmax in practice"')
    copy.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(TINY_DEMO)
    page.keyboard.press("Control+Enter")
    outcome = source.locator(".demo-copy-outcome")
    expect(outcome).to_contain_text("my copy sums to 6", timeout=60_000)
    expect(outcome.locator('li[data-claim="my-claim"]')).to_have_class("exercise-case case-passed")
    # The shared demo's own source is as it was.
    page.reload()
    expect(page.locator(".demo-source-view .cm-content")).to_contain_text("Softmax")


def test_practice_opens_the_exercise_under_the_card_and_typing_is_not_grading(  # type: ignore[no-untyped-def]
    browser_page,
) -> None:
    page = browser_page
    sign_up(page, "practice-coder")
    page.goto("/practice?card=softmax")
    stage = page.locator("#stage")
    expect(stage).to_have_attribute("data-card-id", "softmax")
    page.keyboard.press("Space")  # the answer: now 1-4 would grade the card
    expect(page.locator(".review-answer")).to_be_visible()
    page.get_by_role("link", name="Write the code").click()
    panel = page.locator("#practice-exercise .exercise-panel[data-exercise]")
    expect(panel.locator(".cm-editor")).to_be_visible()
    panel.locator(".cm-content").click()
    page.keyboard.press("End")
    page.keyboard.type(" 3 1 u ")  # practice's keys: grade Good, Again, undo
    expect(panel.locator(".cm-content")).to_contain_text("3 1 u")
    expect(stage).to_have_attribute("data-card-id", "softmax")  # nothing was graded
