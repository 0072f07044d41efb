"""A demo's words in each language, read statically: the web process never imports or
executes a demo module to show its title, claims or chart labels.

Reads the literal module-level constants of ``app/demos/contract.py`` (``TITLE``,
``DESCRIPTION``, ``CLAIMS`` and their ``_ZH`` twins, ``CLAIM_SHOWN_WHEN(_ZH)``,
``TEXT_ZH``) with :mod:`ast`. A constant that is not a literal is a contract breach,
reported with the file and line.
"""

from __future__ import annotations

import ast
import contextlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

STRING_CONSTANTS = ("TITLE", "DESCRIPTION", "TITLE_ZH", "DESCRIPTION_ZH")
MAPPING_CONSTANTS = (
    "CLAIMS",
    "CLAIMS_ZH",
    "CLAIM_SHOWN_WHEN",
    "CLAIM_SHOWN_WHEN_ZH",
    "TEXT_ZH",
)


class DemoTextError(ValueError):
    """A text constant that is not a literal of the right type; names file and line."""


@dataclass(frozen=True)
class LocalTexts:
    """A demo's words in one language, falling back to English per string."""

    lang: str
    title: str
    description: str
    claims: dict[str, str]
    shown_when: dict[str, str]
    # English string -> its translation (chart titles, labels, series, metrics, params).
    text: dict[str, str] = field(default_factory=dict)

    def translate(self, english: str) -> str:
        return self.text.get(english, english)

    def as_json(self) -> dict[str, Any]:
        """What the panel's script needs (data-texts attribute)."""
        return {
            "lang": self.lang,
            "claims": self.claims,
            "shown_when": self.shown_when,
            "text": self.text,
        }


@dataclass(frozen=True)
class DemoTexts:
    """Every text constant one demo module declares."""

    title: str
    description: str
    title_zh: str = ""
    description_zh: str = ""
    claims: dict[str, str] = field(default_factory=dict)
    claims_zh: dict[str, str] = field(default_factory=dict)
    shown_when: dict[str, str] = field(default_factory=dict)
    shown_when_zh: dict[str, str] = field(default_factory=dict)
    text_zh: dict[str, str] = field(default_factory=dict)

    def missing_zh(self) -> list[str]:
        """The Chinese texts this demo lacks (for a content check)."""
        missing = [name for name in ("title_zh", "description_zh") if not getattr(self, name)]
        missing += [f"CLAIMS_ZH[{c!r}]" for c in self.claims if c not in self.claims_zh]
        missing += [f"CLAIM_SHOWN_WHEN[{c!r}]" for c in self.claims if c not in self.shown_when]
        missing += [
            f"CLAIM_SHOWN_WHEN_ZH[{c!r}]" for c in self.shown_when if c not in self.shown_when_zh
        ]
        return missing

    def local(self, lang: str) -> LocalTexts:
        if lang == "zh":
            return LocalTexts(
                lang="zh",
                title=self.title_zh or self.title,
                description=self.description_zh or self.description,
                claims={c: self.claims_zh.get(c, text) for c, text in self.claims.items()},
                shown_when={c: self.shown_when_zh.get(c, t) for c, t in self.shown_when.items()},
                text=dict(self.text_zh),
            )
        return LocalTexts(
            lang="en",
            title=self.title,
            description=self.description,
            claims=dict(self.claims),
            shown_when=dict(self.shown_when),
        )


def _literal(path: Path, node: ast.Assign | ast.AnnAssign, name: str) -> Any:
    try:
        return ast.literal_eval(node.value) if node.value is not None else None
    except ValueError as exc:
        raise DemoTextError(f"{path}:{node.lineno}: {name} must be a literal ({exc})") from exc


def _check_mapping(path: Path, line: int, name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise DemoTextError(f"{path}:{line}: {name} must be a dict of str to str")
    return value


def parse_texts(source: str, path: Path) -> DemoTexts:
    """The text constants of one demo module's source."""
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise DemoTextError(f"{path}:{exc.lineno}: not valid Python: {exc.msg}") from exc
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        elif isinstance(node, ast.AnnAssign):
            target = node.target
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        name = target.id
        if name in STRING_CONSTANTS:
            value = _literal(path, node, name)
            if not isinstance(value, str):
                raise DemoTextError(f"{path}:{node.lineno}: {name} must be a string")
            found[name.lower()] = value
        elif name in MAPPING_CONSTANTS:
            value = _check_mapping(path, node.lineno, name, _literal(path, node, name))
            key = {
                "CLAIMS": "claims",
                "CLAIMS_ZH": "claims_zh",
                "CLAIM_SHOWN_WHEN": "shown_when",
                "CLAIM_SHOWN_WHEN_ZH": "shown_when_zh",
                "TEXT_ZH": "text_zh",
            }[name]
            found[key] = value
    return DemoTexts(
        title=found.pop("title", path.stem), description=found.pop("description", ""), **found
    )


@lru_cache(maxsize=256)
def _cached(path: str, mtime_ns: int) -> DemoTexts:
    file = Path(path)
    return parse_texts(file.read_text(encoding="utf-8"), file)


def read_texts(path: Path) -> DemoTexts:
    """The text constants of the demo module at `path`; re-read when the file changes."""
    return _cached(str(path), path.stat().st_mtime_ns)


def demo_texts(content_dir: Path, name: str, lang: str) -> LocalTexts | None:
    """The words of demo `name` (a file stem under content/demos) in `lang`; None when
    there is no such demo file."""
    if not name.replace("_", "").isalnum():
        return None
    path = content_dir / "demos" / f"{name}.py"
    if not path.is_file():
        return None
    return read_texts(path).local(lang)


@dataclass(frozen=True)
class ParamInfo:
    """One field of a demo's ``Params``, read statically: what an author may set."""

    name: str
    default: Any
    low: Any = None
    high: Any = None
    choices: tuple[Any, ...] = ()
    description: str = ""


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


def parse_params(source: str) -> list[ParamInfo]:
    """The fields of the module's ``class Params`` (name, default, bounds, choices,
    description), without importing it."""
    tree = ast.parse(source)
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


def demo_params(content_dir: Path, path: str) -> list[ParamInfo]:
    """The parameters of the demo at `path` (relative to content/, as a card names it)."""
    file = content_dir / path
    if (
        not file.is_file()
        or file.suffix != ".py"
        or not file.resolve().is_relative_to(content_dir.resolve())
    ):
        return []
    try:
        return parse_params(file.read_text(encoding="utf-8"))
    except SyntaxError:
        return []
