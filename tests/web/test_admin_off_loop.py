"""The admin's slow work (live preview, save, upload, Anki import) runs off the event
loop: /healthz answers while it runs."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from app.services.authoring import checks
from tests.conftest import TEST_PASSWORD, run_async
from tests.web.test_admin import card_form

SLOW_S = 1.5


async def logged_in_admin(app) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    token = (await client.get("/api/auth/csrf")).json()["csrf_token"]
    login = await client.post(
        "/api/auth/login",
        json={"username": "root", "password": TEST_PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    assert login.status_code == 200
    client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    return client


@pytest.mark.parametrize("path", ["/admin/preview", "/admin/cards"])
def test_healthz_answers_during_a_slow_admin_request(app, make_user, monkeypatch, path) -> None:  # type: ignore[no-untyped-def]
    make_user("root", role="admin")

    calls: list[int] = []

    def slow_check(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        time.sleep(SLOW_S)  # stands in for copying and loading a large content tree
        return [], {}

    monkeypatch.setattr(checks, "check_tree", slow_check)

    async def scenario() -> float:
        client = await logged_in_admin(app)
        try:
            slow = asyncio.create_task(
                client.post(path, data=card_form(demo_path="", demo_proves=[]))
            )
            await asyncio.sleep(0.2)  # the slow request is under way
            started = time.perf_counter()
            health = await client.get("/healthz")
            waited = time.perf_counter() - started
            assert health.status_code == 200
            response = await slow
            assert calls, response.text[:300]
            return waited
        finally:
            await client.aclose()

    waited = run_async(scenario())
    assert waited < SLOW_S / 2, f"/healthz waited {waited:.2f}s behind the admin request"
