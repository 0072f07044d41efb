"""The catalog of demos (read statically, described by a sandboxed helper), their
parameters made canonical, cache keys, and the cards that rely on each demo."""

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from app.demos.metadata import DemoMeta, read_metadata
from app.demos.params import (
    Described,
    SchemaUnavailable,
    describe,
    describe_one,
    model_from_schema,
)
from app.demos.registry import DemoError, demo_dir
from app.services.errors import ServiceError
from app.workers.executor import (
    Runtime,
)

log = logging.getLogger("backprop.demos")


class DemoNotFound(ServiceError, LookupError):
    code = "not_found"
    status = 404


class LoginRequired(ServiceError, PermissionError):
    """The run is not in the cache and would start new work: that needs an account."""

    code = "login_required"
    status = 401


class TooManyQueued(ServiceError):
    """This learner already has ``limit`` runs waiting or running."""

    code = "too_many_runs"
    status = 429

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"You already have {limit} demo runs waiting or running; "
            "start another when one has finished."
        )
        self.limit = limit


class ParamsInvalid(ServiceError, ValueError):
    """Parameters outside the demo's declared bounds; ``errors`` name each field."""

    code = "invalid_params"
    status = 422

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
