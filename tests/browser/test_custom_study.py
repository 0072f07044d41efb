"""Custom study in Chromium: review ahead from the "done" screen of one deck, with the
keyboard (the answers are ordinary reviews: the card info shows them); "Study now" on
one tag, with its New / Learn / Due counts."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_practice import current_card, live_server, sign_up  # noqa: F401

pytestmark = pytest.mark.browser
expect.set_options(timeout=15_000)


def test_review_ahead_the_cards_of_a_deck_with_the_keyboard(browser_page) -> None:  # type: ignore[no-untyped-def]
    page: Page = browser_page
    sign_up(page, "ahead-learner")
    page.goto("/practice?deck=evaluation")  # "Study now" on a deck of two cards
    page.bring_to_front()
    graduated = []
    for _ in range(2):
        card = current_card(page)
        graduated.append(card)
        page.keyboard.press("Space")
        page.keyboard.press("4")  # Easy: straight to review, due days from now
        expect(page.locator("#stage")).not_to_have_attribute("data-card-id", card)
    expect(page.locator(".done")).to_be_visible()

    page.fill("#ahead-days", "60")
    with page.expect_navigation():
        page.get_by_role("button", name="Review them now").click()
    expect(page.locator(".study-scope")).to_contain_text("evaluation due within 60 days")
    expect(page.locator(".ahead-left")).to_have_text("2 cards left")
    reviewed = []
    for _ in range(2):
        card = current_card(page)
        reviewed.append(card)
        expect(page.locator(".grade-good .grade-interval")).not_to_be_empty()
        page.keyboard.press("Space")
        with page.expect_navigation():
            page.keyboard.press("3")
    expect(page.locator(".done")).to_contain_text("No more cards due within 60 days")
    assert sorted(reviewed) == sorted(graduated)

    page.goto(f"/practice/info/{reviewed[0]}")
    expect(page.locator(".history-table tbody tr")).to_have_count(2)  # learn, then review
    expect(page.locator("#info-state")).to_have_text("Review")


def test_study_now_on_one_tag_with_its_counts(browser_page) -> None:  # type: ignore[no-untyped-def]
    page: Page = browser_page
    sign_up(page, "tag-learner")
    page.goto("/tags/gradients")
    links = page.locator(".card-list a").evaluate_all("(as) => as.map(a => a.getAttribute('href'))")
    tagged = {href.removeprefix("/cards/") for href in links}
    assert len(tagged) >= 3
    expect(page.locator(".tag-study .count-new")).to_have_text("New 10")  # the daily limit
    expect(page.locator(".tag-study .count-review")).to_have_text("Due 0")
    page.get_by_role("link", name="Study now: gradients").click()
    expect(page.locator(".study-scope")).to_contain_text("tagged gradients")
    page.bring_to_front()
    for _ in range(3):
        card = current_card(page)
        assert card in tagged
        page.keyboard.press("Space")
        page.keyboard.press("1")  # Again: it stays in learning today
        expect(page.locator("#stage")).not_to_have_attribute("data-card-id", card)
    assert current_card(page) in tagged
    page.goto("/practice")  # the choice holds on this device
    expect(page.locator(".study-scope")).to_contain_text("tagged gradients")
    page.goto("/tags/gradients")
    expect(page.locator(".tag-study .count-learning")).to_have_text("Learn 3")
    expect(page.locator(".tag-study .count-new")).to_have_text("New 7")
    page.goto("/practice?deck=")
    expect(page.locator(".study-scope")).to_have_count(0)
