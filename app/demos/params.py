"""Demo parameters in the web process without running demo code: each demo's ``Params``
JSON schema is reported by a sandboxed process (``app.workers.describe``), cached by the
file's hash (in memory and on disk), and a pydantic model is rebuilt from that schema to
validate requests and cards with the same messages as the demo's own model. The worker
validates again with the real model before it runs anything.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, Field, create_model

from app.demos.metadata import code_hash

log = logging.getLogger("backprop.demos.params")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Bump when the describer's output changes meaning: old disk entries are then ignored.
FORMAT = f"1-pydantic{pydantic.VERSION}"
DESCRIBE_TIMEOUT_S = 60.0


class SchemaUnavailable(RuntimeError):
    """No schema could be had for a demo; the message says why (its import failed, or the
    sandbox refused to start)."""


class SandboxRefused(SchemaUnavailable):
    """The sandboxed describer could not start at all (no bwrap in production, no
    interpreter): no demo has a schema until that is fixed."""


@dataclass(frozen=True)
class Described:
    code_hash: str
    schema: dict[str, Any] | None
    error: str | None


_memory: dict[str, Described] = {}
_lock = threading.Lock()


def cache_dir() -> Path:
    """Where schemas are kept across processes, by code hash (a user cache directory,
    not /tmp, so no other local user can plant one)."""
    return Path.home() / ".cache" / "backprop" / "demo-params"


def _disk_get(digest: str) -> Described | None:
    try:
        data = json.loads((cache_dir() / f"{digest}.json").read_text())
    except (OSError, ValueError):
        return None
    if data.get("format") != FORMAT:
        return None
    return Described(digest, data.get("schema"), data.get("error"))


def _disk_put(described: Described) -> None:
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = directory / f"{described.code_hash}.json"
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(
            json.dumps({"format": FORMAT, "schema": described.schema, "error": described.error})
        )
        tmp.replace(path)
    except OSError as exc:  # a read-only home: the memory cache still works
        log.debug("demo schema cache not written: %s", exc)


def _run_describer(paths: Sequence[Path], require_sandbox: bool) -> dict[str, Any]:
    from app.workers import sandbox

    sandboxed = sandbox.bwrap_path() is not None
    if not sandboxed and require_sandbox:
        raise SandboxRefused(
            "demo parameters cannot be read: production needs the bubblewrap sandbox "
            "(/usr/bin/bwrap), and it is not installed"
        )
    directories = sorted({path.resolve().parent for path in paths})
    spec = sandbox.SandboxSpec(
        binds=[PROJECT_ROOT / "app", *directories],
        tmp_size_mb=16,
        env={"PYTHONPATH": str(PROJECT_ROOT)},
    )
    command = [sys.executable, "-m", "app.workers.describe", *(str(p.resolve()) for p in paths)]
    try:
        done = sandbox.run_once(command, spec, sandboxed=sandboxed, timeout_s=DESCRIBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise SchemaUnavailable(
            f"reading the demo's parameters took longer than {DESCRIBE_TIMEOUT_S:g} s"
        ) from None
    except sandbox.SandboxUnavailable as exc:
        raise SandboxRefused(str(exc)) from None
    try:
        report = json.loads(done.stdout)
    except ValueError:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise SchemaUnavailable(
            f"the demo's top level ended its process (status {done.returncode}): {tail[0]}"
        ) from None
    return {str(Path(k)): v for k, v in report.items()}


def describe(paths: Sequence[Path], *, require_sandbox: bool = False) -> dict[Path, Described]:
    """The schema (or the error) of each demo file, by path. Files whose hash is cached
    are not run; the rest are described in one sandboxed process (one per file when a
    file ends that process)."""
    found: dict[Path, Described] = {}
    missing: dict[Path, str] = {}
    for path in paths:
        try:
            digest = code_hash(Path(path).read_bytes())
        except OSError as exc:
            found[path] = Described("", None, f"cannot read: {exc.strerror or exc}")
            continue
        with _lock:
            hit = _memory.get(digest)
        hit = hit or _disk_get(digest)
        if hit is not None:
            with _lock:
                _memory[digest] = hit
            found[path] = hit
        else:
            missing[path] = digest
    if not missing:
        return found
    try:
        report = _run_describer(list(missing), require_sandbox)
    except SandboxRefused:
        raise
    except SchemaUnavailable as exc:
        report = {}
        if len(missing) == 1:
            only = next(iter(missing))
            report[str(only.resolve())] = {"code_hash": "", "error": str(exc)}
            missing_loop: list[Path] = []
        else:
            missing_loop = list(missing)
        for path in missing_loop:
            # find the file that ends the process; the rest still work
            try:
                report.update(_run_describer([path], require_sandbox))
            except SchemaUnavailable as exc:
                report[str(path.resolve())] = {"code_hash": "", "error": str(exc)}
    for path, digest in missing.items():
        entry = report.get(str(path.resolve()), {})
        described = Described(
            entry.get("code_hash") or digest, entry.get("schema"), entry.get("error")
        )
        if described.schema is None and described.error is None:
            described = Described(digest, None, "the describer reported nothing")
        found[path] = described
        if described.code_hash == digest and entry.get("code_hash"):
            with _lock:
                _memory[digest] = described
            _disk_put(described)
    return found


def describe_one(path: Path, *, require_sandbox: bool = False) -> Described:
    return describe([path], require_sandbox=require_sandbox)[path]


# --- a pydantic model from the schema ---------------------------------------------------

_TYPES: dict[str, type] = {"integer": int, "number": float, "boolean": bool, "string": str}
_BOUNDS = {
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
}


def _field(prop: dict[str, Any]) -> tuple[Any, Any]:
    if "enum" in prop:
        annotation: Any = Literal[tuple(prop["enum"])]
    elif "const" in prop:
        annotation = Literal[prop["const"]]
    else:
        annotation = _TYPES.get(str(prop.get("type")), Any)
    bounds = {key: prop[name] for name, key in _BOUNDS.items() if name in prop}
    if annotation is Any:
        bounds = {}  # unknown shapes: the worker's real model checks them
    default = prop.get("default", ...)
    return annotation, Field(default, description=prop.get("description"), **bounds)


def model_from_schema(name: str, schema: dict[str, Any]) -> type[BaseModel]:
    """A pydantic model that accepts what the demo's ``Params`` accepts, for the types
    demos use (numbers with bounds, booleans, strings, Literal choices)."""
    fields = {key: _field(prop) for key, prop in schema.get("properties", {}).items()}
    return create_model(f"Params_{name}", **fields)
