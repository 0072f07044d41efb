"""One learner can never read or grade another's cards: history, grades, undo, progress."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.models.review import ReviewLog, ReviewState
from tests.conftest import log_in
from tests.real_content import import_real_content


@pytest.fixture
def two_learners(app, engine, tmp_path, make_user):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        import_real_content(session, tmp_path)
    ann, bob = make_user("ann"), make_user("bob")
    with TestClient(app) as a, TestClient(app) as b:
        log_in(a, "ann")
        log_in(b, "bob")
        yield (ann, a), (bob, b)


def form_of(html: str) -> dict[str, str]:
    pattern = r'name="(card_id|version|idempotency_key|shown_at)" value="([^"]*)"'
    return dict(re.findall(pattern, html))


def rows(engine, model):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.execute(select(model)).scalars())


def test_a_card_page_shows_only_the_readers_history(two_learners, engine) -> None:  # type: ignore[no-untyped-def]
    (_ann, a), (_bob, b) = two_learners
    form = form_of(a.get("/practice").text)
    a.post("/practice/grade", data={**form, "rating": "2", "duration_ms": "1234"})
    card = form["card_id"]
    assert '<td class="rating-2">' in a.get(f"/cards/{card}").text
    bobs_view = b.get(f"/cards/{card}").text
    assert "rating-2" not in bobs_view and "1.2 s" not in bobs_view
    assert "You have not answered this card yet." in bobs_view
    anonymous = TestClient(a.app).get(f"/cards/{card}").text
    assert "Your history" not in anonymous


def test_a_grade_only_ever_moves_the_graders_schedule(two_learners, engine) -> None:  # type: ignore[no-untyped-def]
    (ann, a), (bob, b) = two_learners
    form = form_of(a.get("/practice").text)
    a.post("/practice/grade", data={**form, "rating": "3"})
    # Bob replays Ann's exact form (her card, her version, her key): it is his own answer
    # to that card, in his own log; Ann's state and log are untouched.
    before = {(s.user_id, s.card_id): s.version for s in rows(engine, ReviewState)}
    b.post("/practice/grade", data={**form, "rating": "1"})
    after = {(s.user_id, s.card_id): s.version for s in rows(engine, ReviewState)}
    assert after[(ann.id, form["card_id"])] == before[(ann.id, form["card_id"])]
    logs = rows(engine, ReviewLog)
    assert sorted((r.user_id, r.rating) for r in logs) == sorted([(ann.id, 3), (bob.id, 1)])


def test_undo_never_takes_back_another_learners_answer(two_learners, engine) -> None:  # type: ignore[no-untyped-def]
    (ann, a), (_bob, b) = two_learners
    form = form_of(a.get("/practice").text)
    a.post("/practice/grade", data={**form, "rating": "3"})
    response = b.post("/practice/undo", headers={"HX-Request": "true"})
    assert "no answer to take back" in response.text
    assert [r.user_id for r in rows(engine, ReviewLog)] == [ann.id]


def test_progress_and_settings_are_per_learner(two_learners) -> None:  # type: ignore[no-untyped-def]
    (_ann, a), (_bob, b) = two_learners
    html = a.get("/practice").text
    for _ in range(2):
        html = a.post(
            "/practice/grade", data={**form_of(html), "rating": "3"}, headers={"HX-Request": "true"}
        ).text
    assert re.search(r'id="stat-reviews">2<', a.get("/progress").text)
    assert re.search(r'id="stat-reviews">0<', b.get("/progress").text)
    settings = {
        "language": "zh",
        "theme": "auto",
        "desired_retention": "0.8",
        "new_per_day": "3",
        "day_rollover_hour": "4",
        "time_zone": "UTC",
        "interview_on": "",
        "interview_minutes_per_day": "",
    }
    assert a.post("/settings", data=settings, follow_redirects=False).status_code == 303
    assert 'value="0.90"' in b.get("/settings").text
    assert '<html lang="en"' in b.get("/practice").text


@pytest.mark.parametrize("path", ["/practice/grade", "/practice/undo", "/settings"])
def test_state_changes_need_the_csrf_token(two_learners, path) -> None:  # type: ignore[no-untyped-def]
    (_ann, a), _ = two_learners
    token = a.headers.pop("X-CSRF-Token")
    try:
        assert a.post(path, data={"rating": "3"}).status_code == 403
    finally:
        a.headers["X-CSRF-Token"] = token


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/practice"),
        ("get", "/progress"),
        ("get", "/settings"),
        ("post", "/practice/grade"),
        ("post", "/practice/undo"),
    ],
)
def test_anonymous_visitors_are_sent_to_log_in(client, method, path) -> None:  # type: ignore[no-untyped-def]
    response = getattr(client, method)(path, follow_redirects=False)
    assert response.status_code in (303, 403)  # 403: POST without a session's CSRF token
    if response.status_code == 303:
        assert response.headers["location"].startswith("/login")
