"""Custom study pages: review ahead (cards due in the next N days, answered now as
ordinary reviews), next to "more new cards" and cram."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlmodel import Session

from app.models.review import ReviewState
from tests.conftest import log_in
from tests.web.test_practice_pages import answer, log_rows
from tests.web.test_practice_pages import cards as cards  # the fixture

AHEAD_FIELDS = ("days", "deck", "since", "card_id", "version", "idempotency_key", "shown_at")


def ahead_form(html: str) -> dict[str, str]:
    names = "|".join(AHEAD_FIELDS)
    found = dict(re.findall(rf'name="({names})" value="([^"]*)"', html))
    assert set(found) == set(AHEAD_FIELDS), "no card on the review-ahead page"
    return found


def graduate_two_cards(client) -> list[str]:  # type: ignore[no-untyped-def]
    """Two new cards answered Easy (straight to Review, due days from now)."""
    html = client.get("/practice").text
    answered = []
    for _ in range(2):
        answered.append(re.search(r'name="card_id" value="([^"]+)"', html)[1])  # type: ignore[index]
        html = answer(client, html, 4).text
    return answered


def test_review_ahead_reviews_the_cards_due_soon_as_ordinary_reviews(
    learner_client, cards, engine
) -> None:  # type: ignore[no-untyped-def]
    answered = graduate_two_cards(learner_client)
    with Session(engine) as session:
        dues = {r.card_id: r.due for r in session.execute(select(ReviewState)).scalars()}
    assert set(dues) == set(answered)
    span = 60  # days: wide enough for an Easy first interval

    start = learner_client.get(f"/practice/ahead?days={span}", follow_redirects=False)
    assert start.status_code == 303 and "since=" in start.headers["location"]
    html = learner_client.get(start.headers["location"]).text
    assert "2 cards left" in html and "ordinary reviews" in html
    seen = []
    for _ in range(2):
        form = ahead_form(html)
        seen.append(form["card_id"])
        response = learner_client.post(
            "/practice/ahead/grade", data={**form, "rating": "3"}, follow_redirects=False
        )
        assert response.status_code == 303
        html = learner_client.get(response.headers["location"]).text
    assert sorted(seen) == sorted(answered)
    assert f"No more cards due within {span} days." in html
    reviews = [row for row in log_rows(engine) if row.card_id in answered]
    assert [row.kind for row in reviews] == ["learn", "learn", "review", "review"]
    with Session(engine) as session:
        for row in session.execute(select(ReviewState)).scalars():
            assert row.reps == 2 and row.due != dues[row.card_id]  # the schedule moved


def test_review_ahead_of_one_deck_and_bad_input(learner_client, cards, engine) -> None:  # type: ignore[no-untyped-def]
    graduate_two_cards(learner_client)
    html = learner_client.get("/practice/ahead?days=365&deck=no-such-deck&since=x").text
    assert "No more cards due within 365 days." in html and "no-such-deck" in html
    for bad in ("0", "10000", "abc"):
        response = learner_client.get(f"/practice/ahead?days={bad}")
        assert response.status_code == 422, bad
    # A stale or forged form records nothing and says so.
    start = learner_client.get("/practice/ahead?days=365").url
    html = learner_client.get(str(start)).text
    form = {**ahead_form(html), "version": "99", "rating": "3"}
    before = len(log_rows(engine))
    response = learner_client.post("/practice/ahead/grade", data=form, follow_redirects=False)
    assert "notice=refused" in response.headers["location"]
    assert "was not recorded" in learner_client.get(response.headers["location"]).text
    assert len(log_rows(engine)) == before


def test_the_done_screen_offers_review_ahead_in_chinese(learner_client, cards) -> None:  # type: ignore[no-untyped-def]
    form = {
        "language": "zh", "theme": "auto", "desired_retention": "0.9", "new_per_day": "0",
        "day_rollover_hour": "4", "time_zone": "UTC", "interview_on": "",
        "interview_minutes_per_day": "",
    }  # fmt: skip
    assert learner_client.post("/settings", data=form, follow_redirects=False).status_code == 303
    html = learner_client.get("/practice").text
    assert 'action="/practice/ahead"' in html and "提前复习" in html
    html = learner_client.get("/practice/ahead?days=3&since=2026-01-01T00:00:00").text
    assert "3 天内到期的卡片已全部复习完" in html


def test_study_one_tag_over_http(client, make_user, cards) -> None:  # type: ignore[no-untyped-def]
    anonymous = client.get("/tags/gradients").text
    assert "Study now" not in anonymous  # counts are a learner's
    make_user("tagger")
    log_in(client, "tagger")
    html = client.get("/tags/gradients").text
    assert 'href="/practice?tag=gradients"' in html and "New 10" in html
    page = client.get("/practice?tag=gradients")
    assert page.cookies.get("study_tag") == "gradients"
    assert "Studying the cards tagged gradients only." in page.text
    tagged = set(re.findall(r'href="/cards/([^"]+)"', html))
    for _ in range(3):
        card_id = shown_form_card(page.text)
        assert card_id in tagged
        page = answer(client, page.text, 1)
    assert "New 7" in client.get("/tags/gradients").text
    assert client.get("/practice?tag=" + "x" * 65).status_code == 422
    back = client.get("/practice?deck=")
    assert "Studying the cards tagged" not in back.text and not back.cookies.get("study_tag")


def shown_form_card(html: str) -> str:
    return re.search(r'name="card_id" value="([^"]+)"', html)[1]  # type: ignore[index]
