"""The front matter, as strict pydantic models: unknown keys and wrong types are errors."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MAX_ID_LENGTH = 64
DEFAULT_LANG = "en"
LANG_PATTERN = r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$"

CardId = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=MAX_ID_LENGTH)]
ClaimId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Tag = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9+.#-]*$", max_length=64)]
Deck = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*(?:/[a-z0-9][a-z0-9_-]*)*$", max_length=200),
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Lang = Annotated[str, StringConstraints(pattern=LANG_PATTERN)]

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)


class DemoRef(BaseModel):
    model_config = _STRICT

    path: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    params: dict[str, Any] = Field(default_factory=dict)
    proves: list[ClaimId] = Field(default_factory=list)


class ExerciseRef(BaseModel):
    """A write-the-code exercise for this card: ``exercises/<name>.py`` under content/."""

    model_config = _STRICT

    path: Annotated[str, StringConstraints(pattern=r"^exercises/[a-z][a-z0-9_]{0,63}\.py$")]


class CardMeta(BaseModel):
    """The default-language file's front matter: the card's shared metadata."""

    model_config = _STRICT

    id: CardId
    title: Title
    deck: Deck
    difficulty: Literal["easy", "medium", "hard"]
    demo: DemoRef | None
    tags: list[Tag] = Field(default_factory=list)
    lang: Lang = DEFAULT_LANG
    aliases: list[CardId] = Field(default_factory=list)
    answer_time_s: Annotated[int, Field(gt=0, le=3600)] | None = None
    source: list[Annotated[str, StringConstraints(min_length=1)]] = Field(default_factory=list)
    exercise: ExerciseRef | None = None

    @field_validator("demo", mode="before")
    @classmethod
    def _demo_none(cls, value: Any) -> Any:
        # `demo: none` says on purpose that no demo backs this card.
        if value == "none":
            return None
        if value is None:
            raise ValueError("write `demo: none`, or give the demo's path and proves")
        return value

    @field_validator("source", mode="before")
    @classmethod
    def _one_source(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("tags", "aliases")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        repeated = sorted({v for v in value if value.count(v) > 1})
        if repeated:
            raise ValueError(f"repeated: {', '.join(repeated)}")
        return value


class TranslationMeta(BaseModel):
    """A translation's front matter: only what differs per language."""

    model_config = _STRICT

    id: CardId
    lang: Lang
    title: Title
