"""A content dir holding the hostile demos, and one warm pool shared by the worker tests
(starting a pool costs about two seconds; the tests check it recovers after each run)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.demos.metadata import read_metadata
from app.workers.executor import Job, Outcome, run_blocking
from app.workers.pool import LocalPool, PoolConfig

HOSTILE = Path(__file__).parent / "hostile_demos"


def hostile_content(root: Path) -> Path:
    (root / "demos").mkdir(parents=True, exist_ok=True)
    (root / "cards").mkdir(exist_ok=True)
    for path in HOSTILE.glob("*.py"):
        shutil.copy(path, root / "demos" / path.name)
    return root


@pytest.fixture(scope="session")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile_content(tmp_path_factory.mktemp("hostile") / "content")


# Put in the server's environment before the pool starts: no run may ever see it.
ENV_SECRET = "env-secret-" + os.urandom(8).hex()


@pytest.fixture(scope="session")
def pool(hostile_dir: Path) -> Iterator[LocalPool]:
    os.environ["BACKPROP_SECRET_KEY"] = ENV_SECRET
    try:
        pool = LocalPool(
            PoolConfig(content_dir=hostile_dir, workers=2, timeout_s=3.0, memory_mb=700)
        )
        pool.start()
        assert pool.wait_ready(60), pool.status()
        yield pool
        pool.stop()
    finally:
        os.environ.pop("BACKPROP_SECRET_KEY", None)


def make_job(content: Path, name: str, timeout_s: float | None = None, **params: object) -> Job:
    spec = read_metadata(content / "demos" / f"{name}.py")  # never imported here
    return Job(
        run_id=f"{name}-{os.urandom(4).hex()}",
        demo_name=name,
        demo_path=str(spec.path),
        code_hash=spec.code_hash,
        params=dict(params),
        timeout_s=timeout_s,
    )


def run(pool: LocalPool, content: Path, name: str, **kw: object) -> Outcome:
    timeout_s = kw.pop("timeout_s", None)
    return run_blocking(pool, make_job(content, name, timeout_s, **kw))  # type: ignore[arg-type]
