"""The review screen's Anki controls, with the keyboard only: focus starts on "Show
answer", Space then grades Good, - buries, @ suspends, Ctrl+1..4 flag, I shows card
info (history and FSRS state), and a phone-width session works with them."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_practice import current_card, live_server, sign_up  # noqa: F401

pytestmark = pytest.mark.browser
# The shared machine is busy while the whole suite runs: give each swap time.
expect.set_options(timeout=15_000)


def test_review_controls_with_the_keyboard(browser_page) -> None:  # type: ignore[no-untyped-def]
    page: Page = browser_page
    sign_up(page, "controls-learner")
    page.goto("/practice")
    page.bring_to_front()  # focus checks need the page to be the active one
    # No Tab through the header first: the first key already acts on the card.
    expect(page.locator(".reveal-button")).to_be_focused()
    first = current_card(page)

    page.keyboard.press("Space")
    expect(page.locator(".review-answer")).to_be_visible()
    page.keyboard.press("Space")  # answer shown: Space grades Good, as in Anki
    expect(page.locator("#stage")).not_to_have_attribute("data-card-id", first)
    expect(page.locator(".reveal-button")).to_be_focused()
    expect(page.locator("#stage-heading")).not_to_be_focused()

    second = current_card(page)
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # Enter works the same
    expect(page.locator("#stage")).not_to_have_attribute("data-card-id", second)

    flagged = current_card(page)
    page.keyboard.press("Control+1")
    expect(page.locator("#flag-mark.flag-1")).to_be_visible()
    expect(page.locator(".notice")).to_have_text("Flagged.")
    assert current_card(page) == flagged
    page.keyboard.press("Control+4")
    expect(page.locator("#flag-mark.flag-4")).to_be_visible()
    page.keyboard.press("Control+4")
    expect(page.locator("#flag-mark")).to_have_count(0)

    page.keyboard.press("i")
    expect(page.locator("#card-info-h")).to_be_focused()
    expect(page.locator("#info-state")).to_have_text("New")

    page.keyboard.press("-")
    expect(page.locator(".notice")).to_contain_text("Buried until tomorrow")
    expect(page.locator("#stage")).not_to_have_attribute("data-card-id", flagged)

    suspended = current_card(page)
    page.keyboard.press("@")
    expect(page.locator(".notice")).to_contain_text("Suspended")
    expect(page.locator("#stage")).not_to_have_attribute("data-card-id", suspended)

    # Card info of an answered card: its history and FSRS state.
    page.goto(f"/practice/info/{first}")
    expect(page.locator("#info-state")).to_have_text("Learning")
    expect(page.locator(".history-table tbody tr")).to_have_count(1)


def test_a_phone_width_session_with_the_tools(browser, live_server, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    context = browser.new_context(
        base_url=live_server.base_url, viewport={"width": 375, "height": 740}, has_touch=True
    )
    page = context.new_page()
    try:
        sign_up(page, "phone-tools")
        page.goto("/practice")
        header = page.locator("header").first.bounding_box()
        assert header is not None and header["height"] <= 64, header  # one compact row
        for _ in range(3):
            card = current_card(page)
            page.locator(".reveal-button").tap()
            page.locator(".grade-good").tap()
            expect(page.locator("#stage")).not_to_have_attribute("data-card-id", card)
        # Nothing wider than the screen.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, width
        page.screenshot(path=str(tmp_path / "phone-practice.png"))
    finally:
        context.close()


def test_a_password_mismatch_keeps_both_fields_and_the_focus(browser_page) -> None:  # type: ignore[no-untyped-def]
    page: Page = browser_page
    page.goto("/signup")
    page.fill("#username", "typo-learner")
    page.fill("#password", "correct horse battery")
    page.fill("#password_confirm", "correct horse batery")
    page.focus("#password_confirm")
    page.keyboard.press("Enter")
    assert page.url.endswith("/signup")
    expect(page.locator("#password")).to_have_value("correct horse battery")
    expect(page.locator("#password_confirm")).to_have_value("correct horse batery")
    expect(page.locator("#password_confirm")).to_be_focused()
    assert "differ" in page.eval_on_selector("#password_confirm", "e => e.validationMessage")
    page.fill("#password_confirm", "correct horse battery")
    page.keyboard.press("Enter")
    expect(page.locator(".user-menu")).to_contain_text("typo-learner")


def test_study_now_on_one_deck_and_back_to_all(browser_page) -> None:  # type: ignore[no-untyped-def]
    page: Page = browser_page
    sign_up(page, "deck-learner")
    page.goto("/")
    expect(page.locator(".first-run")).to_be_visible()  # a newcomer is told where to start
    deck = page.locator(".deck-list li").filter(has=page.locator('a[href="/decks/optimization"]'))
    expect(deck.locator(".count-new")).to_contain_text("New")
    deck.get_by_role("link", name="Study now: optimization").click()
    expect(page.locator(".study-scope")).to_contain_text("optimization")
    for _ in range(3):
        expect(page.locator(".review-deck")).to_contain_text("optimization")
        card = current_card(page)
        page.keyboard.press("Space")
        page.keyboard.press("4")
        expect(page.locator("#stage")).not_to_have_attribute("data-card-id", card)
    page.goto("/practice")  # the choice holds on this device
    expect(page.locator(".study-scope")).to_contain_text("optimization")
    page.get_by_role("link", name="Study all decks").click()
    expect(page.locator(".study-scope")).to_have_count(0)


def test_cram_a_deck_leaves_the_schedule_alone(browser_page) -> None:  # type: ignore[no-untyped-def]
    page: Page = browser_page
    sign_up(page, "cram-learner")
    page.goto("/")
    deck = page.locator(".deck-list li").filter(has=page.locator('a[href="/decks/evaluation"]'))
    deck.get_by_role("link", name="Cram: evaluation").click()
    expect(page.locator(".study-scope")).to_contain_text("cramming evaluation")
    seen = set()
    for _ in range(2):  # the evaluation deck has two cards
        card = current_card(page)
        assert card and card not in seen
        seen.add(card)
        page.keyboard.press("Space")
        with page.expect_navigation():
            page.keyboard.press("1")
    expect(page.locator(".done")).to_contain_text("crammed every card")
    page.goto("/practice")
    expect(page.locator(".count-new .count-n")).to_have_text("10")  # nothing was introduced
