"""The card editor's rules: load, preview, save (with optimistic concurrency), history,
revert, retire and restore, drafts, bulk upload and Anki import.

Every change to a published card goes the same way as ``backprop import``: the files
the change produces are laid over a throwaway copy of the content tree, that copy is
checked by the content loader (so the admin sees exactly what ``backprop check``
would say) and imported into the session's transaction; the new files are written
beside their targets as temporaries, the transaction commits, and only then are the
temporaries renamed over the targets. The Markdown written is the canonical layout of
``serialize.py``, so importing the real tree afterwards changes nothing.

Drafts (status "draft") never reach the files: their Markdown lives in the history
(``card_change``) until they are published, and learners never see them.

These functions commit the session they are given.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from app.content.parse import ParsedFile, parse_bytes
from app.content.problems import ContentError, Problem
from app.content.render import RenderedCard, render_card
from app.content.tree import card_files, load_deck
from app.demos.metadata import read_metadata
from app.demos.registry import DemoError
from app.models.authoring import CardChange
from app.models.base import utcnow
from app.models.card import Card, CardAlias, CardTag, CardTranslation
from app.models.user import UserPublic
from app.services.authoring import anki, bulk
from app.services.authoring.atomic import staged_writes
from app.services.authoring.paths import inside, path_field_problems
from app.services.authoring.serialize import (
    DEFAULT_LANG,
    SECTION_NAMES,
    CardFields,
    TranslationFields,
    card_from_meta,
    card_to_markdown,
    translation_from_meta,
    translation_to_markdown,
    unique_id,
)
from app.services.importer import ImportReport, import_tree

# One save at a time per process: the files and the transaction move together.
# Across processes the database's write lock (BEGIN IMMEDIATE on SQLite, the card
# row lock on PostgreSQL) orders them.
_SAVE_LOCK = threading.RLock()


# --- errors --------------------------------------------------------------------------


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


class Invalid(Exception):
    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Conflict(Exception):
    """The card changed since the admin opened it. Nothing was written."""

    def __init__(self, card_id: str, current_version: str) -> None:
        self.card_id = card_id
        self.current_version = current_version
        super().__init__(
            f'card "{card_id}" was changed by someone else since you opened it; your text '
            "is kept below: compare it with the current version and save again"
        )


class NotFound(Exception):
    pass


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


def _card_paths(card: Card) -> tuple[str, str]:
    """(folder relative to content/, id) of a card's files."""
    folder, _, name = card.file_path.rpartition("/")
    return folder, name.partition(".")[0]


def files_on_disk(content_dir: Path, card: Card) -> dict[str, str]:
    """Each language's Markdown of a published card, from the files (the truth)."""
    folder, card_id = _card_paths(card)
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
        change = _last_change(session, card.id)
        return dict(change.markdown) if change else {}
    return files_on_disk(content_dir, card)


def _parsed(text: str, name: str = "card.md") -> ParsedFile:
    parsed = ParsedFile(Path(name), raw=text.encode("utf-8"))
    parse_bytes(parsed)
    return parsed


def card_from_markdown(text: str) -> CardFields:
    parsed = _parsed(text)
    return card_from_meta(parsed.meta, {n: s.text for n, s in parsed.sections.items()})


def translation_from_markdown(text: str) -> TranslationFields:
    parsed = _parsed(text)
    return translation_from_meta(parsed.meta, {n: s.text for n, s in parsed.sections.items()})


def load_for_editor(session: Session, content_dir: Path, card_id: str) -> EditorCard:
    card = session.get(Card, card_id)
    if card is None:
        raise NotFound(card_id)
    markdown = current_markdown(session, content_dir, card)
    if not markdown:
        # Retired: the files are gone; show the last content the deck had.
        change = _last_change(session, card.id, with_markdown=True)
        markdown = dict(change.markdown) if change else _last_revision_markdown(session, card.id)
    return _editor_card(
        markdown, card.status, version_of(current_markdown(session, content_dir, card))
    )


def _editor_card(markdown: Mapping[str, str], status: str, version: str) -> EditorCard:
    langs = list(markdown)
    default = next((lang for lang in langs if _is_default(markdown[lang])), langs[0])
    fields = card_from_markdown(markdown[default])
    translations = {
        lang: translation_from_markdown(text) for lang, text in markdown.items() if lang != default
    }
    return EditorCard(fields, translations, version, status)


def _is_default(text: str) -> bool:
    meta = _parsed(text).meta
    return "deck" in meta or "difficulty" in meta


def _last_revision_markdown(session: Session, card_id: str) -> dict[str, str]:
    from app.models.card import CardRevision

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
        if lang == fields.lang or not _has_content(translation):
            continue
        translation.id = fields.id
        translation.lang = lang
        out[lang] = translation_to_markdown(translation)
    return out


def _has_content(translation: TranslationFields) -> bool:
    return bool(translation.title.strip() or any(v.strip() for v in translation.sections.values()))


def _file_names(
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


# --- problems, mapped back to the form --------------------------------------------------


def _place(problem: Problem, text: str, lang: str, default_lang: str, where: str) -> FieldProblem:
    prefix = "" if lang == default_lang else f"{lang}:"
    lines = text.split("\n")
    closing = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), 0) + 1
    line = problem.line
    if line <= closing:
        # Front matter: the key on that line, or the parent key above a nested line.
        key = ""
        nested = ""
        for number in range(min(line, len(lines)), 0, -1):
            raw = lines[number - 1]
            if raw and not raw.startswith((" ", "-")) and ":" in raw:
                key = raw.split(":", 1)[0]
                break
            if raw.startswith("  ") and ":" in raw and not nested:
                nested = raw.strip().split(":", 1)[0]
        name = f"{key}.{nested}" if key and nested else key or "front matter"
        for part in ("path", "proves", "params"):
            if key == "demo" and f'"demo.{part}' in problem.message:
                name = f"demo.{part}"
        return FieldProblem(prefix + name, None, problem.message, where)
    section, heading = "Question", closing
    for number in range(closing + 1, min(line, len(lines)) + 1):
        raw = lines[number - 1]
        if raw.startswith("## ") and raw[3:].strip() in SECTION_NAMES:
            section, heading = raw[3:].strip(), number
    inner = line - heading if line > heading else None  # the text starts right under it
    return FieldProblem(prefix + section, inner, problem.message, where)


def _field_problems(
    problems: Iterable[Problem],
    staging: Path,
    texts: Mapping[str, str],
    names: Mapping[str, str],
    default_lang: str,
) -> list[FieldProblem]:
    by_path = {(staging / rel).resolve(): lang for lang, rel in names.items()}
    placed = []
    for problem in problems:
        message = problem.message.replace(str(staging) + "/", "content/")
        problem = Problem(problem.path, problem.line, message)
        try:
            resolved = Path(problem.path).resolve()
            rel = resolved.relative_to(staging.resolve()).as_posix()
        except ValueError:
            rel = str(problem.path)
        lang = by_path.get(resolved)
        where = f"content/{rel}:{problem.line}"
        if lang is None:
            placed.append(FieldProblem("other files", None, problem.message, where))
        else:
            placed.append(_place(problem, texts[lang], lang, default_lang, where))
    return placed


def validate(
    content_dir: Path,
    fields: CardFields,
    translations: Mapping[str, TranslationFields],
    *,
    old_paths: Iterable[str] = (),
) -> list[FieldProblem]:
    """What ``backprop check`` would say about the tree with this card saved."""
    problems, _ = _check(content_dir, fields, translations, old_paths)
    return problems


def _unchanged(
    before: Mapping[str, str],
    fields: CardFields,
    translations: Mapping[str, TranslationFields],
) -> bool:
    """True when the form holds what the files already say: both written canonically
    come out the same, so a save without edits touches nothing (however the file was
    laid out by hand)."""
    if not before:
        return False
    try:
        current = _editor_card(before, "active", "")
    except (ContentError, ValueError):
        return False
    return render_markdown(current.fields, current.translations) == render_markdown(
        fields, translations
    )


def _keep_current_order(fields: CardFields, before: Mapping[str, str]) -> None:
    """The form sends the proved claims in the demo's order; where the set is the one
    the file lists, keep the file's order, so an untouched list does not move."""
    if not before or fields.demo is None:
        return
    try:
        current = _editor_card(before, "active", "").fields.demo
    except (ContentError, ValueError):
        return
    if (
        current is not None
        and current.path == fields.demo.path
        and set(current.proves) == set(fields.demo.proves)
    ):
        fields.demo.proves = list(current.proves)


def _path_problems(fields: CardFields) -> list[FieldProblem]:
    """The fields that become file names, checked by the card schema."""
    values = {"id": fields.id, "deck": fields.deck, "lang": fields.lang}
    return [
        FieldProblem(name, None, message, "form") for name, message in path_field_problems(values)
    ]


def _form_problems(fields: CardFields) -> list[FieldProblem]:
    problems = []
    if not fields.id:
        problems.append(FieldProblem("title", None, "give the card a title", "form"))
    else:
        problems += _path_problems(fields)
    for name in fields.sections:
        if name not in SECTION_NAMES:
            problems.append(FieldProblem(name, None, f'unknown section "## {name}"', "form"))
    return problems


def _check(
    content_dir: Path,
    fields: CardFields,
    translations: Mapping[str, TranslationFields],
    old_paths: Iterable[str],
    folder: str | None = None,
) -> tuple[list[FieldProblem], dict[str, str]]:
    early = _form_problems(fields)
    if early:
        return early, {}
    texts = render_markdown(fields, translations)
    names = _file_names(fields, texts, folder)
    uploads = [bulk.UploadedFile(names[lang], names[lang], texts[lang].encode()) for lang in texts]
    with bulk.staged_tree(
        content_dir, uploads, deletes=set(old_paths) - set(names.values())
    ) as staging:
        deck = load_deck(staging)
        problems = _field_problems(deck.problems, staging, texts, names, fields.lang)
    return problems, texts


def preview(
    fields: CardFields,
    translations: Mapping[str, TranslationFields],
    resolve: Callable[[str, str], tuple[str, str] | None] | None = None,
) -> dict[str, RenderedCard]:
    """Each language rendered by the deck's own pipeline (math, code, links, sanitising)."""
    out = {
        fields.lang: render_card(
            fields.lang,
            fields.title,
            _ordered(fields.sections),
            resolve=resolve,
            image_base=f"cards/{fields.deck}",
        )
    }
    for lang, translation in translations.items():
        if _has_content(translation):
            out[lang] = render_card(
                lang,
                translation.title,
                _ordered(translation.sections),
                resolve=resolve,
                image_base=f"cards/{fields.deck}",
            )
    return out


def _ordered(sections: Mapping[str, str]) -> dict[str, str]:
    return {name: sections[name] for name in SECTION_NAMES if sections.get(name, "").strip()}


def link_resolver(session: Session) -> Callable[[str, str], tuple[str, str] | None]:
    def resolve(card_id: str, lang: str) -> tuple[str, str] | None:
        current = card_id
        card = session.get(Card, card_id)
        if card is None:
            alias = session.get(CardAlias, card_id)
            if alias is None:
                return None
            current = alias.card_id
            card = session.get(Card, current)
        if card is None or card.status == "draft":
            return None
        text = session.get(CardTranslation, (current, lang))
        return current, text.title if text else card.title

    return resolve


# --- saving --------------------------------------------------------------------------


@dataclass
class SaveResult:
    card_id: str
    version: str
    change: CardChange | None
    report: ImportReport | None = None


def _lock_card(session: Session, card_id: str) -> Card | None:
    # The first statement of the transaction: on SQLite (writer engine) it takes the
    # write lock; on PostgreSQL the row lock orders concurrent saves of one card.
    return session.exec(select(Card).where(Card.id == card_id).with_for_update()).first()


def _last_change(
    session: Session, card_id: str, *, with_markdown: bool = False
) -> CardChange | None:
    query = select(CardChange).where(CardChange.card_id == card_id)
    if with_markdown:
        query = query.where(CardChange.action != "retire")
    return session.exec(query.order_by(col(CardChange.number).desc())).first()


def _record(
    session: Session,
    card_id: str,
    action: str,
    author: UserPublic | None,
    before: Mapping[str, str],
    after: Mapping[str, str],
    names: Mapping[str, str],
    note: str = "",
) -> CardChange:
    last = session.exec(
        select(func.max(CardChange.number)).where(CardChange.card_id == card_id)
    ).one()
    number = (last or 0) + 1
    if number == 1 and before and action not in ("create", "draft", "upload"):
        # The card came from the files: keep that state, so it can be reverted to.
        session.add(
            CardChange(
                card_id=card_id,
                number=1,
                action="baseline",
                markdown=dict(before),
                content_hash=version_of(before),
                note="as imported from the files",
            )
        )
        number = 2
    change = CardChange(
        card_id=card_id,
        number=number,
        action=action,
        author_id=author.id if author else None,
        author_name=author.username if author else "",
        markdown=dict(after),
        content_hash=version_of(after) if after else "",
        diff=diff_markdown(before, after, names),
        note=note[:300],
    )
    session.add(change)
    return change


def _apply_files(
    session: Session,
    content_dir: Path,
    writes: Mapping[str, str | None],
    after_import: Callable[[ImportReport], None],
) -> ImportReport:
    """Check the tree with ``writes`` applied (rel path -> text, None deletes), import it
    into the transaction, commit, then put the files in place."""
    uploads = [
        bulk.UploadedFile(rel, rel, text.encode())
        for rel, text in writes.items()
        if text is not None
    ]
    deletes = [rel for rel, text in writes.items() if text is None]
    with bulk.staged_tree(content_dir, uploads, deletes=deletes) as staging:
        try:
            report = import_tree(session, staging)
        except ContentError as exc:
            session.rollback()
            raise Invalid(
                [
                    FieldProblem(
                        "other files",
                        None,
                        p.message.replace(str(staging) + "/", "content/"),
                        f"content/{Path(p.path).relative_to(staging).as_posix()}:{p.line}",
                    )
                    for p in exc.problems
                ]
            ) from None
        after_import(report)
        targets = {inside(content_dir, rel): text for rel, text in writes.items()}
        with staged_writes(targets):
            session.commit()
    return report


def save_card(
    session: Session,
    content_dir: Path,
    fields: CardFields,
    translations: Mapping[str, TranslationFields],
    *,
    base_version: str,
    author: UserPublic | None,
    action: str | None = None,
    note: str = "",
) -> SaveResult:
    """Publish a card (new, draft or existing): validate, write, import, record.

    ``base_version`` is the version the form was loaded at ("" for a new card). Raises
    ``Conflict`` when the card changed since, ``Invalid`` with every problem placed on
    its field, and writes nothing in either case.
    """
    with _SAVE_LOCK:
        is_new = not base_version and not fields.id
        if is_new:
            fields.id = generate_id(session, content_dir, fields.title)
        card = _lock_card(session, fields.id)
        if card is None and base_version:
            session.rollback()
            raise NotFound(fields.id)
        if card is not None and not base_version and is_new is False and card.status != "draft":
            session.rollback()
            raise Conflict(fields.id, version_of(current_markdown(session, content_dir, card)))
        before = current_markdown(session, content_dir, card) if card else {}
        if card is not None and version_of(before) != base_version:
            session.rollback()
            raise Conflict(fields.id, version_of(before))
        old_paths: list[str] = []
        old_names: dict[str, str] = {}
        keep_folder: str | None = None
        if card is not None and card.status != "draft":
            folder, _ = _card_paths(card)
            old_names = {
                lang: (f"{folder}/{card.id}.md" if i == 0 else f"{folder}/{card.id}.{lang}.md")
                for i, lang in enumerate(before)
            }
            old_paths = list(old_names.values())
            _keep_current_order(fields, before)
            if _unchanged(before, fields, translations):
                session.rollback()
                return SaveResult(card.id, version_of(before), None)
            # A card stays in its folder unless its deck changes (files need not sit
            # in their deck's folder).
            if fields.deck == card.deck:
                keep_folder = folder
        problems, texts = _check(content_dir, fields, translations, old_paths, keep_folder)
        if problems:
            session.rollback()
            raise Invalid(problems)
        names = _file_names(fields, texts, keep_folder)
        writes: dict[str, str | None] = {rel: None for rel in old_paths}
        writes.update({names[lang]: text for lang, text in texts.items()})
        if action is None:
            action = {None: "create", "draft": "publish"}.get(card.status if card else None, "edit")
        recorded: list[CardChange] = []

        def record(_: ImportReport) -> None:
            recorded.append(_record(session, fields.id, action, author, before, texts, names, note))

        report = _apply_files(session, content_dir, writes, record)
        return SaveResult(fields.id, version_of(texts), recorded[0], report)


def save_draft(
    session: Session,
    content_dir: Path,
    fields: CardFields,
    translations: Mapping[str, TranslationFields],
    *,
    base_version: str,
    author: UserPublic | None,
    action: str = "draft",
    note: str = "",
) -> SaveResult:
    """Keep unfinished work as a draft: stored in the history only, never checked
    against the tree, never shown to learners. Refused for a published card."""
    with _SAVE_LOCK:
        if not fields.id:
            fields.id = generate_id(session, content_dir, fields.title or "untitled draft")
        # A draft may lack a deck, but what it has must be safe to publish as a path.
        bad = [p for p in _path_problems(fields) if fields.deck or p.field != "deck"]
        if bad:
            session.rollback()
            raise Invalid(bad)
        card = _lock_card(session, fields.id)
        if card is not None and card.status != "draft":
            session.rollback()
            raise Conflict(fields.id, version_of(current_markdown(session, content_dir, card)))
        before = current_markdown(session, content_dir, card) if card else {}
        if card is not None and version_of(before) != base_version:
            session.rollback()
            raise Conflict(fields.id, version_of(before))
        texts = render_markdown(fields, translations)
        names = _file_names(fields, texts)
        now = utcnow()
        values: dict[str, Any] = {
            "deck": fields.deck[:200] or "drafts",
            "title": fields.title[:300] or fields.id,
            "difficulty": fields.difficulty
            if fields.difficulty in ("easy", "medium", "hard")
            else "medium",
            "demo_path": fields.demo.path if fields.demo else None,
            "demo_params": dict(fields.demo.params) if fields.demo else {},
            "demo_proves": list(fields.demo.proves) if fields.demo else [],
            "answer_time_s": fields.answer_time_s,
            "sources": list(fields.source),
            "file_path": names[fields.lang],
            # Never a real file's hash: publishing must look like a change to the importer.
            "content_hash": "",
            "updated_at": now,
        }
        if card is None:
            card = Card(id=fields.id, status="draft", revision=0, created_at=now, **values)
            session.add(card)
        else:
            for key, value in values.items():
                setattr(card, key, value)
        session.flush()
        for row in session.exec(select(CardTag).where(CardTag.card_id == card.id)).all():
            session.delete(row)
        for tag in dict.fromkeys(fields.tags):
            session.add(CardTag(card_id=card.id, tag=tag[:64]))
        change = _record(session, card.id, action, author, before, texts, names, note)
        session.commit()
        return SaveResult(card.id, version_of(texts), change)


def discard_draft(session: Session, card_id: str) -> None:
    card = _lock_card(session, card_id)
    if card is None or card.status != "draft":
        session.rollback()
        raise NotFound(card_id)
    session.delete(card)  # its history goes with it: a draft was never in the deck
    session.commit()


# --- history ---------------------------------------------------------------------------


def history(session: Session, card_id: str) -> list[CardChange]:
    return list(
        session.exec(
            select(CardChange)
            .where(CardChange.card_id == card_id)
            .order_by(col(CardChange.number).desc())
        ).all()
    )


def revert(
    session: Session,
    content_dir: Path,
    card_id: str,
    change_id: int,
    *,
    base_version: str,
    author: UserPublic | None,
) -> SaveResult:
    """Bring back the content a card had after an earlier change, as a new change."""
    change = session.get(CardChange, change_id)
    card = session.get(Card, card_id)
    if change is None or card is None or change.card_id != card_id or not change.markdown:
        raise NotFound(f"{card_id} change {change_id}")
    target = _editor_card(change.markdown, card.status, base_version)
    save = save_draft if card.status == "draft" else save_card
    return save(
        session,
        content_dir,
        target.fields,
        target.translations,
        base_version=base_version,
        author=author,
        action="revert",
        note=f"reverted to change #{change.number}",
    )


def retire(
    session: Session,
    content_dir: Path,
    card_id: str,
    *,
    base_version: str,
    author: UserPublic | None,
) -> SaveResult:
    """Take a card out of every queue by removing its files; its review history stays."""
    with _SAVE_LOCK:
        card = _lock_card(session, card_id)
        if card is None or card.status != "active":
            session.rollback()
            raise NotFound(card_id)
        before = files_on_disk(content_dir, card)
        if version_of(before) != base_version:
            session.rollback()
            raise Conflict(card_id, version_of(before))
        folder, _ = _card_paths(card)
        names = {
            lang: (card.file_path if i == 0 else f"{folder}/{card.id}.{lang}.md")
            for i, lang in enumerate(before)
        }
        recorded: list[CardChange] = []

        def record(_: ImportReport) -> None:
            recorded.append(_record(session, card_id, "retire", author, before, {}, names))

        report = _apply_files(session, content_dir, {rel: None for rel in names.values()}, record)
        return SaveResult(card_id, version_of({}), recorded[0], report)


def restore(
    session: Session, content_dir: Path, card_id: str, *, author: UserPublic | None
) -> SaveResult:
    """Put a retired card's last content back; it returns to the queues with its schedule."""
    card = session.get(Card, card_id)
    if card is None or card.status != "retired":
        raise NotFound(card_id)
    change = _last_change(session, card_id, with_markdown=True)
    markdown = (
        dict(change.markdown)
        if change and change.markdown
        else _last_revision_markdown(session, card_id)
    )
    if not markdown:
        raise NotFound(f"{card_id}: no earlier content to restore")
    target = _editor_card(markdown, card.status, version_of({}))
    return save_card(
        session,
        content_dir,
        target.fields,
        target.translations,
        base_version=version_of(files_on_disk(content_dir, card)),
        author=author,
        action="restore",
    )


# --- the list ----------------------------------------------------------------------------


@dataclass
class CardFilter:
    q: str = ""
    deck: str = ""
    tag: str = ""
    difficulty: str = ""
    status: str = ""
    missing_translation: str = ""  # a language code, e.g. "zh"
    missing_demo: bool = False
    failing_claims: bool = False


@dataclass
class CardRow:
    id: str
    title: str
    deck: str
    difficulty: str
    status: str
    tags: list[str]
    languages: list[str]
    demo_path: str | None
    failing: bool


@dataclass
class CardList:
    rows: list[CardRow]
    total: int
    counts: dict[str, int] = field(default_factory=dict)  # by status, in the whole deck
    decks: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    failing_known: bool = False


def list_cards(
    session: Session,
    flt: CardFilter,
    *,
    failing_claims: Callable[[Session], set[str]] | None = None,
    limit: int = 500,
) -> CardList:
    query = select(Card)
    if flt.deck:
        query = query.where(
            or_(col(Card.deck) == flt.deck, col(Card.deck).startswith(flt.deck + "/"))
        )
    if flt.difficulty:
        query = query.where(Card.difficulty == flt.difficulty)
    if flt.status:
        query = query.where(Card.status == flt.status)
    if flt.tag:
        query = query.where(col(Card.id).in_(select(CardTag.card_id).where(CardTag.tag == flt.tag)))
    if flt.missing_demo:
        query = query.where(col(Card.demo_path).is_(None))
    if flt.missing_translation:
        query = query.where(
            col(Card.id).not_in(
                select(CardTranslation.card_id).where(
                    CardTranslation.lang == flt.missing_translation
                )
            )
        )
    if flt.q.strip():
        like = f"%{flt.q.strip().lower()}%"
        query = query.where(
            func.lower(Card.title).like(like)
            | func.lower(Card.id).like(like)
            | col(Card.id).in_(
                select(CardTranslation.card_id).where(
                    func.lower(CardTranslation.search_text).like(like)
                )
            )
        )
    failing = failing_claims(session) if failing_claims else set()
    if flt.failing_claims:
        query = query.where(col(Card.id).in_(sorted(failing)))
    cards = session.exec(query.order_by(Card.deck, Card.title)).all()
    ids = [c.id for c in cards[:limit]]
    tags: dict[str, list[str]] = {}
    langs: dict[str, list[str]] = {}
    if ids:
        for card_id, tag in session.exec(
            select(CardTag.card_id, CardTag.tag)
            .where(col(CardTag.card_id).in_(ids))
            .order_by(CardTag.tag)
        ):
            tags.setdefault(card_id, []).append(tag)
        for card_id, lang in session.exec(
            select(CardTranslation.card_id, CardTranslation.lang).where(
                col(CardTranslation.card_id).in_(ids)
            )
        ):
            langs.setdefault(card_id, []).append(lang)
    rows = [
        CardRow(
            c.id,
            c.title,
            c.deck,
            c.difficulty,
            c.status,
            tags.get(c.id, []),
            sorted(langs.get(c.id, []), key=lambda code: (code != DEFAULT_LANG, code)),
            c.demo_path,
            c.id in failing,
        )
        for c in cards[:limit]
    ]
    counts = dict(session.exec(select(Card.status, func.count()).group_by(Card.status)).all())
    decks = list(session.exec(select(Card.deck).distinct().order_by(Card.deck)).all())
    all_tags = list(session.exec(select(CardTag.tag).distinct().order_by(CardTag.tag)).all())
    return CardList(rows, len(cards), counts, decks, all_tags, failing_claims is not None)


# --- demos for the picker ------------------------------------------------------------------


@dataclass(frozen=True)
class DemoInfo:
    path: str  # relative to content/
    name: str
    title: str
    claims: dict[str, str]


def list_demos(content_dir: Path) -> list[DemoInfo]:
    """Every demo with its claims, from the one metadata reader (never imported here)."""
    demos = []
    for path in sorted((content_dir / "demos").glob("*.py")):
        if path.name.startswith("_"):
            continue
        stat = path.stat()
        info = _demo_info(path, stat.st_mtime_ns, stat.st_size)
        if info is not None:
            demos.append(info)
    return demos


@functools.lru_cache(maxsize=1024)
def _demo_info(path: Path, _mtime_ns: int, _size: int) -> DemoInfo | None:
    # Parsing every demo costs a quarter of a second; the editor page and every live
    # preview ask again. Keyed on the file's mtime and size, so an edit is seen.
    try:
        meta = read_metadata(path)
    except (DemoError, OSError):
        return None
    return DemoInfo(f"demos/{path.name}", path.stem, meta.title, dict(meta.claims))


# --- bulk upload and Anki ----------------------------------------------------------------


@dataclass
class UploadResult:
    files: list[str]
    report: ImportReport


def upload(
    session: Session, content_dir: Path, filename: str, data: bytes, *, author: UserPublic | None
) -> UploadResult:
    """One card file or a zip of them: refused outright (``bulk.UploadRefused``) when
    unsafe; ``ContentError`` listing every problem when the tree would not check; else
    written and imported, all or nothing, one history entry per card."""
    files = bulk.read_upload(filename, data)
    problems = bulk.check_upload(content_dir, files)
    if problems:
        raise ContentError(problems)
    with _SAVE_LOCK:
        session.exec(select(Card.id).with_for_update()).first()
        before_by_file = {
            f.target: (content_dir / f.target).read_text("utf-8")
            for f in files
            if (content_dir / f.target).is_file()
        }
        writes: dict[str, str | None] = {f.target: f.data.decode("utf-8") for f in files}

        def record(_: ImportReport) -> None:
            for f in files:
                text = f.data.decode("utf-8")
                parsed = _parsed(text)
                card_id = str(parsed.meta.get("id"))
                lang = f.target.rpartition("/")[2][:-3].partition(".")[2]
                lang = lang or str(parsed.meta.get("lang") or DEFAULT_LANG)
                before = {lang: before_by_file[f.target]} if f.target in before_by_file else {}
                if before == {lang: text}:
                    continue
                _record(
                    session,
                    card_id,
                    "upload",
                    author,
                    before,
                    {lang: text},
                    {lang: f.target},
                    note=f"uploaded in {filename}",
                )

        report = _apply_files(session, content_dir, writes, record)
    return UploadResult([f.target for f in files], report)


@dataclass
class AnkiResult:
    drafts: list[str]
    media: list[str]
    remarks: dict[str, list[str]]


def import_anki(
    session: Session,
    content_dir: Path,
    data: bytes,
    *,
    author: UserPublic | None,
    deck: str | None = None,
) -> AnkiResult:
    """Each note of an .apkg becomes a draft to review in the editor; its images are
    copied under content/media/anki/. Raises ``bulk.UploadRefused``."""
    package = anki.read_apkg(data)
    if not package.notes:
        raise bulk.UploadRefused(["the package holds no notes"])
    placed = anki.copy_media(content_dir, package.media)
    drafts, remarks = [], {}
    taken = set(session.exec(select(Card.id)).all()) | {
        p.name.partition(".")[0] for p in card_files(content_dir)
    }
    for note in package.notes:
        draft = anki.note_to_draft(note, "", deck=deck, media_paths=placed)
        card_id = unique_id(draft.fields.title, taken)
        taken.add(card_id)
        draft.fields.id = card_id
        result = save_draft(
            session,
            content_dir,
            draft.fields,
            {},
            base_version="",
            author=author,
            note=f"imported from Anki (note {note.guid})",
        )
        drafts.append(result.card_id)
        if draft.notes:
            remarks[result.card_id] = draft.notes
    return AnkiResult(drafts, sorted(placed.values()), remarks)
