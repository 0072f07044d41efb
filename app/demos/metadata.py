"""The one reader of demo metadata in the web process: every contract constant, read
with ``ast`` (the file is never imported or run here), cached by the file's hash.

``read_metadata(path)`` gives the literal constants (``TITLE``, ``DESCRIPTION``,
``CLAIMS``, their ``_ZH`` versions, ``CLAIM_SHOWN_WHEN(_ZH)``, ``TEXT_ZH``,
``BENEFITS_FROM_GPU``) and the fields an author may set in ``class Params`` (name,
default, bounds, choices, description: ``ParamInfo``). The ``Params`` JSON schema needs
the code to run: it comes from a sandboxed process (``app.demos.params``). A demo file
whose top level does anything is no business of the web process: its constants are
read, its code is not executed.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.demos.registry import DemoError


@dataclass(frozen=True)
class ParamInfo:
    """One field of a demo's ``Params``, read statically: what an author may set."""

    name: str
    default: Any
    low: Any = None
    high: Any = None
    choices: tuple[Any, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class DemoMeta:
    name: str
    path: Path
    code_hash: str
    title: str
    description: str
    claims: dict[str, str]
    title_zh: str = ""
    description_zh: str = ""
    claims_zh: dict[str, str] = field(default_factory=dict)
    claim_shown_when: dict[str, str] = field(default_factory=dict)
    claim_shown_when_zh: dict[str, str] = field(default_factory=dict)
    text_zh: dict[str, str] = field(default_factory=dict)
    benefits_from_gpu: bool = False
    has_params: bool = True
    has_run: bool = True
    params: tuple[ParamInfo, ...] = ()


_STRINGS = ("TITLE", "DESCRIPTION", "TITLE_ZH", "DESCRIPTION_ZH")
_DICTS = ("CLAIMS", "CLAIMS_ZH", "CLAIM_SHOWN_WHEN", "CLAIM_SHOWN_WHEN_ZH", "TEXT_ZH")
_CACHE: dict[tuple[str, str], DemoMeta] = {}
_LOCK = threading.Lock()


def code_hash(source: bytes) -> str:
    return hashlib.sha256(source).hexdigest()


def _constants(tree: ast.Module, path: Path) -> dict[str, tuple[Any, int]]:
    """Module-level ``NAME = <literal>`` (or annotated) assignments of contract names,
    each with its line."""
    found: dict[str, tuple[Any, int]] = {}
    wanted = {*_STRINGS, *_DICTS, "BENEFITS_FROM_GPU"}
    for node in tree.body:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        if not (isinstance(target, ast.Name) and target.id in wanted and value is not None):
            continue
        try:
            found[target.id] = (ast.literal_eval(value), node.lineno)
        except ValueError:
            kind = "dict" if target.id in _DICTS else "value"
            raise DemoError(f"{path}:{node.lineno}: {target.id} is not a literal {kind}") from None
    return found


def _check(name: str, value: Any, where: str) -> None:
    if name in _STRINGS and not isinstance(value, str):
        raise DemoError(f"{where}: {name} must be a string")
    if name in _DICTS and not (
        isinstance(value, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    ):
        raise DemoError(f"{where}: {name} must be a literal dict of strings")
    if name == "BENEFITS_FROM_GPU" and not isinstance(value, bool):
        raise DemoError(f"{where}: BENEFITS_FROM_GPU must be True or False")


def parse_metadata(path: Path, source: bytes) -> DemoMeta:
    """Metadata from a demo file's source; raises DemoError naming the file (and line)."""
    try:
        tree = ast.parse(source, filename=str(path))
    except (SyntaxError, ValueError) as exc:
        raise DemoError(f"{path}: not valid Python: {exc}") from None
    lined = _constants(tree, path)
    for name, (value, line) in lined.items():
        _check(name, value, f"{path}:{line}")
    constants = {name: value for name, (value, _line) in lined.items()}
    if "CLAIMS" not in constants:
        raise DemoError(f"{path}: defines no CLAIMS dict")
    defined = {
        node.name
        for node in tree.body
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
    }
    return DemoMeta(
        name=path.stem,
        path=path,
        code_hash=code_hash(source),
        title=constants.get("TITLE", path.stem),
        description=constants.get("DESCRIPTION", ""),
        claims=dict(constants["CLAIMS"]),
        title_zh=constants.get("TITLE_ZH", ""),
        description_zh=constants.get("DESCRIPTION_ZH", ""),
        claims_zh=dict(constants.get("CLAIMS_ZH", {})),
        claim_shown_when=dict(constants.get("CLAIM_SHOWN_WHEN", {})),
        claim_shown_when_zh=dict(constants.get("CLAIM_SHOWN_WHEN_ZH", {})),
        text_zh=dict(constants.get("TEXT_ZH", {})),
        benefits_from_gpu=bool(constants.get("BENEFITS_FROM_GPU", False)),
        has_params="Params" in defined,
        has_run="run" in defined,
        params=tuple(params_of(tree)),
    )


def read_metadata(path: Path) -> DemoMeta:
    """The demo's metadata, from the cache when the file's bytes are unchanged. Raises
    DemoError (unreadable, not Python, a constant that is not a literal) or
    FileNotFoundError."""
    path = Path(path)
    try:
        source = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise DemoError(f"{path}: cannot read: {exc.strerror or exc}") from None
    key = (str(path), code_hash(source))
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    meta = parse_metadata(path, source)
    with _LOCK:
        if len(_CACHE) > 4096:
            _CACHE.clear()
        _CACHE[key] = meta
    return meta


def _field_call(node: ast.expr | None) -> tuple[Any, dict[str, Any]]:
    """(default, keyword literals) of ``Field(default, ge=..., description=...)``, or
    the plain literal default."""
    if isinstance(node, ast.Call):
        default = None
        if node.args:
            with contextlib.suppress(ValueError):
                default = ast.literal_eval(node.args[0])
        keywords: dict[str, Any] = {}
        for kw in node.keywords:
            if kw.arg is None:
                continue
            with contextlib.suppress(ValueError):
                keywords[kw.arg] = ast.literal_eval(kw.value)
        return keywords.pop("default", default), keywords
    if node is None:
        return None, {}
    try:
        return ast.literal_eval(node), {}
    except ValueError:
        return None, {}


def _choices(annotation: ast.expr) -> tuple[Any, ...]:
    if (
        isinstance(annotation, ast.Subscript)
        and isinstance(annotation.value, ast.Name)
        and annotation.value.id == "Literal"
    ):
        inner = annotation.slice
        items = inner.elts if isinstance(inner, ast.Tuple) else [inner]
        with contextlib.suppress(ValueError):
            return tuple(ast.literal_eval(item) for item in items)
    return ()


def params_of(tree: ast.Module) -> list[ParamInfo]:
    """The fields of the module's ``class Params`` (name, default, bounds, choices,
    description), from its syntax tree."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Params":
            out = []
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    default, keywords = _field_call(item.value)
                    out.append(
                        ParamInfo(
                            name=item.target.id, default=default,
                            low=keywords.get("ge", keywords.get("gt")),
                            high=keywords.get("le", keywords.get("lt")),
                            choices=_choices(item.annotation),
                            description=str(keywords.get("description", "")),
                        )
                    )  # fmt: skip
            return out
    return []


def parse_params(source: str) -> list[ParamInfo]:
    """The fields of ``class Params`` in a demo's source, without importing it."""
    return params_of(ast.parse(source))
