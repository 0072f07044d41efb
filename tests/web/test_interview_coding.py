"""The mock interview's optional coding round: started from the finished interview's
report, one exercise against its time budget, scored by the tests, shown in the report."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models.interview import MockCodingRound
from tests.conftest import log_in
from tests.web.test_exercise_pages import SOFTMAX, WRONG, FakeJudge, deck, judge

__all__ = ["deck", "judge"]  # fixtures


def finished_interview(client: TestClient) -> int:
    step = client.post(
        "/api/interview", json={"questions": 1, "decks": ["fundamentals"], "follow_ups": False}
    ).json()
    iv = step["id"]
    while step["phase"] != "finished":
        pos = step["position"]
        step = client.post(
            f"/api/interview/{iv}/answer", json={"position": pos, "text": "exp over sum"}
        ).json()
        ticks = [p["suggested"] for p in step["points"]]
        step = client.post(
            f"/api/interview/{iv}/confirm", json={"position": pos, "ticks": ticks}
        ).json()
    return int(iv)


def test_the_round_is_scored_by_the_tests_and_lands_in_the_report(
    learner_client: TestClient, deck, judge: FakeJudge
) -> None:  # type: ignore[no-untyped-def]
    iv = finished_interview(learner_client)
    report = learner_client.get(f"/interview/{iv}/report").text
    assert "Start the coding round" in report
    assert learner_client.get(f"/api/interview/{iv}/report").json()["coding"] is None

    started = learner_client.post(f"/interview/{iv}/coding", follow_redirects=False)
    assert started.status_code == 303 and started.headers["location"] == f"/interview/{iv}/coding"
    page = learner_client.get(f"/interview/{iv}/coding").text
    assert "Stable softmax" in page  # the exercise of the interview's card
    assert re.search(r"Time left: 1[45] min", page)  # its 15-minute budget
    assert "/static/vendor/codemirror/codemirror.bundle.js" in page

    headers = {"HX-Request": "true"}
    wrong = learner_client.post(
        f"/interview/{iv}/coding/submit", data={"code": WRONG}, headers=headers
    ).text
    assert "1 of 2." in wrong and "large logits" in wrong
    right = learner_client.post(
        f"/api/interview/{iv}/coding/submissions", json={"code": SOFTMAX.REFERENCE}
    ).json()
    assert right["summary"]["tests_passed"] == 2 and right["summary"]["passed"]
    # A worse submission later does not lower the best score.
    learner_client.post(f"/api/interview/{iv}/coding/submissions", json={"code": WRONG})
    finished = learner_client.post(f"/interview/{iv}/coding/finish", follow_redirects=False)
    assert finished.headers["location"] == f"/interview/{iv}/report"

    coding = learner_client.get(f"/api/interview/{iv}/report").json()["coding"]
    assert (coding["exercise"], coding["tests_passed"], coding["tests_total"]) == ("softmax", 2, 2)
    assert coding["score"] == 1.0 and coding["submissions"] == 3 and coding["finished"]
    assert (
        "softmax: 2 of 2 tests passed (100%)" in learner_client.get(f"/interview/{iv}/report").text
    )
    closed = learner_client.post(
        f"/api/interview/{iv}/coding/submissions", json={"code": SOFTMAX.REFERENCE}
    )
    assert closed.status_code == 409 and "finished" in closed.json()["detail"]
    assert len(judge.calls) == 3


def test_the_time_budget_closes_the_round(
    learner_client: TestClient, deck, judge: FakeJudge, engine
) -> None:  # type: ignore[no-untyped-def]
    iv = finished_interview(learner_client)
    learner_client.post(f"/interview/{iv}/coding")
    with Session(engine) as s:
        row = s.exec(select(MockCodingRound)).one()
        row.started_at -= timedelta(minutes=20)
        row.deadline_at -= timedelta(minutes=20)
        s.add(row)
        s.commit()
    late = learner_client.post(
        f"/api/interview/{iv}/coding/submissions", json={"code": SOFTMAX.REFERENCE}
    )
    assert late.status_code == 409 and "time" in late.json()["detail"]
    assert judge.calls == []
    coding = learner_client.get(f"/api/interview/{iv}/report").json()["coding"]
    assert coding["finished"] and coding["tests_passed"] == 0


def test_the_round_needs_a_finished_interview_of_ones_own(
    client: TestClient, make_user, deck, judge: FakeJudge
) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    make_user("bob")
    log_in(client, "alice")
    running = client.post(
        "/api/interview", json={"questions": 1, "decks": ["fundamentals"], "follow_ups": False}
    ).json()["id"]
    early = client.post(f"/interview/{running}/coding", follow_redirects=False)
    assert early.status_code == 409 and "Finish the interview" in early.text
    log_in(client, "bob")
    assert client.get(f"/interview/{running}/coding").status_code == 404
    assert client.post(f"/interview/{running}/coding").status_code == 404
