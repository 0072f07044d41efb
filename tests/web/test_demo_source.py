"""A demo's source over HTTP, and a learner's edited copy: run through the judge (here a
recording fake; tests/exercises/test_demo_copy.py runs the real sandbox), never through
the demo runner, so no demo_run row and no cache entry appear."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from app.models.demo_run import DemoRun

QUICK = Path(__file__).resolve().parents[1] / "workers" / "hostile_demos" / "quick.py"


@pytest.fixture
def quick_demo(content_dir: Path) -> Path:
    target = content_dir / "demos" / "quick.py"
    shutil.copy(QUICK, target)
    return target


class FakeRunner:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, source: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((source, params))
        broken = "passed=False" in source
        claims = [
            {"id": "sum-correct", "text": "a + b is exact.", "passed": not broken, "values": {}}
        ]
        return {"ok": True, "reason": "succeeded", "message": "1.0 + 2.0 = 3.0", "seconds": 0.1,
                "result": {"summary": "1.0 + 2.0 = 3.0", "claims": claims}}  # fmt: skip


@pytest.fixture
def runner(app) -> FakeRunner:  # type: ignore[no-untyped-def]
    fake = FakeRunner()
    app.state.demo_copies.runner = fake
    return fake


def test_anyone_reads_the_source(client, quick_demo) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/demos/quick/source").json()
    assert body["source"] == QUICK.read_text()
    missing = client.get("/api/demos/nope/source")
    assert missing.status_code == 404 and "no demo named 'nope'" in missing.json()["detail"]
    assert client.get("/api/demos/_private/source").status_code == 404


def test_an_edited_copy_runs_through_the_judge_and_leaves_the_demo_alone(
    learner_client, quick_demo, runner, engine
) -> None:  # type: ignore[no-untyped-def]
    before = quick_demo.read_text()
    edited = before.replace("passed=total == params.a + params.b", "passed=False")
    response = learner_client.post(
        "/api/demos/quick/copy-runs", json={"source": edited, "params": {"a": 1}}
    )
    assert response.status_code == 200, response.text
    assert response.json()["result"]["claims"][0]["passed"] is False
    assert runner.calls == [(edited, {"a": 1})]
    html = learner_client.post(
        "/demos/quick/copy", data={"source": edited}, headers={"HX-Request": "true"}
    ).text
    assert "Your copy ran." in html and 'data-claim="sum-correct"' in html and "✗" in html
    assert quick_demo.read_text() == before
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(DemoRun)).scalar_one() == 0


@pytest.mark.parametrize(
    ("body", "status", "sentence"),
    [
        ({"source": "x" * 100_001}, 422, "the limit is 100,000"),
        ({"source": ""}, 422, "as text"),
        ({"source": 3}, 422, "as text"),
        ({"source": "x = 1", "params": [1]}, 422, "must be an object"),
        ([1], 422, "JSON object"),
    ],
)
def test_bad_copies_get_a_sentence(
    learner_client, quick_demo, runner, body, status, sentence
) -> None:  # type: ignore[no-untyped-def]
    response = learner_client.post("/api/demos/quick/copy-runs", json=body)
    assert response.status_code == status and sentence in response.json()["detail"]
    assert runner.calls == []


def test_unknown_demo_and_rate_limit(learner_client, quick_demo, runner) -> None:  # type: ignore[no-untyped-def]
    unknown = learner_client.post("/api/demos/nope/copy-runs", json={"source": "x = 1"})
    assert unknown.status_code == 404
    statuses = [
        learner_client.post("/api/demos/quick/copy-runs", json={"source": "x = 1"}).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    assert len(runner.calls) == 3


def test_a_visitor_cannot_run_copies(client, quick_demo, runner) -> None:  # type: ignore[no-untyped-def]
    token = client.get("/api/auth/csrf").json()["csrf_token"]
    response = client.post(
        "/api/demos/quick/copy-runs", json={"source": "x = 1"}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 401 and "Sign in" in response.json()["detail"]
    assert runner.calls == []
