"""The review session in Chromium: sign up, answer five cards with the keyboard only,
undo one, see the progress page count them; KaTeX; a phone-sized screen; no JavaScript.

Each test leaves screenshots in its tmp dir (``browser_page`` adds a last one). With
BACKPROP_SCREENSHOTS_DIR set (``make screenshots``-style runs) the main pages are also
saved there under stable names, for the README.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, wait_until
from tests.real_content import usable_content

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def live_server(live_server_factory, tmp_path_factory) -> LiveServer:  # type: ignore[no-untyped-def]
    """Overrides the shared one for this module: every real card that imports today,
    and no demo workers (nothing here runs a demo)."""
    content = usable_content(tmp_path_factory.mktemp("practice") / "content")
    return live_server_factory(content, env={"BACKPROP_DEMO_WORKERS": "0"})


def shoot(page: Page, tmp_path: Path, name: str, *, full_page: bool = False) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=full_page)
    target = os.environ.get("BACKPROP_SCREENSHOTS_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"{name}.png"), full_page=full_page)


def sign_up(page: Page, username: str) -> None:
    page.goto("/signup")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.fill("#password_confirm", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator(".user-menu")).to_contain_text(username)


def current_card(page: Page) -> str:
    return page.locator("#stage").get_attribute("data-card-id") or ""


def test_review_five_cards_with_the_keyboard_undo_one_and_see_progress(  # type: ignore[no-untyped-def]
    browser_page, tmp_path
) -> None:
    page = browser_page
    sign_up(page, "kbd-learner")
    page.goto("/practice")
    expect(page.locator(".queue-counts")).to_contain_text("new")
    answered = []
    for i, key in enumerate(["3", "1", "4", "2", "3"]):
        card = current_card(page)
        assert card and card not in answered
        expect(page.locator(".review-answer")).to_be_hidden()
        page.keyboard.press("Space")
        expect(page.locator(".review-answer")).to_be_visible()
        expect(page.locator(".grade-buttons .grade")).to_have_count(4)
        intervals = page.locator(".grade-buttons .grade-interval").all_inner_texts()
        assert intervals[2] != intervals[3], intervals  # Good and Easy never tie
        if i == 0:
            shoot(page, tmp_path, "practice-answer")
        url_before = page.url
        page.keyboard.press(key)
        expect(page.locator("#stage")).not_to_have_attribute("data-card-id", card)
        assert page.url == url_before  # no page load: htmx swapped the stage
        answered.append(card)
    shoot(page, tmp_path, "practice-question")

    page.keyboard.press("u")
    expect(page.locator(".notice")).to_contain_text("Took back")
    expect(page.locator("#stage")).to_have_attribute("data-card-id", answered[-1])

    page.goto("/progress")
    expect(page.locator("#stat-reviews")).to_have_text("4")
    expect(page.locator("#stat-streak")).to_have_text("1")
    assert page.locator("svg.chart").count() >= 3
    shoot(page, tmp_path, "progress", full_page=True)

    page.goto("/cards/" + answered[0])
    expect(page.locator(".history-table tbody tr")).to_have_count(1)


def test_math_renders_with_katex_and_code_is_highlighted(browser_page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    page.goto("/search?q=gradient")
    links = page.locator(".search-results a")
    assert links.count() > 0
    for i in range(links.count()):
        page.goto(links.nth(i).get_attribute("href") or "/")
        if page.locator(".math-inline, .math-display").count():
            break
    else:
        pytest.fail("no card with math found")
    expect(page.locator(".katex").first).to_be_visible()
    rendered = page.locator(".math-inline[data-rendered], .math-display[data-rendered]").count()
    assert rendered == page.locator(".math-inline, .math-display").count()
    assert page.locator(".katex-error").count() == 0
    shoot(page, tmp_path, "card", full_page=True)
    page.goto("/")
    shoot(page, tmp_path, "decks", full_page=True)


def test_a_phone_sized_screen_works(browser_page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    sign_up(page, "phone-learner")
    page.goto("/practice")
    page.get_by_text("Show answer").click()  # a tap
    buttons = page.locator(".grade-buttons .grade")
    expect(buttons).to_have_count(4)
    for i in range(4):
        box = buttons.nth(i).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert box["height"] >= 44  # a thumb-sized target
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, tmp_path, "phone-practice")
    card = current_card(page)
    buttons.nth(2).click()
    expect(page.locator("#stage")).not_to_have_attribute("data-card-id", card)
    for path in ("/progress", "/settings", "/"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path


def test_settings_switch_to_chinese_and_dark(browser_page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    sign_up(page, "zh-learner")
    page.goto("/settings")
    shoot(page, tmp_path, "settings", full_page=True)
    page.select_option("#language", "zh")
    page.select_option("#theme", "dark")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".notice.ok")).to_have_text("已保存。")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.goto("/practice")
    expect(page.locator(".reveal-button")).to_contain_text("显示答案")
    page.keyboard.press("Space")
    expect(page.locator(".grade-label").first).to_have_text("重来")
    wait_until(page, "document.fonts.status === 'loaded'")
    shoot(page, tmp_path, "practice-dark-zh")  # Debian's Noto CJK fonts are installed now


def test_without_javascript_the_session_still_works(browser, live_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.base_url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_up(page, "nojs-learner")
        page.goto("/practice")
        card = current_card(page)
        page.get_by_text("Show answer").click()  # <details> opens without script
        page.get_by_role("button", name=re.compile("^Good")).click()
        page.wait_for_url(re.compile(r"/practice$"))
        assert current_card(page) != card
        page.get_by_role("button", name=re.compile("^Undo")).click()
        expect(page.locator("#stage")).to_have_attribute("data-card-id", card)
        page.screenshot(path=str(tmp_path / "no-js.png"))
    finally:
        context.close()


def test_settings_take_the_browser_time_zone_and_an_interview_date_alone(  # type: ignore[no-untyped-def]
    browser, live_server
) -> None:
    context = browser.new_context(base_url=live_server.base_url, timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        sign_up(page, "tz-learner")
        page.goto("/settings")
        expect(page.locator("#time_zone")).to_have_value("Asia/Shanghai")
        expect(page.locator("#time_zone-hint")).to_contain_text("Asia/Shanghai")
        page.fill("#interview_on", "2030-01-15")  # minutes left at their default
        page.get_by_role("button", name="Save settings").click()
        expect(page.locator(".notice.ok")).to_be_visible()
        expect(page.locator("#time_zone")).to_have_value("Asia/Shanghai")
        expect(page.locator("#interview_minutes_per_day")).to_have_value("30")
    finally:
        context.close()
    assert not errors, errors
