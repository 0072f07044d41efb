"""The editor's checks: problems mapped back to the form's fields, the throwaway-tree
check that says exactly what `backprop check` would, and the live preview."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from sqlmodel import Session

from app.content.problems import ContentError, Problem
from app.content.render import RenderedCard, render_card
from app.content.tree import load_deck
from app.models.card import Card, CardAlias, CardTranslation
from app.services.authoring import bulk
from app.services.authoring.form import (
    FieldProblem,
    editor_card,
    file_names,
    has_content,
    render_markdown,
)
from app.services.authoring.paths import path_field_problems
from app.services.authoring.serialize import (
    SECTION_NAMES,
    CardFields,
    TranslationFields,
)


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
    problems, _ = check_tree(content_dir, fields, translations, old_paths)
    return problems


def unchanged_since(
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
        current = editor_card(before, "active", "")
    except (ContentError, ValueError):
        return False
    return render_markdown(current.fields, current.translations) == render_markdown(
        fields, translations
    )


def keep_current_order(fields: CardFields, before: Mapping[str, str]) -> None:
    """The form sends the proved claims in the demo's order; where the set is the one
    the file lists, keep the file's order, so an untouched list does not move."""
    if not before or fields.demo is None:
        return
    try:
        current = editor_card(before, "active", "").fields.demo
    except (ContentError, ValueError):
        return
    if (
        current is not None
        and current.path == fields.demo.path
        and set(current.proves) == set(fields.demo.proves)
    ):
        fields.demo.proves = list(current.proves)


def path_problems(fields: CardFields) -> list[FieldProblem]:
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
        problems += path_problems(fields)
    for name in fields.sections:
        if name not in SECTION_NAMES:
            problems.append(FieldProblem(name, None, f'unknown section "## {name}"', "form"))
    return problems


def check_tree(
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
    names = file_names(fields, texts, folder)
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
        if has_content(translation):
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
