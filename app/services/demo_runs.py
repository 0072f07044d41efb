"""Demo runs: the catalog of demos, parameter validation, the result cache, persistence,
and handing runs to an executor. No fastapi, no torch.

The executor (``app.workers.executor.Executor``) runs the code; this module decides
whether it needs to run at all and records what happened in ``demo_run``, so any web
process can serve a run's state and result later.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.db import session_scope
from app.demos.metadata import DemoMeta, read_metadata
from app.demos.params import (
    Described,
    SchemaUnavailable,
    describe,
    describe_one,
    model_from_schema,
)
from app.demos.registry import DemoError, demo_dir
from app.models.base import utcnow
from app.models.demo_run import DemoRun
from app.workers.executor import (
    Executor,
    Job,
    Outcome,
    QueueFull,
    RunEvent,
    RunnerUnavailable,
    Runtime,
)

log = logging.getLogger("backprop.demos")

__all__ = [
    "CardDemo",
    "DemoCatalog",
    "DemoNotFound",
    "LoginRequired",
    "TooManyQueued",
    "DemoRunService",
    "ParamsInvalid",
    "QueueFull",
    "RateLimiter",
    "RedisRateLimiter",
    "RunRecorder",
    "RunnerUnavailable",
    "claim_run",
    "sweep_lost_runs",
    "cache_key",
    "canonical_params",
    "card_demos",
    "read_claims",
]


class DemoNotFound(LookupError):
    pass


class LoginRequired(PermissionError):
    """The run is not in the cache and would start new work: that needs an account."""


class TooManyQueued(Exception):
    """This learner already has ``limit`` runs waiting or running."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"You already have {limit} demo runs waiting or running; "
            "start another when one has finished."
        )
        self.limit = limit


class ParamsInvalid(ValueError):
    """Parameters outside the demo's declared bounds; ``errors`` name each field."""

    def __init__(self, demo: str, errors: list[dict[str, str]]) -> None:
        fields = ", ".join(e["field"] for e in errors)
        super().__init__(f"invalid parameters for demo {demo!r}: {fields}")
        self.errors = errors


# --- the catalog --------------------------------------------------------------------


def read_claims(path: Path) -> dict[str, str]:
    """The module's literal ``CLAIMS`` dict, read without importing it."""
    return dict(read_metadata(Path(path)).claims)


@dataclass(frozen=True)
class DemoSpec:
    """What the web process knows of a demo without running it: the static metadata and
    a model rebuilt from the Params schema that the sandbox reported."""

    name: str
    path: Path
    title: str
    description: str
    params_model: type[BaseModel]
    code_hash: str
    schema: dict[str, Any]

    def params_schema(self) -> dict[str, Any]:
        return self.schema


@dataclass(frozen=True)
class DemoInfo:
    spec: DemoSpec
    claims: dict[str, str]
    meta: DemoMeta

    @property
    def name(self) -> str:
        return self.spec.name

    def describe(self) -> dict[str, Any]:
        meta = self.meta
        return {
            "name": self.spec.name,
            "title": meta.title,
            "description": meta.description,
            "title_zh": meta.title_zh,
            "description_zh": meta.description_zh,
            "params_schema": self.spec.params_schema(),
            "defaults": self.spec.params_model().model_dump(mode="json"),
            "claims": self.claims,
            "claims_zh": meta.claims_zh,
            "claim_shown_when": meta.claim_shown_when,
            "claim_shown_when_zh": meta.claim_shown_when_zh,
            "text_zh": meta.text_zh,
            "benefits_from_gpu": meta.benefits_from_gpu,
        }


def _info_from(meta: DemoMeta, described: Described) -> DemoInfo:
    if described.error is not None or described.schema is None:
        raise DemoError(f"{meta.path}: {described.error or 'no Params schema'}")
    if described.code_hash != meta.code_hash:
        raise DemoError(f"{meta.path}: the file changed while it was read; try again")
    spec = DemoSpec(
        name=meta.name,
        path=meta.path,
        title=meta.title,
        description=meta.description,
        params_model=model_from_schema(meta.name, described.schema),
        code_hash=meta.code_hash,
        schema=described.schema,
    )
    return DemoInfo(spec=spec, claims=dict(meta.claims), meta=meta)


class DemoCatalog:
    """The demos under ``content_dir/demos``, reloaded when a file changes (its code hash
    then changes too, so the cache misses). Never imports a demo: constants are read with
    ``ast`` and the Params schema comes from a sandboxed process, both cached by hash."""

    def __init__(self, content_dir: Path, *, require_sandbox: bool = False) -> None:
        self.content_dir = Path(content_dir)
        self.require_sandbox = require_sandbox
        self._lock = threading.Lock()
        self._loaded: dict[Path, tuple[str, DemoInfo]] = {}
        self._errors: dict[str, str] = {}

    def _cached(self, meta: DemoMeta) -> DemoInfo | None:
        with self._lock:
            cached = self._loaded.get(meta.path)
        return cached[1] if cached and cached[0] == meta.code_hash else None

    def _store(self, info: DemoInfo) -> DemoInfo:
        with self._lock:
            self._loaded[info.spec.path] = (info.spec.code_hash, info)
        return info

    def _info(self, path: Path) -> DemoInfo:
        meta = read_metadata(path)
        cached = self._cached(meta)
        if cached is not None:
            return cached
        try:
            described = describe_one(path, require_sandbox=self.require_sandbox)
        except SchemaUnavailable as exc:
            raise DemoError(f"{path}: {exc}") from exc
        return self._store(_info_from(meta, described))

    def _paths(self) -> list[Path]:
        directory = demo_dir(self.content_dir)
        if not directory.is_dir():
            return []
        return [p for p in sorted(directory.glob("*.py")) if not p.name.startswith("_")]

    def all(self) -> dict[str, DemoInfo]:
        found: dict[str, DemoInfo] = {}
        metas: dict[Path, DemoMeta] = {}
        for path in self._paths():
            try:
                metas[path] = read_metadata(path)
            except (DemoError, OSError) as exc:
                self._errors[path.stem] = str(exc)
                log.error("demo %s is broken: %s", path.stem, exc)
        todo = [path for path, meta in metas.items() if self._cached(meta) is None]
        try:
            described = describe(todo, require_sandbox=self.require_sandbox) if todo else {}
        except SchemaUnavailable as exc:
            described = {path: Described("", None, str(exc)) for path in todo}
        for path, meta in metas.items():
            try:
                info = self._cached(meta) or self._store(_info_from(meta, described[path]))
            except DemoError as exc:
                self._errors[path.stem] = str(exc)
                log.error("demo %s is broken: %s", path.stem, exc)
                continue
            found[path.stem] = info
            self._errors.pop(path.stem, None)
        return found

    def errors(self) -> dict[str, str]:
        return dict(self._errors)

    def get(self, name: str) -> DemoInfo:
        path = demo_dir(self.content_dir) / f"{name}.py"
        if not name.isidentifier() or not path.is_file():
            raise DemoNotFound(f"no demo named {name!r}")
        try:
            return self._info(path)
        except (DemoError, OSError) as exc:
            raise DemoNotFound(f"demo {name!r} is broken: {exc}") from exc


def canonical_params(spec: DemoSpec, raw: dict[str, Any] | None) -> dict[str, Any]:
    """Validates against the demo's Params and returns every field (defaults filled in),
    in JSON types. Raises ParamsInvalid naming each bad field."""
    if raw is not None and not isinstance(raw, dict):
        raise ParamsInvalid(spec.name, [{"field": "params", "message": "must be an object"}])
    known = set(spec.params_model.model_fields)
    unknown = sorted(set(raw or {}) - known)
    errors = [{"field": key, "message": "not a parameter of this demo"} for key in unknown]
    try:
        params = spec.params_model.model_validate(raw or {})
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "params"
            errors.append({"field": field, "message": error["msg"]})
        params = None
    if errors or params is None:
        raise ParamsInvalid(spec.name, errors)
    return params.model_dump(mode="json")


def cache_key(spec: DemoSpec, params: dict[str, Any], runtime: Runtime, seed: int = 0) -> str:
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"))
    parts = [spec.name, spec.code_hash, canonical, runtime.device, runtime.torch_version, str(seed)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def run_device(meta: DemoMeta, runtime: Runtime) -> str:
    """Where a demo runs: on the GPU only when it declares BENEFITS_FROM_GPU and the runner
    has one; small demos stay on CPU workers even on a GPU host (a GPU is slower for them:
    launch and copy costs dwarf the work)."""
    return "cuda" if meta.benefits_from_gpu and runtime.device == "cuda" else "cpu"


DEVICE_NOTES = {
    (True, True): "Ran on the GPU: this demo shows its point at full size there.",
    (True, False): "Ran on the GPU.",
    (False, True): "Ran on the CPU (no GPU here), in a smaller configuration with the same claims.",
    (False, False): "Ran on the CPU: a demo this small is faster there than on a GPU.",
}


# --- cards that rely on demos ---------------------------------------------------------


@dataclass(frozen=True)
class CardDemo:
    card_id: str
    file: Path
    demo_name: str
    params: dict[str, Any]
    proves: list[str]


def _front_matter(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        return {}
    data = yaml.safe_load(text[3:end])
    return data if isinstance(data, dict) else {}


def card_demos(content_dir: Path) -> list[CardDemo]:
    """Every card's ``demo:`` reference, read from the front matter of the default-language
    files (``<id>.md``, not ``<id>.<lang>.md``). A small reader on purpose: swap it for the
    content loader once that exposes the parsed tree."""
    found = []
    for path in sorted((Path(content_dir) / "cards").rglob("*.md")):
        if len(path.suffixes) > 1:
            continue  # a translation
        meta = _front_matter(path)
        demo = meta.get("demo")
        if not isinstance(demo, dict) or not demo.get("path"):
            continue
        found.append(
            CardDemo(
                card_id=str(meta.get("id", path.stem)),
                file=path,
                demo_name=Path(str(demo["path"])).stem,
                params=dict(demo.get("params") or {}),
                proves=[str(p) for p in demo.get("proves") or []],
            )
        )
    return found


# --- rate limiting ---------------------------------------------------------------------


class RateLimiter:
    """A token bucket per learner: ``burst`` runs at once, refilled at ``per_minute``."""

    def __init__(self, per_minute: float = 30, burst: int = 10) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> int:
        """0 if allowed, else seconds to wait."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                if len(self._buckets) > 10000:
                    self._buckets.clear()  # bounded memory; a reset only forgives
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.rate)) if self.rate > 0 else 60


_BUCKET_LUA = """
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / math.max(rate, 0.001)) + 60)
return {allowed, tostring(tokens)}
"""


class RedisRateLimiter:
    """The same token bucket, kept in Redis, so every web process shares one bucket per
    learner. Used with the queue backend (Redis is there anyway). Redis's own clock
    (TIME) is used, so web hosts with skewed clocks agree. If Redis cannot be reached it
    lets the request through: starting the run then fails with the queue's clear error.
    """

    def __init__(self, client: Any, prefix: str, per_minute: float = 30, burst: int = 10) -> None:
        self.client = client
        self.prefix = prefix
        self.rate = per_minute / 60.0
        self.burst = burst
        self._script = client.register_script(_BUCKET_LUA)

    def acquire(self, key: str) -> int:
        """0 if allowed, else seconds to wait."""
        try:
            seconds, micros = self.client.time()
            now = seconds + micros / 1e6
            allowed, tokens = self._script(
                keys=[f"{self.prefix}:bucket:{key}"], args=[self.burst, self.rate, now]
            )
        except Exception as exc:  # redis.RedisError; no redis import in services
            log.warning("demo rate limit skipped, Redis unreachable: %s", exc)
            return 0
        if int(allowed):
            return 0
        if self.rate <= 0:
            return 60
        return max(1, math.ceil((1 - float(tokens)) / self.rate))


# --- runs ------------------------------------------------------------------------------

PROGRESS_WRITE_INTERVAL_S = 0.2


def cards_with_failing_claims(session: Session, catalog: DemoCatalog) -> set[str]:
    """Active cards whose demo's latest finished run with the card's own parameters (on the
    demo's current code) reports a failed claim the card relies on. Cards whose demo has not
    run with those parameters yet are not listed: unknown is not failing."""
    from app.models import Card

    failing: set[str] = set()
    cards = session.exec(
        select(Card).where(Card.status == "active", col(Card.demo_path).is_not(None))
    ).all()
    for card in cards:
        name = Path(card.demo_path or "").stem
        try:
            spec = catalog.get(name).spec
            wanted = canonical_params(spec, card.demo_params)
        except (DemoNotFound, ParamsInvalid):
            failing.add(card.id)  # a card pointing at a broken demo cannot be backed by it
            continue
        runs = session.exec(
            select(DemoRun)
            .where(
                DemoRun.demo_name == name,
                DemoRun.code_hash == spec.code_hash,
                DemoRun.status == "succeeded",
                DemoRun.cached == False,  # noqa: E712  (SQL comparison)
            )
            .order_by(col(DemoRun.finished_at).desc())
        ).all()
        latest = next((run for run in runs if run.params == wanted), None)
        if latest is None or not latest.result:
            continue
        passed = {c["id"]: c["passed"] for c in latest.result.get("claims", [])}
        if any(not passed.get(claim_id, False) for claim_id in card.demo_proves):
            failing.add(card.id)
    return failing


class DemoRunService:
    """Starts runs (or serves them from the cache) and records their progress."""

    def __init__(
        self,
        engine: Engine,
        catalog: DemoCatalog,
        executor: Executor | None,
        seed: int = 0,
        *,
        max_queued_per_user: int = 3,
    ) -> None:
        self.engine = engine
        self.catalog = catalog
        self.executor = executor
        self.seed = seed
        self.max_queued_per_user = max_queued_per_user
        self._recorder = RunRecorder(engine)
        # Runs this process handed to a local executor and that have not finished: their
        # leases are renewed (renew_leases) so other processes know they are alive.
        self._live: set[str] = set()
        self._live_lock = threading.Lock()
        self.owner = lease_owner()

    def runtime(self, wait_s: float = 0.0) -> Runtime | None:
        return self.executor.runtime(wait_s) if self.executor is not None else None

    def start_run(
        self,
        name: str,
        raw_params: dict[str, Any] | None,
        *,
        requested_by: int | None = None,
        use_cache: bool = True,
        wait_runtime_s: float = 10.0,
        may_queue: bool = True,
    ) -> DemoRun:
        """Validates, then returns a finished cached run or a queued one.

        ``may_queue=False`` (an anonymous visitor): only cached results are served.
        Raises DemoNotFound, ParamsInvalid, LoginRequired, TooManyQueued, QueueFull or
        RunnerUnavailable; on the last four nothing is recorded.
        """
        info = self.catalog.get(name)
        spec = info.spec
        params = canonical_params(spec, raw_params)
        runtime = None if self.executor is None else self.executor.runtime(wait_runtime_s)
        if runtime is None:
            raise RunnerUnavailable("the demo runner is not available (still starting or off)")
        device = run_device(info.meta, runtime)
        key = cache_key(spec, params, dataclasses.replace(runtime, device=device), self.seed)
        with session_scope(self.engine, write=True) as session:
            source = None
            if use_cache:
                source = session.exec(
                    select(DemoRun)
                    .where(DemoRun.cache_key == key, DemoRun.status == "succeeded")
                    .where(col(DemoRun.cached).is_(False))
                    .order_by(col(DemoRun.finished_at).desc())
                    .limit(1)
                ).first()
            if source is None:
                if not may_queue:
                    raise LoginRequired(
                        "Log in to start a new demo run; results already computed are "
                        "shown without an account."
                    )
                if requested_by is not None and self.max_queued_per_user > 0:
                    waiting = session.exec(
                        select(func.count())
                        .select_from(DemoRun)
                        .where(DemoRun.requested_by == requested_by)
                        .where(col(DemoRun.status).in_(("queued", "running")))
                    ).one()
                    if waiting >= self.max_queued_per_user:
                        raise TooManyQueued(self.max_queued_per_user)
            now = utcnow()
            run = DemoRun(
                id=uuid.uuid4().hex,
                demo_name=spec.name,
                code_hash=spec.code_hash,
                params=params,
                cache_key=key,
                requested_by=requested_by,
                created_at=now,
                device=device,  # where it will run; the queue's sweeper fails runs per device
                timings=self._lease(),
            )
            if source is not None:
                run.status = "succeeded"
                run.cached = True
                run.source_run_id = source.id
                run.progress = 1.0
                run.device, run.device_name = source.device, source.device_name
                run.torch_version, run.deterministic = source.torch_version, source.deterministic
                run.timings = {"cached_from_ms": source.timings.get("total_ms", 0.0)}
                run.started_at = run.finished_at = now
            session.add(run)
        if run.cached:
            return run
        job = Job(
            run_id=run.id,
            demo_name=spec.name,
            demo_path=str(spec.path),
            code_hash=spec.code_hash,
            params=params,
            seed=self.seed,
            owner=f"user:{requested_by}" if requested_by is not None else "",
            device=device,
        )
        try:
            assert self.executor is not None
            with self._live_lock:
                self._live.add(run.id)
            self.executor.submit(job, self._on_event)
        except (QueueFull, RunnerUnavailable):
            with self._live_lock:
                self._live.discard(run.id)
            with session_scope(self.engine, write=True) as session:
                stale = session.get(DemoRun, run.id)
                if stale is not None:
                    session.delete(stale)
            raise
        return run

    def _on_event(self, event: RunEvent) -> None:
        self._recorder(event)
        if event.kind == "finished":
            with self._live_lock:
                self._live.discard(event.run_id)

    def _lease(self) -> dict[str, Any]:
        return {LEASE_AT: time.time(), LEASE_OWNER: self.owner}

    def renew_leases(self) -> int:
        """Marks this process's unfinished runs alive (one UPDATE); returns how many.
        Only for the local executor: queued runs of the queue have their own leases."""
        with self._live_lock:
            live = list(self._live)
        if not live:
            return 0
        with session_scope(self.engine, write=True) as session:
            result = session.execute(
                update(DemoRun)
                .where(col(DemoRun.id).in_(live))
                .where(col(DemoRun.status).in_(("queued", "running")))
                .values(timings=self._lease())
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def get_run(self, session: Session, run_id: str) -> DemoRun | None:
        return session.get(DemoRun, run_id)

    def run_view(self, session: Session, run: DemoRun, *, admin: bool = False) -> dict[str, Any]:
        """The JSON a client sees: the result (from the source run when cached), never the
        traceback unless ``admin``."""
        result = run.result
        output = run.output
        if run.cached and run.source_run_id:
            source = session.get(DemoRun, run.source_run_id)
            if source is not None:
                result, output = source.result, source.output
        view: dict[str, Any] = {
            "id": run.id,
            "demo": run.demo_name,
            "status": run.status,
            "done": run.status in ("succeeded", "failed"),
            "cached": run.cached,
            "params": run.params,
            "progress": run.progress,
            "progress_message": run.progress_message,
            "reason_code": run.reason_code,
            "reason": run.reason,
            "result": result,
            "device": run.device,
            "device_note": self.device_note(run),
            "device_name": run.device_name,
            "torch_version": run.torch_version,
            "deterministic": run.deterministic,
            "timings": {k: v for k, v in (run.timings or {}).items() if not k.startswith("lease_")},
            "created_at": run.created_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        }
        if admin:
            view["error_detail"] = run.error_detail
            view["output"] = output
        return view

    def device_note(self, run: DemoRun) -> str | None:
        """Where the run ran and why, in one sentence for the panel."""
        if run.device is None:
            return None
        try:
            benefits = self.catalog.get(run.demo_name).meta.benefits_from_gpu
        except DemoNotFound:
            benefits = False
        return DEVICE_NOTES[(run.device == "cuda", benefits)]

    def sweep_interrupted(self, stale_s: float) -> int:
        """Fails runs of the local executor that nobody is running any more: queued or
        running, and their lease (renewed every few seconds by the process that owns them)
        is older than ``stale_s``, or their owner was a process on this host that is gone
        (a crash, then a restart: failed at once). Returns how many."""
        return sweep_unleased_runs(self.engine, stale_s=stale_s, me=self.owner)


LEASE_AT, LEASE_OWNER = "lease_at", "lease_owner"
INTERRUPTED_REASON = "The run was interrupted (the server running it stopped); start it again."


def lease_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_gone(owner: str, me: str) -> bool:
    """True when ``owner`` was a process on this host that no longer exists."""
    host, _, pid = owner.rpartition(":")
    if host != me.rpartition(":")[0] or not pid.isdigit() or owner == me:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def sweep_unleased_runs(engine: Engine, *, stale_s: float, me: str) -> int:
    """The local executor's sweeper (see DemoRunService.sweep_interrupted). Reads first,
    without a write lock (it runs every few seconds in every web process, and a writer
    transaction would make SQLite refuse a concurrent deferred writer); each update is
    conditional on the status, so every process may sweep at once."""
    now = utcnow()
    cutoff = time.time() - stale_s
    with Session(engine) as session:
        rows = session.exec(
            select(DemoRun.id, DemoRun.status, DemoRun.timings, DemoRun.created_at).where(
                col(DemoRun.status).in_(("queued", "running"))
            )
        ).all()
    lost: list[tuple[str, str]] = []
    for run_id, status, timings, created_at in rows:
        lease = timings or {}
        at = lease.get(LEASE_AT)
        if isinstance(at, int | float):
            gone = at < cutoff or _owner_gone(str(lease.get(LEASE_OWNER, "")), me)
        else:  # written before leases existed: judge by age
            gone = created_at < now - timedelta(seconds=stale_s)
        if gone:
            lost.append((run_id, status))
    if not lost:
        return 0
    failed = 0
    with session_scope(engine, write=True) as session:
        for run_id, status in lost:
            result = session.execute(
                update(DemoRun)
                .where(col(DemoRun.id) == run_id, col(DemoRun.status) == status)
                .values(
                    status="failed", reason_code="unavailable", reason=INTERRUPTED_REASON,
                    finished_at=now, timings={},
                )
            )  # fmt: skip
            failed += int(getattr(result, "rowcount", 0) or 0)
    return failed


class RunRecorder:
    """Writes a run's events to its ``demo_run`` row: the one place that does, whether the
    run executes in this process's pool or in a ``backprop worker`` elsewhere. Progress
    writes are throttled to one per PROGRESS_WRITE_INTERVAL_S per run."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._last_progress: dict[str, float] = {}

    def __call__(self, event: RunEvent) -> None:
        run_id = event.run_id
        if event.kind == "progress":
            now = time.monotonic()
            if now - self._last_progress.get(run_id, 0.0) < PROGRESS_WRITE_INTERVAL_S:
                return
            self._last_progress[run_id] = now
        with session_scope(self.engine, write=True) as session:
            run = session.get(DemoRun, run_id)
            if run is None or run.status in ("succeeded", "failed"):
                return  # gone, or already failed by the sweeper: the first word stands
            if event.kind == "started":
                run.status = "running"
                run.started_at = run.started_at or utcnow()
            elif event.kind == "progress":
                run.progress = event.fraction
                run.progress_message = event.message[:200]
            elif event.outcome is not None:
                self._last_progress.pop(run_id, None)
                _apply_outcome(run, event.outcome)
            session.add(run)


def claim_run(engine: Engine, run_id: str) -> bool:
    """Moves a queued run to running; False when it is not queued any more (finished,
    failed by the sweeper, or claimed by another worker after a redelivery), so a queue
    that delivers a message twice never runs it twice."""
    with session_scope(engine, write=True) as session:
        result = session.execute(
            update(DemoRun)
            .where(col(DemoRun.id) == run_id, col(DemoRun.status) == "queued")
            .values(status="running", started_at=utcnow())
        )
        return bool(getattr(result, "rowcount", 0) == 1)


LOST_REASON = (
    "The demo worker running this was lost mid-run (its process stopped or its machine "
    "went away); start the run again."
)


NO_WORKER_REASON = "No demo worker is connected to the queue; start one with `backprop worker`."


def sweep_lost_runs(
    engine: Engine,
    *,
    alive: Callable[[list[str]], set[str]],
    lease_s: float,
    timeout_s: float,
    queue_wait_s: float,
    live_devices: Callable[[], set[str]] | None = None,
) -> int:
    """Fails runs nobody is working on any more; returns how many. Never leaves a run
    'running' forever:

    - running, started more than ``lease_s`` ago, and ``alive(ids)`` (the runs whose
      worker still renews its lease) does not include it: the worker was lost;
    - running longer than the demo timeout plus a lease: lost whatever the leases say;
    - queued longer than ``queue_wait_s``: no worker took it;
    - queued for a device (``cpu``/``cuda``) that no live worker serves now
      (``live_devices()``: the devices of workers seen within the stale window): the run
      would only wait out ``queue_wait_s``.

    Safe to call from every web process at once: each update is conditional on the status.
    """
    now = utcnow()
    failed = 0
    with session_scope(engine, write=True) as session:
        running = session.exec(
            select(DemoRun.id, DemoRun.started_at)
            .where(DemoRun.status == "running")
            .where(col(DemoRun.started_at) < now - timedelta(seconds=lease_s))
        ).all()
        ids = [run_id for run_id, _ in running]
        try:
            live = alive(ids) if ids else set()
        except Exception as exc:  # leases unreadable (Redis down): only the backstop applies
            log.warning("demo run leases unreadable, only failing overdue runs: %s", exc)
            live = set(ids)
        backstop = now - timedelta(seconds=timeout_s + lease_s)
        lost = [
            run_id
            for run_id, started in running
            if run_id not in live or (started is not None and started < backstop)
        ]
        stale = session.exec(
            select(DemoRun.id)
            .where(DemoRun.status == "queued")
            .where(DemoRun.created_at < now - timedelta(seconds=queue_wait_s))
        ).all()
        orphaned: list[str] = []
        if live_devices is not None:
            queued = session.exec(
                select(DemoRun.id, DemoRun.device).where(DemoRun.status == "queued")
            ).all()
            if queued:
                try:
                    devices = live_devices()
                except Exception as exc:  # Redis down: the queue-wait backstop applies
                    log.warning("demo workers unreadable: %s", exc)
                    devices = None
                if devices is not None:
                    orphaned = [i for i, device in queued if (device or "cpu") not in devices]
        for run_id, code, reason, status in [
            *((i, "crashed", LOST_REASON, "running") for i in lost),
            *(
                (i, "unavailable",
                 f"No demo worker took the run within {queue_wait_s:g} s; start it again later.",
                 "queued")
                for i in stale
            ),
            *((i, "unavailable", NO_WORKER_REASON, "queued") for i in orphaned),
        ]:  # fmt: skip
            result = session.execute(
                update(DemoRun)
                .where(col(DemoRun.id) == run_id, col(DemoRun.status) == status)
                .values(status="failed", reason_code=code, reason=reason, finished_at=now)
            )
            failed += int(getattr(result, "rowcount", 0) or 0)
    return failed


def _apply_outcome(run: DemoRun, outcome: Outcome) -> None:
    run.status = outcome.status
    run.reason_code = outcome.reason_code
    run.reason = outcome.reason
    run.error_detail = outcome.detail
    run.output = outcome.output
    run.result = outcome.result
    run.device = outcome.device or run.device
    run.device_name = outcome.device_name or run.device_name
    run.torch_version = outcome.torch_version or run.torch_version
    run.deterministic = outcome.deterministic
    run.timings = outcome.timings
    run.progress = 1.0 if outcome.status == "succeeded" else run.progress
    run.finished_at = utcnow()
    if run.started_at is None:
        run.started_at = run.finished_at
