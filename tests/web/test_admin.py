"""The admin area: the 403 wall, saving with round trip, conflicts, history and revert,
retire/restore, bulk upload and Anki import through the pages."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Card, CardChange
from app.services.importer import import_tree
from tests.conftest import log_in

DEMO = '''"""A demo for the tests."""
from pydantic import BaseModel

TITLE = "Sigmoid saturation"
CLAIMS = {
    "derivative-at-most-quarter": "The sigmoid's derivative is at most 1/4.",
    "saturates": "The derivative vanishes for large inputs.",
}


class Params(BaseModel):
    depth: int = 10


def run(params, ctx):
    raise NotImplementedError
'''

ANSWER = (
    "The derivative is $\\sigma'(x) = \\sigma(x)(1 - \\sigma(x)) \\le 1/4$.\n\n"
    "$$\\prod_{i=1}^{L} \\sigma'(z_i) \\le 4^{-L}$$\n\n"
    "```python\nimport torch\ntorch.sigmoid(torch.zeros(1))\n```"
)


def card_form(**overrides: str | list[str]) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "base_version": "",
        "status": "new",
        "id": "",
        "lang": "en",
        "title": "Why does the sigmoid make gradients vanish?",
        "deck": "training/gradients",
        "difficulty": "medium",
        "tags": "gradients, activations",
        "answer_time_s": "",
        "source": "",
        "aliases": "",
        "demo_path": "demos/sigmoid.py",
        "demo_params": "{depth: 20}",
        "demo_proves": ["derivative-at-most-quarter"],
        "s_question": "Why do deep sigmoid networks train slowly?",
        "s_answer": ANSWER,
        "s_key_points": "- $\\sigma' \\le 1/4$\n- the product shrinks with depth",
        "s_pitfalls": "",
        "s_follow_ups": "",
        "t_zh_title": "",
        "t_zh_s_question": "",
        "t_zh_s_answer": "",
        "t_zh_s_key_points": "",
        "t_zh_s_pitfalls": "",
        "t_zh_s_follow_ups": "",
        "action": "publish",
    }
    form.update(overrides)
    return form


@pytest.fixture
def tree(content_dir: Path) -> Path:
    (content_dir / "demos" / "sigmoid.py").write_text(DEMO)
    return content_dir


def create(client: TestClient, **overrides: str | list[str]):  # type: ignore[no-untyped-def]
    return client.post("/admin/cards", data=card_form(**overrides), follow_redirects=False)


def version_in(html: str) -> str:
    match = re.search(r'name="base_version" value="([^"]*)"', html)
    assert match
    return match.group(1)


CARD_ID = "why-does-the-sigmoid-make-gradients-vanish"
CARD_PATH = f"cards/training/gradients/{CARD_ID}.md"


# --- the wall --------------------------------------------------------------------------


def admin_routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    from app.web.routes.admin import router

    found = []
    for route in router.routes:
        path = getattr(route, "path", "")
        if path.startswith("/admin"):
            for method in sorted(route.methods - {"HEAD"}):
                found.append((method, path))
    return found


def concrete(path: str) -> str:
    return path.replace("{card_id}", "some-card").replace("{change_id}", "1")


def test_every_admin_route_is_refused_to_learners_and_logged(
    app, learner_client: TestClient, tree: Path, caplog: pytest.LogCaptureFixture
) -> None:
    routes = admin_routes(app)
    assert len(routes) >= 12
    for method, path in routes:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="backprop.security"):
            response = learner_client.request(method, concrete(path), follow_redirects=False)
        assert response.status_code == 403, (method, path, response.status_code)
        assert any("admin_denied" in r.getMessage() for r in caplog.records), (method, path)


def test_anonymous_visitors_are_sent_to_log_in(app, client: TestClient) -> None:
    for method, path in admin_routes(app):
        response = client.request(method, concrete(path), follow_redirects=False)
        assert response.status_code in (303, 401, 403), (method, path)
        if method == "GET":
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login")


def test_admin_posts_need_the_csrf_token(admin_client: TestClient, tree: Path) -> None:
    response = admin_client.post(
        "/admin/cards", data=card_form(), headers={"X-CSRF-Token": "forged"}
    )
    assert response.status_code == 403
    assert not (tree / CARD_PATH).exists()


# --- saving ----------------------------------------------------------------------------


def test_create_writes_the_canonical_file_and_import_changes_nothing(
    admin_client: TestClient, tree: Path, engine
) -> None:
    response = create(admin_client)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/admin/cards/{CARD_ID}?saved=1"
    text = (tree / CARD_PATH).read_text()
    assert text.startswith(
        f"---\nid: {CARD_ID}\ntitle: Why does the sigmoid make gradients vanish?\n"
        "deck: training/gradients\ntags: [gradients, activations]\ndifficulty: medium\n"
        "demo:\n  path: demos/sigmoid.py\n  params: {depth: 20}\n"
        "  proves: [derivative-at-most-quarter]\n---\n## Question\n"
    )
    assert not list(tree.rglob(".backprop-tmp-*"))
    # Round trip: importing the tree the editor wrote changes nothing.
    with Session(engine) as session:
        report = import_tree(session, tree)
        assert not report.wrote_anything, str(report)
        assert report.unchanged == 1
        card = session.get(Card, CARD_ID)
        assert card is not None and card.status == "active"
    # And the learner page shows it, math in KaTeX's spans.
    page = admin_client.get(f"/cards/{CARD_ID}")
    assert page.status_code == 200
    assert "math-inline" in page.text and "math-display" in page.text


def test_edit_round_trips_and_keeps_the_id(admin_client: TestClient, tree: Path, engine) -> None:
    create(admin_client)
    page = admin_client.get(f"/admin/cards/{CARD_ID}")
    assert page.status_code == 200
    assert 'name="s_answer"' in page.text
    version = version_in(page.text)
    response = create(
        admin_client,
        base_version=version,
        status="active",
        id=CARD_ID,
        title="A new title: the id stays",
        t_zh_title="为什么 sigmoid 会让梯度消失？",
        t_zh_s_question="为什么深层 sigmoid 网络训练很慢？",
        t_zh_s_answer="导数最多为 $1/4$。",
    )
    assert response.status_code == 303, response.text
    assert (tree / CARD_PATH).read_text().count("title: 'A new title: the id stays'") == 1
    assert (tree / f"cards/training/gradients/{CARD_ID}.zh.md").exists()
    with Session(engine) as session:
        assert not import_tree(session, tree).wrote_anything


def test_the_editor_reopens_what_it_saved(admin_client: TestClient, tree: Path) -> None:
    create(admin_client)
    page = admin_client.get(f"/admin/cards/{CARD_ID}").text
    assert "import torch" in page and "{depth: 20}" in page
    assert 'value="derivative-at-most-quarter"\n        checked' in page or re.search(
        r'value="derivative-at-most-quarter"\s+checked', page
    )


def test_problems_are_shown_inline_and_nothing_is_written(
    admin_client: TestClient, tree: Path
) -> None:
    response = create(
        admin_client,
        difficulty="extreme",
        s_answer="See [[no-such-card]].\n\n```\nno language\n```",
        demo_proves=["not-a-claim"],
    )
    assert response.status_code == 422
    html = response.text
    assert 'data-field="difficulty"' in html
    assert re.search(r'data-field="Answer">line 3: code block without a language tag', html)
    # The admin's text is still in the form.
    assert "See [[no-such-card]]." in html
    assert not (tree / CARD_PATH).exists()
    # Once the card itself is well-formed, the checks across files run too.
    html = create(admin_client, s_answer="See [[no-such-card]].", demo_proves=["not-a-claim"]).text
    assert re.search(r'data-field="Answer">line 1: dangling link \[\[no-such-card\]\]', html)
    assert re.search(
        r'data-field="demo.proves">claim &#34;not-a-claim&#34; is not in the CLAIMS', html
    )
    assert not (tree / CARD_PATH).exists()


def test_stale_edit_is_refused_and_the_text_kept(
    admin_client: TestClient, tree: Path, engine
) -> None:
    create(admin_client)
    stale = version_in(admin_client.get(f"/admin/cards/{CARD_ID}").text)
    first = create(
        admin_client, base_version=stale, status="active", id=CARD_ID, s_question="Q by A"
    )
    assert first.status_code == 303
    second = create(
        admin_client, base_version=stale, status="active", id=CARD_ID, s_question="Q by B, unsaved"
    )
    assert second.status_code == 409
    assert "changed by someone else" in second.text
    assert "Q by B, unsaved" in second.text
    assert "Q by A" in (tree / CARD_PATH).read_text()
    # A hand edit of the file (not yet imported) counts as a change too.
    fresh = version_in(admin_client.get(f"/admin/cards/{CARD_ID}").text)
    path = tree / CARD_PATH
    path.write_text(path.read_text().replace("Q by A", "Q by hand"))
    third = create(admin_client, base_version=fresh, status="active", id=CARD_ID)
    assert third.status_code == 409
    assert "Q by hand" in path.read_text()


def test_new_card_with_a_taken_title_gets_a_fresh_id(admin_client: TestClient, tree: Path) -> None:
    create(admin_client)
    response = create(admin_client)
    assert response.headers["location"] == f"/admin/cards/{CARD_ID}-2?saved=1"


def test_preview_renders_math_and_lists_problems(admin_client: TestClient, tree: Path) -> None:
    response = admin_client.post("/admin/preview", data=card_form())
    assert response.status_code == 200
    assert 'class="math math-inline"' in response.text or "math-inline" in response.text
    assert 'id="preview-ok"' in response.text
    assert f'data-generated-id="{CARD_ID}"' in response.text
    bad = admin_client.post(
        "/admin/preview", data=card_form(s_question="<script>x</script>\n## Pitfals")
    )
    assert "<script>" not in bad.text
    assert "Pitfals" in bad.text and 'id="preview-problems"' in bad.text


# --- history, revert, retire ----------------------------------------------------------------


def test_history_and_revert(admin_client: TestClient, tree: Path, engine) -> None:
    create(admin_client, s_question="First question")
    version = version_in(admin_client.get(f"/admin/cards/{CARD_ID}").text)
    create(admin_client, base_version=version, status="active", id=CARD_ID, s_question="Second")
    history = admin_client.get(f"/admin/cards/{CARD_ID}/history")
    assert history.status_code == 200
    assert "-First question" in history.text and "+Second" in history.text
    assert "by admin" in history.text
    with Session(engine) as session:
        changes = session.exec(select(CardChange).order_by(CardChange.number)).all()
        assert [c.action for c in changes] == ["create", "edit"]
        first_id = changes[0].id
    version = version_in(history.text)
    response = admin_client.post(
        f"/admin/cards/{CARD_ID}/revert/{first_id}",
        data={"base_version": version},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert "First question" in (tree / CARD_PATH).read_text()
    with Session(engine) as session:
        last = session.exec(select(CardChange).order_by(CardChange.number.desc())).first()
        assert last.action == "revert" and "reverted to change #1" in last.note
        assert not import_tree(session, tree).wrote_anything
    # A revert based on a stale version is a conflict too.
    stale = admin_client.post(
        f"/admin/cards/{CARD_ID}/revert/{first_id}", data={"base_version": version}
    )
    assert stale.status_code == 409


def test_retire_and_restore(admin_client: TestClient, tree: Path, engine) -> None:
    create(admin_client)
    version = version_in(admin_client.get(f"/admin/cards/{CARD_ID}").text)
    response = admin_client.post(
        f"/admin/cards/{CARD_ID}/retire", data={"base_version": version}, follow_redirects=False
    )
    assert response.status_code == 303
    assert not (tree / CARD_PATH).exists()
    with Session(engine) as session:
        assert session.get(Card, CARD_ID).status == "retired"
        assert not import_tree(session, tree).wrote_anything
    response = admin_client.post(f"/admin/cards/{CARD_ID}/restore", follow_redirects=False)
    assert response.status_code == 303, response.text
    assert (tree / CARD_PATH).exists()
    with Session(engine) as session:
        assert session.get(Card, CARD_ID).status == "active"
        actions = [c.action for c in session.exec(select(CardChange).order_by(CardChange.number))]
        assert actions == ["create", "retire", "restore"]


def test_list_filters_and_counts(admin_client: TestClient, tree: Path) -> None:
    create(admin_client)
    create(
        admin_client,
        title="Plain card",
        deck="fundamentals",
        demo_path="",
        tags="basics",
        difficulty="easy",
    )
    page = admin_client.get("/admin")
    assert page.status_code == 200
    assert "active: 2" in page.text
    assert "2 cards" in admin_client.get("/admin").text
    assert "1 card" in admin_client.get("/admin?missing_demo=true").text
    assert "plain-card" in admin_client.get("/admin?tag=basics").text
    assert CARD_ID not in admin_client.get("/admin?deck=fundamentals").text
    assert "2 cards" in admin_client.get("/admin?missing_translation=zh").text
    assert "1 card" in admin_client.get("/admin?q=plain").text
    assert "0 cards" in admin_client.get("/admin?difficulty=hard").text


# --- bulk upload ------------------------------------------------------------------------------

GOOD = """---
id: momentum
title: Momentum
deck: optimization
difficulty: easy
demo: none
---

## Question

What does momentum add?

## Answer

A velocity.
"""


def zip_of(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload(client: TestClient, name: str, data: bytes):  # type: ignore[no-untyped-def]
    return client.post("/admin/upload", files={"file": (name, data)})


def test_upload_one_card(admin_client: TestClient, tree: Path, engine) -> None:
    response = upload(admin_client, "momentum.md", GOOD.encode())
    assert response.status_code == 200, response.text
    assert (tree / "cards/optimization/momentum.md").read_text() == GOOD
    with Session(engine) as session:
        assert session.get(Card, "momentum").status == "active"
        assert not import_tree(session, tree).wrote_anything


def test_upload_is_all_or_nothing_with_every_problem(admin_client: TestClient, tree: Path) -> None:
    broken = GOOD.replace("id: momentum", "id: rmsprop").replace("## Answer", "## Answr")
    response = upload(
        admin_client,
        "cards.zip",
        zip_of({"optimization/momentum.md": GOOD, "optimization/rmsprop.md": broken}),
    )
    assert response.status_code == 422
    assert "optimization/rmsprop.md:13: unknown section" in response.text
    assert "Nothing was saved" in response.text
    assert not (tree / "cards/optimization/momentum.md").exists()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "cards.zip",
            zip_of({"optimization/momentum.md": GOOD, "evil.py": "x"}),
            "not a Markdown file",
        ),
        ("cards.zip", zip_of({"../../etc/momentum.md": GOOD}), "leaves the content directory"),
        ("bomb.zip", zip_of({"d/bomb.md": "a" * (900 << 10)}), "zip bomb"),
        ("notes.txt", b"hello", "not a Markdown card"),
    ],
)
def test_upload_refusals(
    admin_client: TestClient, tree: Path, name: str, data: bytes, message: str
) -> None:
    response = upload(admin_client, name, data)
    assert response.status_code == 400
    assert message in response.text
    assert not (tree / "cards" / "optimization").exists()


# --- Anki -------------------------------------------------------------------------------------


def test_anki_package_becomes_drafts_learners_never_see(
    admin_client: TestClient, tree: Path, tmp_path: Path, engine, make_user
) -> None:
    import genanki

    model = genanki.Model(
        1607392319,
        "Basic",
        fields=[{"name": "Front"}, {"name": "Back"}],
        templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{Back}}"}],
    )
    deck = genanki.Deck(2059400110, "Optimizers")
    deck.add_note(
        genanki.Note(
            model=model,
            fields=["What is <b>Adam</b>?", 'Momentum + RMSprop <img src="adam.png">'],
            tags=["optim"],
        )
    )
    deck.add_note(
        genanki.Note(model=model, fields=["What is SGD?", "Plain steps."], tags=["optim", "basics"])
    )
    image = tmp_path / "adam.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    package = genanki.Package(deck)
    package.media_files = [str(image)]
    apkg = tmp_path / "deck.apkg"
    package.write_to_file(apkg)

    response = admin_client.post("/admin/anki", files={"file": ("deck.apkg", apkg.read_bytes())})
    assert response.status_code == 200, response.text
    assert "2 new drafts" in response.text
    assert (tree / "media/anki/adam.png").exists()
    with Session(engine) as session:
        drafts = session.exec(select(Card).where(Card.status == "draft")).all()
        assert sorted(c.id for c in drafts) == ["what-is-adam", "what-is-sgd"]
    assert not list((tree / "cards").rglob("*.md"))  # drafts stay out of the files
    editor_page = admin_client.get("/admin/cards/what-is-adam")
    assert "What is **Adam**?" in editor_page.text
    assert "../../media/anki/adam.png" in editor_page.text
    assert "optim" in editor_page.text

    # Learners never see a draft.
    make_user("someone")
    log_in(admin_client, "someone")
    assert admin_client.get("/cards/what-is-adam").status_code == 404
    log_in(admin_client, "admin")

    # Reviewed and published, it becomes a card file like any other.
    version = version_in(editor_page.text)
    form = card_form(
        base_version=version,
        status="draft",
        id="what-is-adam",
        title="What is Adam?",
        deck="optimizers",
        tags="optim",
        demo_path="",
        demo_proves=[],
        s_question="What is **Adam**?",
        s_answer="Momentum + RMSprop ![adam.png](../../media/anki/adam.png)",
        s_key_points="",
    )
    response = admin_client.post("/admin/cards", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert (tree / "cards/optimizers/what-is-adam.md").exists()
    with Session(engine) as session:
        assert session.get(Card, "what-is-adam").status == "active"
        assert session.get(Card, "what-is-sgd").status == "draft"
        assert not import_tree(session, tree).wrote_anything


def test_a_broken_anki_package_is_refused(admin_client: TestClient, tree: Path) -> None:
    response = admin_client.post("/admin/anki", files={"file": ("x.apkg", b"not a zip")})
    assert response.status_code == 400
    assert "an .apkg is a zip file" in response.text


# --- failing demo claims ----------------------------------------------------------------------

RUNNABLE_DEMO = '''"""A demo for the tests, with parameters."""
from pydantic import BaseModel, Field

TITLE = "Sigmoid saturation"
CLAIMS = {
    "derivative-at-most-quarter": "The sigmoid's derivative is at most 1/4.",
    "saturates": "The derivative vanishes for large inputs.",
}


class Params(BaseModel):
    depth: int = Field(5, ge=1, le=40)


def run(params, ctx):
    raise NotImplementedError("the test records runs directly")
'''


def record_run(engine, params: dict, passed: bool, code: str) -> None:  # type: ignore[no-untyped-def]
    import hashlib
    import uuid

    from app.models.base import utcnow
    from app.models.demo_run import DemoRun

    claims = [
        {"id": "derivative-at-most-quarter", "text": "", "passed": passed, "values": {}},
        {"id": "saturates", "text": "", "passed": True, "values": {}},
    ]
    with Session(engine) as session:
        session.add(
            DemoRun(
                id=uuid.uuid4().hex,
                demo_name="sigmoid",
                code_hash=hashlib.sha256(code.encode()).hexdigest(),
                params=params,
                cache_key=uuid.uuid4().hex,
                status="succeeded",
                result={"summary": "", "claims": claims},
                finished_at=utcnow(),
            )
        )
        session.commit()


def test_failing_claims_filter_uses_the_latest_run_with_the_cards_params(
    admin_client: TestClient, tree: Path, engine
) -> None:
    (tree / "demos" / "sigmoid.py").write_text(RUNNABLE_DEMO)
    create(admin_client)  # the card runs the demo with {depth: 20} and proves the first claim
    assert "0 cards" in admin_client.get("/admin?failing_claims=true").text

    # A learner's run with other parameters failing the claim says nothing about the card.
    record_run(engine, {"depth": 3}, passed=False, code=RUNNABLE_DEMO)
    assert "0 cards" in admin_client.get("/admin?failing_claims=true").text

    record_run(engine, {"depth": 20}, passed=False, code=RUNNABLE_DEMO)
    listed = admin_client.get("/admin?failing_claims=true").text
    assert "1 card" in listed and CARD_ID in listed

    # A later passing run with the card's parameters clears it.
    record_run(engine, {"depth": 20}, passed=True, code=RUNNABLE_DEMO)
    assert "0 cards" in admin_client.get("/admin?failing_claims=true").text


def test_failing_claims_are_found_in_two_queries_whatever_the_number_of_cards(
    admin_client: TestClient, tree: Path, engine
) -> None:
    from sqlalchemy import event
    from sqlmodel import Session

    from app.services.demo_runs import DemoCatalog, cards_with_failing_claims

    (tree / "demos" / "sigmoid.py").write_text(RUNNABLE_DEMO)
    create(admin_client)
    create(admin_client, id="sigmoid-second-card", title="Sigmoid saturation, again?")
    record_run(engine, {"depth": 20}, passed=False, code=RUNNABLE_DEMO)
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    catalog = DemoCatalog(tree)
    event.listen(engine, "before_cursor_execute", count)
    try:
        with Session(engine) as session:
            failing = cards_with_failing_claims(session, catalog)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert failing == {CARD_ID, "sigmoid-second-card"}
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, selects  # the cards, then their demos' runs


def test_renaming_through_aliases_in_the_editor_moves_learners_history(
    admin_client: TestClient, tree: Path, engine
) -> None:
    from app.db import session_scope
    from app.models.review import ReviewLog, ReviewState
    from app.models.user import User
    from app.services.scheduling import service

    create(admin_client)
    with session_scope(engine, write=True) as session:
        learner = User(username="graded", password_hash="x")
        session.add(learner)
        session.flush()
        user_id = learner.id
        assert user_id is not None
        service.grade(session, user_id, CARD_ID, 3, idempotency_key="k", expected_version=0)
    version = version_in(admin_client.get(f"/admin/cards/{CARD_ID}").text)
    retired = admin_client.post(
        f"/admin/cards/{CARD_ID}/retire", data={"base_version": version}, follow_redirects=False
    )
    assert retired.status_code == 303
    renamed = create(admin_client, id="sigmoid-vanishing", aliases=CARD_ID)
    assert renamed.status_code == 303, renamed.text
    with Session(engine) as session:
        states = session.exec(select(ReviewState.card_id).where(ReviewState.user_id == user_id))
        logs = session.exec(select(ReviewLog.card_id).where(ReviewLog.user_id == user_id))
        assert states.all() == ["sigmoid-vanishing"]
        assert logs.all() == ["sigmoid-vanishing"]
