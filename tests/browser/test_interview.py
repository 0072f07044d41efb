"""A mock interview in Chromium, with the keyboard: five questions (and their follow-ups),
a reload in the middle that resumes the same question with its draft and its clock, a
skip, then the report, whose numbers must be those of the ticks confirmed.

With BACKPROP_SCREENSHOTS_DIR set, the report is saved there as mock-report.png.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.conftest import LiveServer
from tests.real_content import usable_content

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def live_server(live_server_factory, tmp_path_factory) -> LiveServer:  # type: ignore[no-untyped-def]
    content = usable_content(tmp_path_factory.mktemp("interview") / "content")
    return live_server_factory(content, env={"BACKPROP_DEMO_WORKERS": "0"})


def sign_up(page: Page, username: str) -> None:
    page.goto("/signup")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.fill("#password_confirm", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator(".user-menu")).to_contain_text(username)


def seconds_left(page: Page) -> int:
    text = page.locator("#countdown").inner_text()
    minutes, seconds = text.split(":")
    return int(minutes) * 60 + int(seconds)


def test_five_question_interview_with_the_keyboard_reload_and_report(  # type: ignore[no-untyped-def]
    browser_page, tmp_path
) -> None:
    page = browser_page
    refused: list[str] = []  # a draft sent after its answer was handed in gets 409
    page.on("response", lambda r: refused.append(r.url) if r.status == 409 else None)
    sign_up(page, "mock-learner")
    page.goto("/interview")
    page.focus("#length")
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    page.keyboard.press("Enter")  # submits the start form
    expect(page.locator("#interview")).to_have_attribute("data-phase", "answering")

    confirmed: list[tuple[int, int]] = []  # (ticked, total) per question, in order
    step = 0
    while "/report" not in page.url:
        stage = page.locator("#interview")
        expect(stage).to_have_attribute("data-phase", "answering")
        position = stage.get_attribute("data-position")
        expect(page.locator("#answer")).to_be_focused()
        page.keyboard.type("Notes: gradient, normalization, learning rate, variance, noise.")
        if step == 2:
            # A reload in the middle: same question, the draft kept, the clock not reset.
            expect(stage).to_have_attribute("data-draft-saved", re.compile(r"\d+"))
            before = seconds_left(page)
            page.reload()
            expect(page.locator("#interview")).to_have_attribute("data-position", position or "")
            expect(page.locator("#answer")).to_have_value(re.compile("^Notes: gradient"))
            assert seconds_left(page) <= before
        skip = step == 3
        if skip:
            page.keyboard.press("Tab")  # Done
            page.keyboard.press("Tab")  # Skip
            expect(page.locator("#skip-button")).to_be_focused()
            page.keyboard.press("Enter")
        else:
            page.keyboard.press("Control+Enter")
        expect(page.locator("#interview")).to_have_attribute("data-phase", "reviewing")
        boxes = page.locator("#confirm-form .iv-tick")
        total = boxes.count()
        assert total >= 1
        if not skip:
            page.keyboard.press("1")  # correct the first pre-tick, whatever it was
            if total >= 3 and step % 2 == 0:
                page.keyboard.press("3")
        ticked = sum(1 for i in range(total) if boxes.nth(i).is_checked())
        if skip:
            assert ticked == 0
        confirmed.append((ticked, total))
        with page.expect_navigation():
            page.keyboard.press("Enter")
        step += 1
        assert step <= 10, "five questions and at most five follow-ups"

    main_questions = 5
    assert step >= main_questions
    assert not refused, refused
    rows = page.locator("#question-table tbody tr")
    expect(rows).to_have_count(len(confirmed))
    for i, (ticked, total) in enumerate(confirmed):
        expect(rows.nth(i)).to_have_attribute("data-covered", str(ticked))
        expect(rows.nth(i)).to_have_attribute("data-total", str(total))
    # Jinja's round filter rounds halves up (Python's round() to even): 28.5% shows as 29%.
    expected = math.floor(100 * sum(t / n for t, n in confirmed) / len(confirmed) + 0.5)
    expect(page.locator("#overall-score")).to_have_text(f"{expected}%")
    expect(rows.nth(3)).to_contain_text("skipped")
    expect(page.locator("#rating-mapping")).to_contain_text("At least 70% of the key points")
    missed = sum(n - t for t, n in confirmed)
    if missed:
        expect(page.locator("#missed-list li")).not_to_have_count(0)

    page.screenshot(path=str(tmp_path / "mock-report.png"), full_page=True)
    target = os.environ.get("BACKPROP_SCREENSHOTS_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1100, "height": 1500})
        page.screenshot(path=str(Path(target) / "mock-report.png"))

    markdown = page.request.get(page.url + ".md")
    assert markdown.ok and f"Overall score: {expected}%" in markdown.text()

    # The answers are in the schedule: practice now has cards due from the interview.
    page.goto("/interview")
    expect(page.locator(".iv-table")).to_contain_text(f"{expected}%")


SHORT_CARD = """---
id: short-question
title: What does batch normalization do?
deck: training
difficulty: easy
demo: none
answer_time_s: 3
---
## Question
What does batch normalization do?

## Answer
It normalizes each feature over the mini-batch, then applies a learned scale and shift.

## Key points
- Normalizes each feature over the mini-batch
- A learned scale and shift

## Follow-ups
- Why does He initialization use a variance of $2/n_{in}$? [[init-scale]]
"""

LINKED_CARD = """---
id: init-scale
title: How should weights be initialized for ReLU networks?
deck: initialization
difficulty: easy
demo: none
answer_time_s: 60
---
## Question
How should weights be initialized for ReLU networks?

## Answer
With He initialization: variance $2/n_{in}$.

## Key points
- Variance 2 over fan-in
"""


def test_the_countdown_runs_out_and_hands_the_answer_in(  # type: ignore[no-untyped-def]
    browser, live_server_factory, tmp_path
) -> None:
    content = tmp_path / "content"
    (content / "cards" / "training").mkdir(parents=True)
    (content / "demos").mkdir()
    (content / "cards" / "training" / "short-question.md").write_text(SHORT_CARD)
    (content / "cards" / "initialization").mkdir()
    (content / "cards" / "initialization" / "init-scale.md").write_text(LINKED_CARD)
    server = live_server_factory(content, env={"BACKPROP_DEMO_WORKERS": "0"})
    context = browser.new_context(base_url=server.base_url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requests: list[str] = []  # the interview's API and form requests, in order
    page.on(
        "request",
        lambda r: requests.append(f"{r.method} {r.url}") if "interview" in r.url else None,
    )
    refused: list[str] = []
    page.on(
        "response", lambda r: refused.append(f"{r.status} {r.url}") if r.status == 409 else None
    )
    try:
        sign_up(page, "timer-learner")
        page.goto("/interview")
        page.focus("#length")
        page.keyboard.press("Control+A")
        page.keyboard.type("1")
        page.check('input[name="decks"][value="training"]')  # the short card asks first
        page.focus("#length")
        page.keyboard.press("Enter")
        expect(page.locator("#countdown")).to_be_visible()
        page.keyboard.type("BN normalizes each feature over the minibatch")
        # Still typing when the clock reaches zero: a draft save is pending at the hand-in.
        # Keys go to the answer box only while it is there: under load the hand-in can land
        # between a check and a keystroke, and a stray key on the review page moves on.
        answering = page.locator("#interview[data-phase=answering] #answer")
        for _ in range(60):
            try:
                answering.press_sequentially(" x", timeout=300)
            except PlaywrightTimeoutError:
                break
            page.wait_for_timeout(100)
        # No key pressed: at zero the page hands the typed answer in by itself.
        expect(page.locator("#interview")).to_have_attribute(
            "data-phase", "reviewing", timeout=10_000
        )
        expect(page.locator(".iv-typed")).to_contain_text("BN normalizes each feature")
        boxes = page.locator("#confirm-form .iv-tick")
        expect(boxes.nth(0)).to_be_checked()  # matched: batch normalization = BN
        expect(boxes.nth(1)).not_to_be_checked()
        # The learner's own words that matched the point, marked beside it.
        expect(page.locator(".iv-points li").nth(0).locator(".iv-your-words mark")).to_contain_text(
            ["normalizes", "feature", "minibatch"]
        )
        # On time (within the grace), and told why it was handed in.
        expect(page.locator(".notice")).to_have_count(1)
        expect(page.locator(".notice.iv-time-up")).to_contain_text("Time is up")
        # No draft after the hand-in (the server would refuse it with 409).
        handed_in = max(
            i for i, r in enumerate(requests) if r.startswith("POST") and "/answer" in r
        )
        assert not [r for r in requests[handed_in:] if r.startswith("PUT")], requests
        assert not refused, refused

        # The follow-up asks its own question, with its math rendered, and without the
        # linked card's title appended.
        with page.expect_navigation():
            page.keyboard.press("Enter")
        heading = page.locator("#iv-heading")
        expect(heading).to_contain_text("Why does He initialization use a variance of")
        expect(heading.locator(".katex")).to_have_count(1)
        assert "$" not in heading.inner_text() and "n_{in}" not in heading.inner_text()
        assert "How should weights be initialized" not in heading.inner_text()
    finally:
        context.close()
    assert not errors
