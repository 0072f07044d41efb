"""An admin uploads an Anki package, reads the summary, fixes the draft whose math
KaTeX would refuse and publishes it; a learner then downloads their deck for Anki."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.services.anki.package import read_apkg
from tests.anki_packages import BASIC, REVERSED, build, note
from tests.browser.conftest import LiveServer, editor_server
from tests.browser.test_admin_editor import page_for  # noqa: F401 - a fixture, used by name

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(live_server_factory: Callable[..., LiveServer], tmp_path_factory) -> LiveServer:  # type: ignore[no-untyped-def]
    return editor_server(live_server_factory, tmp_path_factory, "anki-content")


def test_admin_imports_fixes_and_publishes_then_a_learner_exports(
    server: LiveServer,
    page_for: Callable[[str], Page],  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    apkg = tmp_path / "interview.apkg"
    apkg.write_bytes(
        build(
            [
                note(BASIC, "What is <b>momentum </b>?", "A velocity \\(v\\)", "g-momentum"),
                note(REVERSED, "Adam", "Momentum and RMSprop", "g-adam"),
                note(BASIC, "Half of one?", "It is \\(\\frac{1}{2\\)", "g-half"),
            ]
        )
    )
    admin = page_for("editor")
    admin.goto("/admin/upload")
    admin.set_input_files('input[name="file"][accept=".apkg"]', str(apkg))
    admin.get_by_role("button", name="Import as drafts").click()
    summary = admin.locator("#anki-done")
    expect(summary).to_contain_text("3 notes; 4 new drafts, 0 updated, 0 unchanged")
    expect(summary).to_contain_text("1 reversed card: each became a draft of its own")

    # The draft with broken math says so in the editor's preview.
    admin.locator("#anki-drafts a", has_text="half-of-one").click()
    admin.wait_for_url("**/admin/cards/half-of-one")
    admin.fill("#s-answer", "It is $\\frac{1}{2$")
    problems = admin.locator("#preview-problems")
    expect(problems).to_contain_text("{ is never closed", timeout=10_000)
    # Fixed, it previews clean and publishes.
    admin.fill("#s-answer", "It is $\\frac{1}{2}$")
    expect(admin.locator("#preview #preview-ok")).to_be_visible(timeout=10_000)
    expect(admin.locator("#preview .katex").first).to_be_visible()
    admin.click("#save")
    admin.wait_for_url("**/admin/cards/half-of-one?saved=1")
    written = server.content_dir / "cards/deep-learning/optimizers/half-of-one.md"
    assert "anki:g-half" in written.read_text()

    # A learner downloads that deck for Anki.
    learner = page_for("learner")
    learner.goto("/settings")
    learner.click("#anki-link")
    learner.wait_for_url("**/anki")
    learner.check('input[name="deck"][value="deep-learning/optimizers"]')
    with learner.expect_download() as download_info:
        learner.click("#export-button")
    path = tmp_path / "mine.apkg"
    download_info.value.save_as(path)
    package = read_apkg(path.read_bytes())
    assert [n.guid for n in package.notes] == ["g-half"]  # the GUID it came with
    assert "\\(\\frac{1}{2}\\)" in package.notes[0].fields[1][1]
