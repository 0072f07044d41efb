"""The scheduler's JSON API drives a whole session: next, grade (idempotent, two-tab
conflict), undo, bury, settings, stats, recall."""

from __future__ import annotations

from tests.services.scheduling.conftest import add_cards


def test_a_client_can_drive_a_session(learner_client, engine):
    add_cards(engine, 3, decks=("a", "b"))
    c = learner_client
    body = c.get("/api/review/next").json()
    assert body["counts"]["new"] == 3
    card = body["card"]
    assert card["queue"] == "new" and len(card["buttons"]) == 4
    answer = {
        "card_id": card["card_id"],
        "rating": 3,
        "version": card["version"],
        "idempotency_key": "a1",
    }
    first = c.post("/api/review/grade", json=answer)
    assert first.status_code == 200 and not first.json()["replayed"]
    assert c.post("/api/review/grade", json=answer).json()["replayed"]
    stale = c.post("/api/review/grade", json={**answer, "idempotency_key": "a2", "rating": 1})
    assert stale.status_code == 409 and stale.json()["detail"]["code"] == "conflict"
    assert c.post("/api/review/undo").json()["card_id"] == card["card_id"]
    assert c.post("/api/review/undo").status_code == 409
    nxt = c.get("/api/review/next").json()["card"]
    assert c.post(f"/api/review/cards/{nxt['card_id']}/bury").json()["version"] == 1
    assert c.patch("/api/review/settings", json={"desired_retention": 0.99}).status_code == 422
    assert (
        c.patch("/api/review/settings", json={"desired_retention": 0.85}).json()[
            "desired_retention"
        ]
        == 0.85
    )
    assert len(c.get("/api/review/stats?days=7").json()["forecast"]) == 7
    assert c.get("/api/review/recall").json()["overall"]["cards"] == 3
    assert c.get("/api/review/interview").json()["active"] is False
    assert "/api/review/grade" in c.get("/openapi.json").json()["paths"]


def test_posts_need_login(client):
    assert client.post("/api/review/undo").status_code in (401, 403)
