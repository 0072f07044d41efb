"""Mock-interview pages and JSON API: the whole flow, resume after a server restart,
the report and its Markdown, per-learner access, CSRF."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.models.review import ReviewLog
from tests.conftest import log_in
from tests.services.interview.conftest import BN_POINTS_EN, add_card


@pytest.fixture
def cards(engine):  # type: ignore[no-untyped-def]
    add_card(
        engine,
        "bn",
        "training",
        points=BN_POINTS_EN,
        follow_ups=[("How does LN differ?", "ln")],
        budget=90,
    )
    add_card(engine, "ln", "training", points=["layer norm normalises over features"])
    add_card(
        engine,
        "dropout",
        "regularization",
        points=["drops units at random", "scales at train time"],
    )
    return ["bn", "ln", "dropout"]


def test_api_flow_report_and_schedule(learner_client: TestClient, cards, engine) -> None:  # type: ignore[no-untyped-def]
    r = learner_client.post(
        "/api/interview", json={"questions": 2, "decks": ["training"], "seed": 1}
    )
    assert r.status_code == 201, r.text
    step = r.json()
    iv = step["id"]
    assert step["phase"] == "answering" and step["remaining_ms"] > 0 and step["points"] == []
    assert learner_client.get("/api/interview").json()["active"] == iv
    seen = []
    while step["phase"] != "finished":
        pos = step["position"]
        seen.append(step["card_id"])
        assert (
            learner_client.put(
                f"/api/interview/{iv}/draft", json={"position": pos, "text": "dr"}
            ).status_code
            == 204
        )
        step = learner_client.post(
            f"/api/interview/{iv}/answer",
            json={"position": pos, "text": "running averages of mean and variance at inference"},
        ).json()
        assert step["phase"] == "reviewing"
        ticks = [p["suggested"] for p in step["points"]]
        # a stale second answer is refused with 409
        again = learner_client.post(
            f"/api/interview/{iv}/answer", json={"position": pos, "text": "x"}
        )
        assert again.status_code == 409 and again.json()["detail"]["code"] == "stale_step"
        step = learner_client.post(
            f"/api/interview/{iv}/confirm", json={"position": pos, "ticks": ticks}
        ).json()
    assert len(seen) == len(set(seen))
    report = learner_client.get(f"/api/interview/{iv}/report").json()
    assert 0 <= report["score"] <= 1 and report["questions"]
    assert [m["lowest_share"] for m in report["rating_mapping"]] == [1.0, 0.7, 0.4, 0.0]
    md = learner_client.get(f"/api/interview/{iv}/report.md")
    assert md.status_code == 200 and md.text.startswith("# Mock interview report")
    with Session(engine) as s:
        kinds = {log.kind for log in s.execute(select(ReviewLog)).scalars()}
    assert kinds == {"mock"}


def test_pages_flow_with_forms(learner_client: TestClient, cards) -> None:  # type: ignore[no-untyped-def]
    page = learner_client.get("/interview")
    assert page.status_code == 200 and "Start the interview" in page.text
    r = learner_client.post(
        "/interview",
        data={
            "length_mode": "questions",
            "length": "1",
            "scope": "decks",
            "decks": "regularization",
            "difficulties": ["easy", "medium", "hard"],
            "lang": "en",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    url = r.headers["location"]
    page = learner_client.get(url)
    assert 'id="countdown"' in page.text and "dropout" not in page.text.split("<main")[0]
    r = learner_client.post(
        url + "/answer",
        data={"position": "0", "answer": "drops units at random", "action": "done"},
        follow_redirects=False,
    )
    page = learner_client.get(url)
    assert 'name="tick" value="0" class="iv-tick" checked' in page.text
    r = learner_client.post(
        url + "/confirm", data={"position": "0", "size": "2", "tick": ["0"]}, follow_redirects=False
    )
    assert learner_client.get(url, follow_redirects=False).headers["location"] == url + "/report"
    report = learner_client.get(url + "/report")
    assert 'id="overall-score">50%' in report.text
    assert "scales at train time" in report.text  # the missed key point
    assert "At least 70% of the key points" in report.text  # the mapping is documented


def test_resume_after_server_restart(settings, make_user, cards) -> None:  # type: ignore[no-untyped-def]
    from app.main import create_app

    make_user("learner")
    with TestClient(create_app(settings)) as first:
        log_in(first, "learner")
        step = first.post("/api/interview", json={"questions": 2, "follow_ups": False}).json()
        first.put(
            f"/api/interview/{step['id']}/draft", json={"position": 0, "text": "half an answer"}
        )
        cookies, token = dict(first.cookies), first.headers["X-CSRF-Token"]
    with TestClient(create_app(settings), cookies=cookies) as second:  # a new process's app
        second.headers["X-CSRF-Token"] = token
        again = second.get(f"/api/interview/{step['id']}").json()
        assert again["position"] == 0 and again["draft"] == "half an answer"
        assert 0 < again["remaining_ms"] <= step["remaining_ms"]
        page = second.get(f"/interview/{step['id']}")
        assert "half an answer" in page.text
        assert "Unfinished interview" in second.get("/interview").text


def test_another_learner_cannot_see_or_answer(client: TestClient, make_user, cards) -> None:  # type: ignore[no-untyped-def]
    make_user("alice")
    make_user("bob")
    log_in(client, "alice")
    iv = client.post("/api/interview", json={"questions": 1}).json()["id"]
    log_in(client, "bob")
    assert client.get(f"/api/interview/{iv}").status_code == 404
    assert (
        client.post(f"/api/interview/{iv}/answer", json={"position": 0, "text": "x"}).status_code
        == 404
    )
    assert client.get(f"/interview/{iv}/report").status_code == 404


def test_csrf_and_login_required(client: TestClient, make_user, cards) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/interview").status_code == 401
    make_user("learner")
    log_in(client, "learner")
    token = client.headers.pop("X-CSRF-Token")
    assert client.post("/api/interview", json={"questions": 1}).status_code == 403
    client.headers["X-CSRF-Token"] = token
    assert client.post("/api/interview", json={"questions": 1}).status_code == 201


def test_no_matching_cards_is_a_readable_refusal(learner_client: TestClient, cards) -> None:  # type: ignore[no-untyped-def]
    r = learner_client.post("/api/interview", json={"decks": ["nope"]})
    assert r.status_code == 400 and "No cards" in r.json()["detail"]["message"]


def test_templates_have_no_inline_script_or_style() -> None:
    root = Path(__file__).resolve().parents[2] / "app/web/templates/interview"
    for path in root.glob("*.html"):
        text = path.read_text()
        assert "<script>" not in text and "style=" not in text and "<style" not in text, path


def test_chinese_interview_and_interface(learner_client: TestClient, engine) -> None:  # type: ignore[no-untyped-def]
    from app.models.user import User
    from tests.services.interview.conftest import BN_POINTS_ZH

    add_card(
        engine,
        "bn",
        "training",
        points=BN_POINTS_EN,
        zh_points=BN_POINTS_ZH,
        follow_ups=[("Why a running mean?", None)],
    )
    with Session(engine) as s:
        user = s.execute(select(User).where(User.username == "learner")).scalar_one()
        user.locale = "zh"
        s.add(user)
        s.commit()
    assert "模拟面试" in learner_client.get("/interview").text
    iv = learner_client.post("/api/interview", json={"questions": 1, "lang": "zh"}).json()["id"]
    assert "标题 bn" in learner_client.get(f"/interview/{iv}").text
    step = learner_client.post(
        f"/api/interview/{iv}/answer", json={"position": 0, "text": "推理时用均值和方差的滑动平均"}
    ).json()
    assert [p["suggested"] for p in step["points"]] == [False, False, True]
    assert "已匹配" in learner_client.get(f"/interview/{iv}").text
    step = learner_client.post(
        f"/api/interview/{iv}/confirm", json={"position": 0, "ticks": [False, False, True]}
    ).json()
    # The translation has no follow-ups of its own: the English ones are asked.
    assert step["kind"] == "follow_up" and step["prompt"] == "Why a running mean?"
    assert "面试官追问" in learner_client.get(f"/interview/{iv}").text
    learner_client.post(f"/api/interview/{iv}/answer", json={"position": 1, "text": ""})
    assert "我的回答覆盖了" in learner_client.get(f"/interview/{iv}").text
    learner_client.post(f"/api/interview/{iv}/confirm", json={"position": 1, "ticks": [True]})
    report = learner_client.get(f"/interview/{iv}/report").text
    assert "不到 40% 的要点" in report and 'id="overall-score">67%' in report


def test_abandoned_interview_can_be_discarded_from_the_start_page(
    learner_client: TestClient, cards
) -> None:  # type: ignore[no-untyped-def]
    iv = learner_client.post("/api/interview", json={"questions": 1}).json()["id"]
    page = learner_client.get("/interview").text
    assert f'href="/interview/{iv}"' in page and f'action="/interview/{iv}/discard"' in page
    r = learner_client.post(f"/interview/{iv}/discard", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/interview"
    assert learner_client.get("/api/interview").json()["active"] is None
    assert (
        learner_client.get(f"/interview/{iv}", follow_redirects=False).headers["location"]
        == "/interview"
    )
