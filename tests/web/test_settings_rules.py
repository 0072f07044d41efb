"""Both doors to the settings (the form and PATCH /api/review/settings) apply the same
rules: they are on the model."""

from __future__ import annotations


def test_the_api_refuses_an_interview_date_without_minutes(learner_client) -> None:  # type: ignore[no-untyped-def]
    response = learner_client.patch("/api/review/settings", json={"interview_on": "2030-01-15"})
    assert response.status_code == 422
    assert "interview date needs minutes per day" in response.text
    ok = learner_client.patch(
        "/api/review/settings",
        json={"interview_on": "2030-01-15", "interview_minutes_per_day": 20},
    )
    assert ok.status_code == 200 and ok.json()["interview_minutes_per_day"] == 20


def test_the_form_offers_default_minutes_so_a_date_alone_saves(learner_client) -> None:  # type: ignore[no-untyped-def]
    page = learner_client.get("/settings")
    assert 'name="interview_minutes_per_day"' in page.text
    assert 'value="30"' in page.text  # the default the learner sees and may change
    form = {"language": "en", "theme": "auto", "desired_retention": "0.90",
            "new_per_day": "10", "day_rollover_hour": "4", "time_zone": "Europe/Berlin",
            "interview_on": "2030-01-15", "interview_minutes_per_day": "30",
            "new_card_order": "added"}  # fmt: skip
    saved = learner_client.post("/settings", data=form, follow_redirects=False)
    assert saved.status_code == 303
    settings = learner_client.get("/api/review/settings").json()
    assert settings["interview_minutes_per_day"] == 30
    assert settings["time_zone"] == "Europe/Berlin" and settings["new_card_order"] == "added"
    form["interview_minutes_per_day"] = ""
    refused = learner_client.post("/settings", data=form)
    assert refused.status_code == 422
    assert "minutes a day" in refused.text


def test_an_unknown_new_card_order_is_named(learner_client) -> None:  # type: ignore[no-untyped-def]
    response = learner_client.patch("/api/review/settings", json={"new_card_order": "hardest"})
    assert response.status_code == 422 and "new_card_order" in response.text


def test_the_optimize_button_says_what_it_needs_and_starts_a_fit(
    learner_client, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from app.services.scheduling import optimizer

    started: list[int] = []
    monkeypatch.setattr(
        optimizer.subprocess,
        "Popen",
        lambda *a, **k: started.append(1),  # no real fit here
    )
    page = learner_client.get("/settings")
    assert "It needs 512 reviews" in page.text and "you have 0" in page.text
    response = learner_client.post("/settings/optimize", follow_redirects=False)
    assert response.status_code == 303 and started == [1]
    page = learner_client.get("/settings")
    assert 'id="optimize-button" disabled' in page.text  # running


def test_custom_study_adds_new_cards_for_today(learner_client) -> None:  # type: ignore[no-untyped-def]
    response = learner_client.post(
        "/practice/custom/new", data={"more": "5"}, follow_redirects=False
    )
    assert response.status_code == 303 and "more_new" in response.headers["location"]
    refused = learner_client.post("/practice/custom/new", data={"more": "0"})
    assert refused.status_code == 422
