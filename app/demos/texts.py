"""A demo's words in each language, and the parameters an author may set: views of the
one static reader, ``app.demos.metadata`` (the web process never imports or executes a
demo module to show its title, claims or chart labels).

A constant that is not a literal is a contract breach, reported with the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.demos.metadata import DemoMeta, ParamInfo, parse_metadata, read_metadata
from app.demos.registry import DemoError

# A text constant that is not a literal of the right type: the metadata reader's error,
# which names the file and line.
DemoTextError = DemoError


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


def _texts(meta: DemoMeta) -> DemoTexts:
    return DemoTexts(
        title=meta.title, description=meta.description, title_zh=meta.title_zh,
        description_zh=meta.description_zh, claims=dict(meta.claims),
        claims_zh=dict(meta.claims_zh), shown_when=dict(meta.claim_shown_when),
        shown_when_zh=dict(meta.claim_shown_when_zh), text_zh=dict(meta.text_zh),
    )  # fmt: skip


def parse_texts(source: str, path: Path) -> DemoTexts:
    """The text constants of one demo module's source. Raises DemoTextError."""
    return _texts(parse_metadata(path, source.encode("utf-8")))


def read_texts(path: Path) -> DemoTexts:
    """The text constants of the demo module at `path`, from the metadata reader's cache
    (re-read when the file's bytes change). Raises DemoTextError."""
    return _texts(read_metadata(path))


def demo_texts(content_dir: Path, name: str, lang: str) -> LocalTexts | None:
    """The words of demo `name` (a file stem under content/demos) in `lang`; None when
    there is no such demo file."""
    if not name.replace("_", "").isalnum():
        return None
    path = content_dir / "demos" / f"{name}.py"
    if not path.is_file():
        return None
    return read_texts(path).local(lang)


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
        return list(read_metadata(file).params)
    except (DemoError, OSError):
        return []
