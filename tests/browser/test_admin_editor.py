"""An admin creates a card with math, code and a demo in the browser, previews it and
saves it; a learner then meets it in practice with the math rendered by KaTeX."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, editor_server
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

TITLE = "Why does a deep sigmoid MLP lose its gradient?"
CARD_ID = "why-does-a-deep-sigmoid-mlp-lose-its-gradient"
QUESTION = "In a 20-layer MLP with $\\sigma(x) = 1/(1+e^{-x})$, why do early layers learn slowly?"
ANSWER = (
    "Backprop multiplies one factor per layer, and $\\sigma'(z) \\le 1/4$:\n\n"
    "$$\\left\\|\\frac{\\partial L}{\\partial h_1}\\right\\| \\lesssim "
    "\\prod_{i=2}^{L} \\|W_i\\| \\, \\tfrac14$$\n\n"
    "```python\nimport torch\nx = torch.zeros(3, requires_grad=True)\n"
    "torch.sigmoid(x).sum().backward()\nprint(x.grad)  # 0.25 each\n```"
)


@pytest.fixture(scope="module")
def server(live_server_factory: Callable[..., LiveServer], tmp_path_factory) -> LiveServer:  # type: ignore[no-untyped-def]
    """The project's demos and no cards, so practice offers the new card first."""
    return editor_server(live_server_factory, tmp_path_factory, "admin-content")


@pytest.fixture
def page_for(browser, server: LiveServer, tmp_path: Path) -> Iterator[Callable[[str], Page]]:  # type: ignore[no-untyped-def]
    """page_for(username): a fresh context logged in as that user; console errors and
    requests to other origins fail the test (as ``browser_page`` does)."""
    contexts = []
    errors: list[str] = []
    foreign: list[str] = []
    own = urlsplit(server.base_url).netloc

    def make(username: str) -> Page:
        context = browser.new_context(base_url=server.base_url)
        contexts.append(context)
        # Chromium asks for /favicon.ico on its own; the app has none yet (a 404 would
        # read as a console error that no page of ours caused).
        context.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
        page.on(
            "response",
            lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        page.on(
            "request",
            lambda r: (
                foreign.append(r.url)
                if urlsplit(r.url).scheme in ("http", "https") and urlsplit(r.url).netloc != own
                else None
            ),
        )
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", TEST_PASSWORD)
        page.click("form.auth-form button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        return page

    yield make
    for index, context in enumerate(contexts):
        with contextlib.suppress(Exception):
            context.pages[0].screenshot(path=str(tmp_path / f"screen-{index}.png"), full_page=True)
        context.close()
    assert not errors, f"console errors: {errors}"
    assert not foreign, f"requests to other origins: {foreign}"


def wait_pool_ready(server: LiveServer, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while not server.get_json("/api/demos")["runner"].get("ready"):
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.2)


def test_admin_creates_a_card_and_a_learner_practises_it(
    server: LiveServer, page_for: Callable[[str], Page]
) -> None:
    admin = page_for("editor")
    admin.goto("/admin/cards/new")
    admin.fill("#f-title", TITLE)
    admin.fill("#f-deck", "training/gradients")
    admin.select_option("#f-difficulty", "medium")
    admin.fill("#f-tags", "gradients, activations")
    admin.fill("#s-question", QUESTION)
    admin.fill("#s-answer", ANSWER)
    admin.fill("#s-key_points", "- $\\sigma'(z) \\le 1/4$ shrinks the signal layer by layer")

    # The demo picker: choose the demo, see its claims, tick the one the card proves.
    admin.select_option("#f-demo", "demos/vanishing_gradients.py")
    claims = admin.locator('.demo-claims[data-demo="demos/vanishing_gradients.py"]')
    expect(claims).to_be_visible()
    claims.locator('input[value="first-layer-gradient-vanishes"]').check()
    admin.fill("#f-params", "{depth: 20}")

    # The live preview (debounced) renders through the deck's pipeline, KaTeX included,
    # and says the card would pass `backprop check`.
    preview = admin.locator("#preview")
    expect(preview.locator("#preview-ok")).to_be_visible(timeout=10_000)
    expect(preview.locator(".katex").first).to_be_visible()
    expect(
        preview.locator(".math-display .katex-display, .math-display .katex").first
    ).to_be_visible()
    expect(preview.locator("pre.highlight code")).to_contain_text("torch.sigmoid")
    expect(admin.locator("#f-id")).to_contain_text(CARD_ID)

    # Run preview of the chosen demo: its claims come back checked.
    wait_pool_ready(server)
    admin.click("#run-demo")
    expect(admin.locator("#demo-result .claim-pass, #demo-result .claim-fail").first).to_be_visible(
        timeout=90_000
    )
    expect(admin.locator("#demo-result")).to_contain_text("first-layer-gradient-vanishes")

    admin.click("#save")
    admin.wait_for_url(f"**/admin/cards/{CARD_ID}?saved=1")
    expect(admin.locator(".flash")).to_contain_text("Saved.")
    written = server.content_dir / "cards" / "training" / "gradients" / f"{CARD_ID}.md"
    assert written.read_text().startswith(f"---\nid: {CARD_ID}\ntitle: {TITLE}\n")

    # The card page shows it with the math rendered.
    admin.goto(f"/cards/{CARD_ID}")
    expect(admin.locator("article .katex").first).to_be_visible()

    # A learner meets it in practice, math rendered by KaTeX.
    learner = page_for("learner")
    learner.goto(f"/practice?card={CARD_ID}")
    expect(learner.get_by_text("why do early layers learn slowly", exact=False)).to_be_visible()
    expect(learner.locator(".katex").first).to_be_visible()


def test_a_new_card_starts_without_problems_and_lists_the_demo_s_parameters(page_for) -> None:  # type: ignore[no-untyped-def]
    page = page_for("editor")
    page.goto("/")
    expect(page.get_by_role("link", name="Admin")).to_be_visible()  # admins find /admin
    page.goto("/admin/cards/new")
    page.wait_for_timeout(800)  # longer than the preview's debounce
    expect(page.locator("#preview-problems")).to_have_count(0)  # not "4 problems" in red
    page.select_option("#f-demo", "demos/rnn_gradients.py")
    table = page.locator('.demo-claims[data-demo="demos/rnn_gradients.py"] .demo-param-list')
    expect(table).to_be_visible()
    expect(table).to_contain_text("forget_bias")
    expect(table).to_contain_text("rnn, lstm, gru")
    assert "depth" not in (page.get_attribute("#f-params", "placeholder") or "")
    page.fill("#f-title", "A test title")
    problems = page.locator("#preview-problems li")
    expect(problems.first).to_be_visible()
    # Plain words, not a regular expression.
    assert "^[a-z0-9]" not in page.locator("#preview-problems").inner_text()
