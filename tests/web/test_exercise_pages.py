"""Write-the-code exercises over HTTP: the panel on the card page, submit / hint / give
up / confirm as JSON and as htmx HTML, the learner's code kept, and the 4xx sentences."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from app.exercises.format import load_exercise
from app.models.exercise import ExerciseAttempt, ExerciseCode
from app.models.review import ReviewLog
from app.models.user import User
from app.services.importer import import_tree
from tests.conftest import log_in

REPO_EXERCISES = Path(__file__).resolve().parents[2] / "content" / "exercises"
SOFTMAX = load_exercise(REPO_EXERCISES / "softmax.py").meta
WRONG = SOFTMAX.WRONG[0]

CARD = """---
id: softmax-card
title: Softmax
deck: fundamentals
difficulty: medium
demo: none
exercise: {path: exercises/softmax.py}
---
## Question
What is softmax?

## Answer
exp over the sum of exps.
"""


@pytest.fixture
def deck(engine, content_dir: Path) -> Path:  # type: ignore[no-untyped-def]
    (content_dir / "exercises").mkdir()
    shutil.copy(REPO_EXERCISES / "softmax.py", content_dir / "exercises" / "softmax.py")
    (content_dir / "cards" / "softmax-card.md").write_text(CARD, encoding="utf-8")
    with Session(engine) as session:
        assert import_tree(session, content_dir).added == 1
        session.commit()
    return content_dir


class FakeJudge:
    """Passes code that subtracts the max (as the reference does), fails the rest on the
    "large logits" test; counts its calls. The real judge is tested in tests/exercises and
    by the one test below marked ``real_judge``."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, path: Path, code: str) -> dict[str, Any]:
        self.calls.append(code)
        passed = "amax" in code
        cases = [
            {"name": "random logits", "passed": True, "message": ""},
            {"name": "large logits", "passed": passed,
             "message": "" if passed else "nan at index (0, 0): expected 0.1, got nan"},
        ]  # fmt: skip
        message = "All 2 tests passed." if passed else "1 of 2 tests failed; first: large logits"
        return {"passed": passed, "reason": "passed" if passed else "failed",
                "message": message, "cases": cases, "stdout": "", "seconds": 0.1}  # fmt: skip


@pytest.fixture
def judge(app) -> FakeJudge:  # type: ignore[no-untyped-def]
    fake = FakeJudge()
    app.state.exercise_service.judge = fake
    return fake


def submit(client, code: str, name: str = "softmax"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/exercises/{name}/submissions", json={"code": code})


def test_the_card_page_shows_the_panel_with_the_editor_and_starter_code(
    learner_client, deck
) -> None:  # type: ignore[no-untyped-def]
    html = learner_client.get("/cards/softmax-card").text
    assert 'class="section exercise-panel"' in html
    assert "/static/vendor/codemirror/codemirror.bundle.js" in html
    assert "/static/js/exercise.js" in html
    assert "def softmax(x: torch.Tensor, dim: int = -1)" in html  # the starter
    assert 'hx-post="/exercises/softmax/submit"' in html
    assert "Show a hint (1 of 2)" in html
    assert "Reference solution" not in html  # not before a pass or giving up
    assert "x.amax" not in html


def test_a_visitor_reads_the_task_but_must_log_in_to_submit(client, deck) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/cards/softmax-card").text
    assert "Stable softmax" in html and "exercise-form" not in html
    assert "Log in to submit code" in html
    body = client.get("/api/exercises/softmax").json()
    assert body["signed_in"] is False and body["solution"] is None


def test_wrong_then_hint_then_right_suggests_hard_and_the_confirmed_rating_is_a_review(
    learner_client, deck, judge, engine
) -> None:  # type: ignore[no-untyped-def]
    first = submit(learner_client, WRONG)
    assert first.status_code == 200, first.text
    view = first.json()
    assert view["verdict"]["reason"] == "failed"
    failing = [c for c in view["verdict"]["cases"] if not c["passed"]]
    assert failing[0]["name"] == "large logits" and "nan" in failing[0]["message"]
    assert view["solution"] is None and view["suggested_rating"] is None

    early = learner_client.post("/api/exercises/softmax/rating", json={"rating": 3})
    assert early.status_code == 409
    assert "Pass the tests or give up" in early.json()["detail"]

    hinted = learner_client.post("/api/exercises/softmax/hints").json()
    assert hinted["hints"] == [SOFTMAX.HINTS.en[0]]

    passed = submit(learner_client, SOFTMAX.REFERENCE).json()
    assert passed["passed"] and passed["verdict"]["reason"] == "passed"
    assert passed["solution"] == SOFTMAX.REFERENCE and passed["explanation"]
    assert passed["suggested_rating"] == 2  # failed once and used a hint: Hard

    confirmed = learner_client.post("/api/exercises/softmax/rating", json={"rating": 2})
    assert confirmed.status_code == 200, confirmed.text
    log_id = confirmed.json()["review_log_id"]
    with Session(engine) as session:
        log = session.get(ReviewLog, log_id)
        assert log is not None
        assert (log.card_id, log.rating, log.kind) == ("softmax-card", 2, "exercise")
        attempt = session.exec(select(ExerciseAttempt)).scalars().one()  # type: ignore[call-overload]
        assert attempt.review_log_id == log_id and attempt.failed_submissions == 1

    # The card page's history lists it; the next visit starts a fresh attempt with the
    # learner's last code in the editor.
    page = learner_client.get("/cards/softmax-card").text
    assert "<td>exercise</td>" in page
    again = learner_client.get("/api/exercises/softmax").json()
    assert again["code"] == SOFTMAX.REFERENCE
    assert again["submissions"] == 0 and again["solution"] is None


def test_giving_up_shows_the_solution_and_suggests_again(learner_client, deck, judge) -> None:  # type: ignore[no-untyped-def]
    view = learner_client.post("/api/exercises/softmax/give-up").json()
    assert view["gave_up"] and view["solution"] == SOFTMAX.REFERENCE
    assert view["suggested_rating"] == 1
    assert judge.calls == []


def test_htmx_submit_renders_each_test_and_a_refusal_in_the_panel(
    learner_client, deck, judge
) -> None:  # type: ignore[no-untyped-def]
    headers = {"HX-Request": "true"}
    html = learner_client.post(
        "/exercises/softmax/submit", data={"code": WRONG}, headers=headers
    ).text
    assert "Not yet." in html and "large logits" in html and "expected 0.1, got nan" in html
    too_big = learner_client.post(
        "/exercises/softmax/submit", data={"code": "x" * 20_001}, headers=headers
    )
    assert too_big.status_code == 422
    assert "the limit is 20,000" in too_big.text and 'role="alert"' in too_big.text
    with Session(learner_client.app.state.engine) as session:
        kept = session.exec(select(ExerciseCode)).scalars().one()  # type: ignore[call-overload]
        assert kept.code == WRONG  # the refused code did not replace it


@pytest.mark.parametrize(
    ("path", "body", "status", "sentence"),
    [
        ("/api/exercises/nope/submissions", {"code": "x"}, 404, "no exercise named 'nope'"),
        ("/api/exercises/softmax/submissions", {"code": "x" * 20_001}, 422, "the limit is"),
        ("/api/exercises/softmax/submissions", {"code": 5}, 422, "must be a string"),
        ("/api/exercises/softmax/submissions", {"code": "  "}, 422, "is empty"),
        ("/api/exercises/softmax/submissions", [1], 422, "JSON object"),
        ("/api/exercises/softmax/rating", {"rating": 7}, 409, "1 (Again) to 4 (Easy)"),
        ("/api/exercises/softmax/rating", {"rating": "good"}, 409, "whole number"),
        ("/api/exercises/Bad-Name/hints", None, 404, "no exercise named"),
    ],
)
def test_bad_input_gets_a_sentence(
    learner_client, deck, judge, path, body, status, sentence
) -> None:  # type: ignore[no-untyped-def]
    response = learner_client.post(path, json=body)
    assert response.status_code == status, response.text
    assert sentence in response.json()["detail"]
    assert judge.calls == []


def test_a_body_that_is_not_json_is_refused(learner_client, deck, judge) -> None:  # type: ignore[no-untyped-def]
    response = learner_client.post(
        "/api/exercises/softmax/submissions",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422 and "JSON object" in response.json()["detail"]


def test_signed_out_submissions_are_refused(client, deck, judge, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("learner")
    log_in(client, "learner")
    client.post("/api/auth/logout")
    log_out_token = client.get("/api/auth/csrf").json()["csrf_token"]
    client.headers["X-CSRF-Token"] = log_out_token
    response = submit(client, SOFTMAX.REFERENCE)
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Sign in to submit code")
    assert judge.calls == []


def test_submissions_are_rate_limited_per_learner(learner_client, deck, judge) -> None:  # type: ignore[no-untyped-def]
    statuses = [submit(learner_client, WRONG).status_code for _ in range(7)]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
    limited = submit(learner_client, WRONG)
    assert "Too many submissions" in limited.json()["detail"]
    assert int(limited.headers["Retry-After"]) >= 1
    assert len(judge.calls) == 5


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")
def test_the_real_judge_fails_the_unstable_softmax_and_passes_the_reference(
    learner_client, deck
) -> None:  # type: ignore[no-untyped-def]
    wrong = submit(learner_client, WRONG).json()
    assert wrong["verdict"]["reason"] == "failed"
    assert any(c["name"] == "large logits" and not c["passed"] for c in wrong["verdict"]["cases"])
    right = submit(learner_client, SOFTMAX.REFERENCE).json()
    assert right["verdict"]["reason"] == "passed", right["verdict"]


def test_practice_opens_the_cards_exercise_under_it(learner_client, deck) -> None:  # type: ignore[no-untyped-def]
    stage = learner_client.get("/practice").text
    assert 'hx-get="/exercises/softmax"' in stage and 'id="practice-exercise"' in stage
    fragment = learner_client.get("/exercises/softmax", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith("<section") and "<html" not in fragment
    assert 'hx-post="/exercises/softmax/submit"' in fragment
    page = learner_client.get("/exercises/softmax").text
    assert "<html" in page and 'href="/cards/softmax-card"' in page


def test_an_unknown_exercise_page_is_404(learner_client, deck) -> None:  # type: ignore[no-untyped-def]
    response = learner_client.get("/exercises/nope")
    assert response.status_code == 404 and "no exercise named" in response.text


def test_the_queue_lists_new_exercises_and_next_opens_the_first(
    learner_client, deck, judge
) -> None:  # type: ignore[no-untyped-def]
    queue = learner_client.get("/api/exercises").json()["exercises"]
    assert [(q["exercise"], q["card_id"], q["new"]) for q in queue] == [
        ("softmax", "softmax-card", True)
    ]
    assert "Stable softmax" in learner_client.get("/exercises").text
    first = learner_client.get("/exercises/next", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/exercises/softmax"
    learner_client.post("/api/exercises/softmax/give-up")
    learner_client.post("/api/exercises/softmax/rating", json={"rating": 1})
    # Again puts the card in learning (due in minutes): not due now, and no longer new.
    assert learner_client.get("/api/exercises").json()["exercises"] == []
    empty = learner_client.get("/exercises/next", follow_redirects=False)
    assert empty.headers["location"] == "/exercises"
    assert "No exercise is due" in learner_client.get("/exercises").text


def test_the_queue_needs_an_account(client, deck) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/exercises").status_code == 401


def test_hints_come_one_at_a_time_until_none_are_left(learner_client, deck, judge) -> None:  # type: ignore[no-untyped-def]
    first = learner_client.post("/api/exercises/softmax/hints").json()
    second = learner_client.post("/api/exercises/softmax/hints").json()
    assert first["hints"] == SOFTMAX.HINTS.en[:1] and second["hints"] == SOFTMAX.HINTS.en[:2]
    third = learner_client.post("/api/exercises/softmax/hints")
    assert third.status_code == 409 and "Every hint" in third.json()["detail"]
    html = learner_client.get("/cards/softmax-card").text
    assert "Show a hint" not in html
    assert "<li>Subtract the max along <code>dim</code>.</li>" in html  # inline code


def test_a_chinese_page_shows_the_task_and_hints_in_chinese(
    learner_client, deck, judge, engine
) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == "learner")).scalars().one()  # type: ignore[call-overload]
        user.locale = "zh"
        session.add(user)
        session.commit()
    learner_client.post("/api/exercises/softmax/hints")
    view = learner_client.get("/api/exercises/softmax").json()
    assert view["title"] == SOFTMAX.TITLE.zh and view["hints"] == SOFTMAX.HINTS.zh[:1]
    html = learner_client.get("/cards/softmax-card").text
    assert "动手写代码" in html and SOFTMAX.TITLE.zh in html
