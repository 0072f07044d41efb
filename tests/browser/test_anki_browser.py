"""An admin uploads an Anki package, reads the summary, fixes the draft whose math
KaTeX would refuse and publishes it; a learner then downloads their deck for Anki."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from app.services.anki.package import read_apkg
from tests.anki_packages import BASIC, REVERSED, build, note
from tests.browser.conftest import PROJECT_ROOT, LiveServer
from tests.browser.test_admin_editor import page_for  # noqa: F401 - a fixture, used by name
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(live_server_factory: Callable[..., LiveServer], tmp_path_factory) -> LiveServer:  # type: ignore[no-untyped-def]
    content = tmp_path_factory.mktemp("anki-content") / "content"
    (content / "cards").mkdir(parents=True)
    shutil.copytree(PROJECT_ROOT / "content" / "demos", content / "demos")
    server = live_server_factory(content_dir=content)
    from app.db import make_engine
    from app.services import accounts
    from app.settings import Settings

    settings = Settings(_env_file=None, environment="test", database_url=server.database_url)  # type: ignore[call-arg]
    engine = make_engine(server.database_url)
    with Session(engine) as session:
        for name, role in (("editor", "admin"), ("learner", "learner")):
            accounts.create_user(
                session, name, TEST_PASSWORD, role=role,
                passwords=accounts.passwords_from_settings(settings),
            )  # fmt: skip
    engine.dispose()
    return server


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
