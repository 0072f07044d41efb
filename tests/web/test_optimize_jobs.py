"""POST /api/review/optimize: one fitting process per learner, a cap for the server."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.services.scheduling.optimize_jobs import OptimizeJobs
from tests.conftest import log_in


class FakeProcess:
    """Stands in for `backprop optimize`: running until finished by the test."""

    def __init__(self) -> None:
        self.done = False

    def poll(self) -> int | None:
        return 0 if self.done else None


def test_one_job_per_learner_and_a_global_cap(app, client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    started: list[tuple[int, FakeProcess]] = []

    def start(session: Session, user_id: int) -> FakeProcess:
        process = FakeProcess()
        started.append((user_id, process))
        return process

    app.state.optimize_jobs = OptimizeJobs(max_jobs=2, start=start)  # type: ignore[arg-type]
    for name in ("ann", "bob", "cat"):
        make_user(name)
    with TestClient(app) as ann, TestClient(app) as bob, TestClient(app) as cat:
        for c, name in ((ann, "ann"), (bob, "bob"), (cat, "cat")):
            log_in(c, name)
        for _ in range(20):
            assert ann.post("/api/review/optimize").status_code == 202
        assert len(started) == 1  # twenty asks, one process
        assert bob.post("/api/review/optimize").status_code == 202
        refused = cat.post("/api/review/optimize")
        assert refused.status_code == 429
        assert refused.json()["detail"]["code"] == "optimizer_busy"
        assert len(started) == 2
        started[0][1].done = True  # ann's fit ends: a slot frees up
        assert cat.post("/api/review/optimize").status_code == 202
        assert len(started) == 3
