"""axe-core (vendored under tests/browser/vendor, injected by the test, never served by
the app) on the main pages and states, in English with the light theme and in Chinese
with the dark theme: no serious or critical violation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from tests.browser.conftest import PROJECT_ROOT, LiveServer
from tests.browser.test_demo_panel import wait_pool_ready
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()


@pytest.fixture(scope="module")
def server(live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    server = live_server_factory(PROJECT_ROOT / "content")
    from app.db import make_engine
    from app.services import accounts, practice
    from app.settings import Settings

    settings = Settings(_env_file=None, environment="test", database_url=server.database_url)  # type: ignore[call-arg]
    engine = make_engine(server.database_url)
    with Session(engine) as session:
        for username in ("a11y-admin", "a11y-zh"):
            accounts.create_user(
                session, username, TEST_PASSWORD, role="admin",
                passwords=accounts.passwords_from_settings(settings),
            )  # fmt: skip
        user = accounts.get_user_by_username(session, "a11y-zh")
        assert user is not None and user.id is not None
        practice.set_locale(session, user.id, "zh")
        session.commit()
    engine.dispose()
    return server


def serious(page: Page) -> list[str]:
    """axe's serious and critical violations on the page as it is now."""
    page.evaluate(AXE)  # through the DevTools protocol: the page's CSP does not apply
    result = page.evaluate(
        "async () => JSON.stringify((await axe.run(document, {resultTypes: ['violations']}))"
        ".violations.filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))"
    )
    return list(json.loads(result))


@pytest.mark.parametrize(
    ("username", "theme"),
    [("a11y-admin", "light"), ("a11y-zh", "dark")],
    ids=["en-light", "zh-dark"],
)
def test_main_pages_have_no_serious_violations(
    browser, server: LiveServer, username: str, theme: str
) -> None:  # type: ignore[no-untyped-def]
    wait_pool_ready(server)
    context = browser.new_context(base_url=server.base_url)
    host = server.base_url.split("//", 1)[1].split(":")[0]
    context.add_cookies([{"name": "theme", "value": theme, "domain": host, "path": "/"}])
    context.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    page = context.new_page()
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        page.wait_for_load_state("networkidle")
        violations = serious(page)
        if violations:
            found[name] = violations

    try:
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", TEST_PASSWORD)
        page.keyboard.press("Enter")
        expect(page.locator(".user-menu")).to_contain_text(username)
        expect(page.locator("html")).to_have_attribute("data-theme", theme)
        expect(page.locator("html")).to_have_attribute("lang", "zh" if theme == "dark" else "en")

        page.goto("/")
        check("decks")
        page.goto("/cards/vanishing-gradients")
        check("card")
        page.goto("/practice")
        check("practice question")
        page.keyboard.press("Space")
        expect(page.locator(".review-answer")).to_be_visible()
        check("practice answer")
        page.goto("/demos/vanishing_gradients")
        page.locator(".demo-run").click()
        expect(page.locator(".demo-panel")).to_have_attribute(
            "data-state", "succeeded", timeout=60_000
        )
        check("demo with a result")
        page.goto("/progress")
        check("progress")
        page.goto("/tags/gradients")
        check("tag with its study counts")
        page.goto("/practice/ahead?days=30")
        check("review ahead")
        page.goto("/settings")
        check("settings")
        page.goto("/admin")
        check("admin list")
        page.goto("/admin/cards/vanishing-gradients")
        page.wait_for_timeout(1500)  # the live preview
        check("admin editor")
        page.goto("/admin/cards/new")
        page.wait_for_timeout(1500)
        check("admin editor, new card")

        page.goto("/interview")
        check("interview start")
        page.fill("#length", "1")
        page.keyboard.press("Enter")
        expect(page.locator("#interview")).to_have_attribute("data-phase", "answering")
        check("interview answering")
        page.fill(
            "#answer",
            "Gradients shrink through many sigmoid layers because each derivative is small.",
        )
        page.keyboard.press("Control+Enter")
        expect(page.locator("#interview")).to_have_attribute("data-phase", "reviewing")
        check("interview reviewing")
        while "/report" not in page.url:
            with page.expect_navigation():
                page.locator("#confirm-button").click()
            if "/report" in page.url:
                break
            page.fill("#answer", "A short note.")
            page.keyboard.press("Control+Enter")
            expect(page.locator("#interview")).to_have_attribute("data-phase", "reviewing")
        check("interview report")
    finally:
        context.close()
    assert not found, json.dumps(found, indent=1, ensure_ascii=False)
