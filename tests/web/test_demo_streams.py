"""Live demo streams share their database reads: however many streams watch a run, it
is read at most once per poll interval, and a stream that goes away never cancels a
read that others wait for."""

from __future__ import annotations

import asyncio
from typing import Any

from app.web.demo_streams import SharedViews
from tests.conftest import run_async


def test_streams_of_one_run_share_each_read() -> None:
    reads: list[str] = []

    def fetcher(key: str):  # type: ignore[no-untyped-def]
        async def fetch() -> dict[str, Any]:
            reads.append(key)
            await asyncio.sleep(0.01)  # a read on a worker thread
            return {"id": key, "read": len(reads)}

        return fetch

    async def scenario() -> tuple[list[Any], list[Any], list[Any]]:
        views = SharedViews(max_age_s=0.2)
        first = await asyncio.gather(*[views.get("a", fetcher("a")) for _ in range(150)])
        other = await asyncio.gather(*[views.get("b", fetcher("b")) for _ in range(10)])
        await asyncio.sleep(0.25)  # older than max_age_s: read again
        later = await asyncio.gather(*[views.get("a", fetcher("a")) for _ in range(150)])
        return first, other, later

    first, other, later = run_async(scenario())
    assert reads == ["a", "b", "a"]
    assert all(view == {"id": "a", "read": 1} for view in first)
    assert all(view == {"id": "b", "read": 2} for view in other)
    assert all(view == {"id": "a", "read": 3} for view in later)


def test_a_stream_that_goes_away_does_not_cancel_the_shared_read() -> None:
    async def scenario() -> Any:
        views = SharedViews(max_age_s=5)

        async def slow() -> dict[str, Any]:
            await asyncio.sleep(0.05)
            return {"done": True}

        leaving = asyncio.ensure_future(views.get("run", slow))
        staying = asyncio.ensure_future(views.get("run", slow))
        await asyncio.sleep(0.01)
        leaving.cancel()  # the client closed its stream
        return await staying

    assert run_async(scenario()) == {"done": True}
