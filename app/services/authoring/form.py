"""What the card editor shows and what it raises: the form's card, its version token,
its Markdown (for the diff) and the problems placed on its fields."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from app.content.parse import ParsedFile, parse_bytes
from app.content.tree import card_files
from app.models.authoring import CardChange
from app.models.card import Card, CardAlias, CardRevision
from app.services.authoring.serialize import (
    DEFAULT_LANG,
    CardFields,
    TranslationFields,
    card_from_meta,
    card_to_markdown,
    translation_from_meta,
    translation_to_markdown,
    unique_id,
)
from app.services.errors import ServiceError


@dataclass(frozen=True)
class FieldProblem:
    """A problem, placed where the admin typed it: ``field`` is a front-matter key
    ("title", "demo.proves") or a section ("Answer"), prefixed "zh:" for a translation;
    ``line`` is the line inside that section (1-based) or None for a field."""

    field: str
    line: int | None
    message: str
    where: str  # "cards/x/y.md:12", as `backprop check` would print it

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class Invalid(ServiceError):
    """The card would not check; ``problems`` are placed on the form's fields."""

    code, status = "invalid_card", 422

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Conflict(ServiceError):
    """The card changed since the admin opened it. Nothing was written."""

    code, status = "edit_conflict", 409

    def __init__(self, card_id: str, current_version: str) -> None:
        self.card_id = card_id
        self.current_version = current_version
        super().__init__(
            f'card "{card_id}" was changed by someone else since you opened it; your text '
            "is kept below: compare it with the current version and save again"
        )


class NotFound(ServiceError):
    """No such card (or history entry); the message names it."""

    code, status = "not_found", 404


# --- what the editor shows ---------------------------------------------------------


@dataclass
class EditorCard:
    fields: CardFields
    translations: dict[str, TranslationFields]
    version: str  # the optimistic-concurrency token the form sends back
    status: str  # "new", "draft", "active", "retired"


def version_of(markdown: Mapping[str, str]) -> str:
    """The same digest as the loader's content hash, over each language's file bytes."""
    digest = hashlib.sha256()
    for lang in sorted(markdown):
        raw = markdown[lang].encode("utf-8")
        digest.update(f"{lang}\0{len(raw)}\0".encode())
        digest.update(raw)
    return digest.hexdigest()


def card_paths(card: Card) -> tuple[str, str]:
    """(folder relative to content/, id) of a card's files."""
    folder, _, name = card.file_path.rpartition("/")
    return folder, name.partition(".")[0]


def files_on_disk(content_dir: Path, card: Card) -> dict[str, str]:
    """Each language's Markdown of a published card, from the files (the truth)."""
    folder, card_id = card_paths(card)
    found: dict[str, str] = {}
    base = content_dir / folder
    if not base.is_dir():
        return found
    for path in sorted(base.glob(f"{card_id}.*md")):
        stem, _, rest = path.name[:-3].partition(".")
        if stem != card_id:
            continue
        found[rest or DEFAULT_LANG] = path.read_text(encoding="utf-8")
    default = found.pop(DEFAULT_LANG, None)
    if default is not None:
        # A default file in another language keeps its own code as the key.
        lang = card_from_markdown(default).lang
        found = {lang: default, **found}
    return found


def current_markdown(session: Session, content_dir: Path, card: Card) -> dict[str, str]:
    if card.status == "draft":
        change = last_change(session, card.id)
        return dict(change.markdown) if change else {}
    return files_on_disk(content_dir, card)


def parsed_markdown(text: str, name: str = "card.md") -> ParsedFile:
    parsed = ParsedFile(Path(name), raw=text.encode("utf-8"))
    parse_bytes(parsed)
    return parsed


def card_from_markdown(text: str) -> CardFields:
    parsed = parsed_markdown(text)
    return card_from_meta(parsed.meta, {n: s.text for n, s in parsed.sections.items()})


def translation_from_markdown(text: str) -> TranslationFields:
    parsed = parsed_markdown(text)
    return translation_from_meta(parsed.meta, {n: s.text for n, s in parsed.sections.items()})


def load_for_editor(session: Session, content_dir: Path, card_id: str) -> EditorCard:
    card = session.get(Card, card_id)
    if card is None:
        raise NotFound(card_id)
    markdown = current_markdown(session, content_dir, card)
    if not markdown:
        # Retired: the files are gone; show the last content the deck had.
        change = last_change(session, card.id, with_markdown=True)
        markdown = dict(change.markdown) if change else last_revision_markdown(session, card.id)
    return editor_card(
        markdown, card.status, version_of(current_markdown(session, content_dir, card))
    )


def editor_card(markdown: Mapping[str, str], status: str, version: str) -> EditorCard:
    langs = list(markdown)
    default = next((lang for lang in langs if _is_default(markdown[lang])), langs[0])
    fields = card_from_markdown(markdown[default])
    translations = {
        lang: translation_from_markdown(text) for lang, text in markdown.items() if lang != default
    }
    return EditorCard(fields, translations, version, status)


def _is_default(text: str) -> bool:
    meta = parsed_markdown(text).meta
    return "deck" in meta or "difficulty" in meta


def last_revision_markdown(session: Session, card_id: str) -> dict[str, str]:
    revision = session.exec(
        select(CardRevision)
        .where(CardRevision.card_id == card_id)
        .order_by(col(CardRevision.number).desc())
    ).first()
    return dict(revision.markdown) if revision else {}


def new_card(title: str = "", deck: str = "", difficulty: str = "medium") -> EditorCard:
    fields = CardFields(id="", title=title, deck=deck, difficulty=difficulty)
    return EditorCard(fields, {}, version="", status="new")


def generate_id(session: Session, content_dir: Path, title: str) -> str:
    """A fresh id from the title, unique among cards, drafts, former ids and files."""
    taken = set(session.exec(select(Card.id)).all()) | set(
        session.exec(select(CardAlias.alias)).all()
    )
    taken |= {p.name.partition(".")[0] for p in card_files(content_dir)}
    return unique_id(title, taken)


# --- markdown for a card -------------------------------------------------------------


def render_markdown(
    fields: CardFields, translations: Mapping[str, TranslationFields]
) -> dict[str, str]:
    """Each language's file text, the default language first."""
    out = {fields.lang: card_to_markdown(fields)}
    for lang, translation in translations.items():
        if lang == fields.lang or not has_content(translation):
            continue
        translation.id = fields.id
        translation.lang = lang
        out[lang] = translation_to_markdown(translation)
    return out


def has_content(translation: TranslationFields) -> bool:
    return bool(translation.title.strip() or any(v.strip() for v in translation.sections.values()))


def file_names(
    fields: CardFields, langs: Iterable[str], folder: str | None = None
) -> dict[str, str]:
    """Each language's file, relative to content/: in ``folder`` (a published card's
    current folder) or, by default, in the deck's folder."""
    folder = folder or f"cards/{fields.deck}"
    return {
        lang: f"{folder}/{fields.id}.md"
        if lang == fields.lang
        else f"{folder}/{fields.id}.{lang}.md"
        for lang in langs
    }


def diff_markdown(
    before: Mapping[str, str], after: Mapping[str, str], names: Mapping[str, str]
) -> str:
    chunks: list[str] = []
    for lang in sorted(set(before) | set(after), key=lambda code: (code != DEFAULT_LANG, code)):
        name = names.get(lang, f"{lang}.md")
        chunks.extend(
            difflib.unified_diff(
                before.get(lang, "").splitlines(keepends=True),
                after.get(lang, "").splitlines(keepends=True),
                fromfile=f"a/{name}" if lang in before else "/dev/null",
                tofile=f"b/{name}" if lang in after else "/dev/null",
            )
        )
    return "".join(chunks)


def last_change(
    session: Session, card_id: str, *, with_markdown: bool = False
) -> CardChange | None:
    query = select(CardChange).where(CardChange.card_id == card_id)
    if with_markdown:
        query = query.where(CardChange.action != "retire")
    return session.exec(query.order_by(col(CardChange.number).desc())).first()
