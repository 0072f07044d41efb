"""The review session, progress, settings and deck browser pages, over HTTP."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from app.models.card import CardTranslation
from app.models.review import ReviewLog
from tests.conftest import log_in
from tests.real_content import import_real_content

FIELDS = ("card_id", "version", "idempotency_key", "shown_at")


@pytest.fixture
def cards(engine, tmp_path):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        report = import_real_content(session, tmp_path)
    assert report.added >= 5
    return report.added


def shown_form(html: str) -> dict[str, str]:
    found = dict(
        re.findall(r'name="(card_id|version|idempotency_key|shown_at)" value="([^"]*)"', html)
    )
    assert set(found) == set(FIELDS), "no card on the stage"
    return found


def answer(client, html: str, rating: int = 3, *, htmx: bool = True, duration_ms: str = "2500"):  # type: ignore[no-untyped-def]
    form = {**shown_form(html), "rating": str(rating), "duration_ms": duration_ms}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/practice/grade", data=form, headers=headers, follow_redirects=False)


def log_rows(engine, user_id: int | None = None) -> list[ReviewLog]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        query = select(ReviewLog).order_by(ReviewLog.id)
        if user_id is not None:
            query = query.where(ReviewLog.user_id == user_id)
        return list(session.execute(query).scalars())


def counts(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<span class="count-n">(\d+)</span>', html)]


def test_practice_needs_an_account(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/practice", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2Fpractice")


def test_the_page_shows_a_question_with_its_answer_folded_and_four_buttons(
    learner_client, cards
) -> None:  # type: ignore[no-untyped-def]
    html = learner_client.get("/practice").text
    assert '<details class="reveal" id="reveal">' in html
    assert html.count('name="rating"') == 4
    # Screen readers hear each button's next interval.
    assert len(re.findall(r'class="visually-hidden">, next review in \d+ minutes?<', html)) >= 3
    assert counts(html) == [0, 0, 10]  # learning, due, new (10 new a day by default)
    assert "/static/js/practice.js" in html


def test_answering_with_htmx_swaps_in_the_next_card_and_records_the_time(
    learner_client, cards, engine
) -> None:  # type: ignore[no-untyped-def]
    html = learner_client.get("/practice").text
    seen = []
    for rating in (3, 1, 4, 2, 3):
        seen.append(shown_form(html)["card_id"])
        response = answer(learner_client, html, rating)
        assert response.status_code == 200
        html = response.text
        assert html.lstrip().startswith('<section id="stage"')  # the stage alone, no layout
    assert len(set(seen)) == 5
    rows = log_rows(engine)
    assert [r.rating for r in rows] == [3, 1, 4, 2, 3]
    assert all(r.duration_ms == 2500 for r in rows)
    assert counts(html)[2] == 5  # five of the ten new cards left


def test_without_javascript_the_forms_post_and_redirect(learner_client, cards, engine) -> None:  # type: ignore[no-untyped-def]
    html = learner_client.get("/practice").text
    first = shown_form(html)["card_id"]
    response = answer(learner_client, html, 3, htmx=False, duration_ms="")
    assert response.status_code == 303 and response.headers["location"] == "/practice"
    after = learner_client.get("/practice").text
    assert shown_form(after)["card_id"] != first
    (row,) = log_rows(engine)
    assert row.duration_ms is not None and 0 <= row.duration_ms < 60_000  # from the form's age

    response = learner_client.post("/practice/undo", follow_redirects=False)
    assert response.status_code == 303
    undone = learner_client.get(response.headers["location"]).text
    assert shown_form(undone)["card_id"] == first
    assert "Took back your last answer" in undone
    assert log_rows(engine) == []


def test_a_double_submit_records_one_answer(learner_client, cards, engine) -> None:  # type: ignore[no-untyped-def]
    html = learner_client.get("/practice").text
    answer(learner_client, html, 3)
    again = answer(learner_client, html, 3)
    assert again.status_code == 200
    assert len(log_rows(engine)) == 1


def test_a_card_answered_in_another_tab_is_refused(learner_client, cards, engine) -> None:  # type: ignore[no-untyped-def]
    tab_one = learner_client.get("/practice").text
    tab_two = learner_client.get("/practice").text
    assert shown_form(tab_one)["card_id"] == shown_form(tab_two)["card_id"]
    answer(learner_client, tab_one, 3)
    response = answer(learner_client, tab_two, 1)  # same card, old version, new key
    assert response.status_code == 200
    assert "changed in another tab" in response.text
    assert [r.rating for r in log_rows(engine)] == [3]


def test_undo_brings_back_the_card(learner_client, cards, engine) -> None:  # type: ignore[no-untyped-def]
    html = learner_client.get("/practice").text
    card = shown_form(html)["card_id"]
    answer(learner_client, html, 4)
    response = learner_client.post("/practice/undo", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert shown_form(response.text)["card_id"] == card
    assert log_rows(engine) == []
    nothing = learner_client.post("/practice/undo", headers={"HX-Request": "true"})
    assert "no answer to take back" in nothing.text


def test_done_for_today_says_what_comes_tomorrow(learner_client, cards) -> None:  # type: ignore[no-untyped-def]
    form = {
        "language": "en",
        "theme": "auto",
        "desired_retention": "0.9",
        "new_per_day": "2",
        "day_rollover_hour": "4",
        "time_zone": "UTC",
        "interview_on": "",
        "interview_minutes_per_day": "",
    }
    assert learner_client.post("/settings", data=form, follow_redirects=False).status_code == 303
    html = learner_client.get("/practice").text
    for _ in range(10):  # two new cards through their learning steps, Easy graduates them
        if "Done for today" in html:
            break
        html = answer(learner_client, html, 4).text
    assert "Done for today" in html
    assert "Tomorrow" in html and "new cards" in html
    assert counts(html) == [0, 0, 0]


def test_bad_forms_record_nothing(learner_client, cards, engine) -> None:  # type: ignore[no-untyped-def]
    html = learner_client.get("/practice").text
    form = {**shown_form(html), "rating": "7"}
    response = learner_client.post("/practice/grade", data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/practice?notice=stale"
    assert "nothing was recorded" in learner_client.get("/practice?notice=stale").text
    assert log_rows(engine) == []


def test_progress_counts_the_reviews(learner_client, cards) -> None:  # type: ignore[no-untyped-def]
    html = learner_client.get("/practice").text
    for _ in range(3):
        html = answer(learner_client, html, 3).text
    page = learner_client.get("/progress").text
    assert re.search(r'id="stat-reviews">3<', page)
    assert re.search(r'id="stat-streak">1<', page)
    assert page.count("<svg") >= 3 and "style=" not in page
    assert "<table" in page  # the numbers behind the charts


def test_settings_change_language_and_interview_mode(learner_client, cards) -> None:  # type: ignore[no-untyped-def]
    page = learner_client.get("/settings").text
    assert 'name="desired_retention"' in page and 'value="0.90"' in page
    form = {
        "language": "zh",
        "theme": "dark",
        "desired_retention": "0.85",
        "new_per_day": "15",
        "day_rollover_hour": "5",
        "time_zone": "Asia/Shanghai",
        "interview_on": "2099-01-01",
        "interview_minutes_per_day": "30",
    }
    response = learner_client.post("/settings", data=form, follow_redirects=False)
    assert response.status_code == 303
    saved = learner_client.get("/settings").text
    assert '<html lang="zh" data-theme="dark">' in saved
    assert 'value="0.85"' in saved and 'value="2099-01-01"' in saved
    assert "设置" in saved  # the interface is translated
    practice = learner_client.get("/practice").text
    assert "显示答案" in practice
    progress = learner_client.get("/progress").text
    assert 'id="interview-recall"' in progress


def test_settings_refuse_bad_values_and_keep_the_form(learner_client, cards) -> None:  # type: ignore[no-untyped-def]
    form = {
        "language": "en",
        "theme": "auto",
        "desired_retention": "0.5",
        "new_per_day": "-3",
        "day_rollover_hour": "4",
        "time_zone": "Mars/Olympus",
        "interview_on": "",
        "interview_minutes_per_day": "",
    }
    response = learner_client.post("/settings", data=form)
    assert response.status_code == 422
    assert response.text.count('aria-invalid="true"') == 3
    assert 'value="0.5"' in response.text


def test_search_finds_words_from_answers(client, cards, engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        card_id, title, text = session.execute(
            select(CardTranslation.card_id, CardTranslation.title, CardTranslation.search_text)
            .where(CardTranslation.lang == "en")
            .order_by(CardTranslation.card_id)
        ).first()  # type: ignore[misc]
    # Two words from the answer that are not in the title, in another case.
    words = [
        w for w in re.findall(r"[A-Za-z]{6,}", text[len(title) :]) if w.lower() not in title.lower()
    ]
    query = f"{words[0].upper()} {words[-1].lower()}"
    page = client.get("/search", params={"q": query}).text
    assert f'/cards/{card_id}"' in page
    assert "0 cards match" in client.get("/search", params={"q": "zzzqqq"}).text


def test_home_lists_tags_and_the_learners_mastery(learner_client, cards) -> None:  # type: ignore[no-untyped-def]
    html = learner_client.get("/practice").text
    answer(learner_client, html, 3)
    home = learner_client.get("/").text
    assert 'class="tag-cloud"' in home and "/tags/" in home
    assert "<meter" in home
    tag = re.search(r'href="(/tags/[^"]+)"', home).group(1)  # type: ignore[union-attr]
    assert learner_client.get(tag).status_code == 200


def test_the_card_page_shows_the_learners_own_history(learner_client, cards) -> None:  # type: ignore[no-untyped-def]
    html = learner_client.get("/practice").text
    card = shown_form(html)["card_id"]
    answer(learner_client, html, 2)
    page = learner_client.get(f"/cards/{card}").text
    assert "Your history" in page
    assert '<td class="rating-2">Hard</td>' in page
    assert "2.5 s" in page


def test_htmx_indicator_styles_are_off(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/").text
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles":false}\'>' in html


def test_log_in_helper_still_works_after_settings(client, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("zed")
    log_in(client, "zed")
    assert client.get("/settings").status_code == 200


def count_logs(engine) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(ReviewLog)).scalar_one())
