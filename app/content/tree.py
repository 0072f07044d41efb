"""Walk a content directory into a validated ``Deck``: every card with its translations,
and every problem found, within one file or across files."""

from __future__ import annotations

import gc
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.content.cache import ParseCache
from app.content.parse import ParsedFile, Section, parse_bytes, read_file
from app.content.problems import Problem
from app.content.schema import ID_PATTERN, LANG_PATTERN, CardMeta, DemoRef, TranslationMeta
from app.demos.metadata import read_metadata
from app.demos.params import SchemaUnavailable, describe_one, model_from_schema
from app.demos.registry import DemoError
from app.exercises.links import check_exercise_links

M = TypeVar("M", bound=BaseModel)

# progress(stage, done, total)
Progress = Callable[[str, int, int], None]

_ID = re.compile(ID_PATTERN)
_LANG = re.compile(LANG_PATTERN)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_TYPE_NAMES = {
    "string_type": "text",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "int_type": "a whole number",
    "bool_type": "true or false",
}


@dataclass
class CardFile:
    """One language file of a card."""

    lang: str
    title: str
    parsed: ParsedFile

    @property
    def path(self) -> Path:
        return self.parsed.path

    @property
    def sections(self) -> dict[str, Section]:
        return self.parsed.complete().sections


@dataclass
class CardSource:
    """A card as the files say: shared metadata plus one ``CardFile`` per language."""

    meta: CardMeta
    rel_path: str  # the default-language file, relative to content/, POSIX separators
    files: dict[str, CardFile]  # lang -> file; the default language first
    content_hash: str = ""
    links: set[str] = field(default_factory=set)

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def path(self) -> Path:
        return self.files[self.meta.lang].path

    @property
    def folder(self) -> str:
        """The card's folder relative to content/ (for relative image URLs)."""
        return self.rel_path.rpartition("/")[0]

    def id_line(self) -> int:
        return self.files[self.meta.lang].parsed.line_of(("id",))


@dataclass
class Deck:
    content_dir: Path
    cards: dict[str, CardSource] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> card id
    problems: list[Problem] = field(default_factory=list)
    files: int = 0

    def resolve(self, card_id: str) -> str | None:
        """The current id for ``card_id`` (itself or a former id), or None."""
        if card_id in self.cards:
            return card_id
        return self.aliases.get(card_id)

    def title(self, card_id: str, lang: str) -> str | None:
        card = self.cards.get(card_id)
        if card is None:
            return None
        file = card.files.get(lang) or card.files[card.meta.lang]
        return file.title


def card_files(content_dir: Path) -> list[Path]:
    """Every card Markdown file under content/cards, in a stable order."""
    root = content_dir / "cards"
    found: list[Path] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = Path(folder)
        found.extend(base / n for n in sorted(names) if n.endswith(".md") and n[0] != ".")
    return found


def load_deck(
    content_dir: Path, *, progress: Progress | None = None, cache_path: Path | None = None
) -> Deck:
    """Parse and check the whole tree. Never raises for bad content: see ``Deck.problems``.

    With ``cache_path``, files whose bytes were parsed before are not parsed again (see
    ``cache.py``); every check, within a file and across files, runs all the same.
    """
    with gc_paused():
        return _load_deck(content_dir, progress, cache_path)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: loading allocates many long-lived objects
    and nothing cyclic to free, so the collector's passes (over a third of the time of
    a large load) find nothing. Reference counting still frees everything else."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _load_deck(content_dir: Path, progress: Progress | None, cache_path: Path | None) -> Deck:
    deck = Deck(content_dir)
    if not (content_dir / "cards").is_dir():
        deck.problems.append(Problem(content_dir / "cards", 1, "no cards directory here"))
        return deck
    paths = card_files(content_dir)
    deck.files = len(paths)
    originals: dict[tuple[Path, str], tuple[ParsedFile, CardMeta | None]] = {}
    translations: list[tuple[ParsedFile, str, TranslationMeta | None]] = []
    claimed_ids: dict[str, list[ParsedFile]] = {}

    cache = ParseCache(cache_path) if cache_path is not None else None
    digests: dict[Path, bytes] = {}

    def parse(path: Path) -> ParsedFile:
        parsed = read_file(path)
        if parsed.problems:
            return parsed
        if cache is None:
            parse_bytes(parsed)
            return parsed
        digest = digests[path] = hashlib.sha256(parsed.raw).digest()
        if not cache.get(digest, parsed):
            parse_bytes(parsed)
            cache.put(digest, parsed)
        return parsed

    def validate(parsed: ParsedFile, model: type[M]) -> M | None:
        digest = digests.get(parsed.path)
        if cache is None or digest is None or parsed.problems:
            return _validate(parsed, model)
        meta = cache.validated(digest, model)
        if meta is None:
            meta = _validate(parsed, model)
            if meta is not None and not parsed.problems:
                cache.put_validated(digest, meta)
        return meta

    # Parsing stays in this process: handing parsed files back from workers costs about
    # as much as parsing them (measured with bench/import_bench.py).
    for done, parsed in enumerate(map(parse, paths), 1):
        if progress and (done % 200 == 0 or done == deck.files):
            progress("check", done, deck.files)
        path = parsed.path
        stem, _, rest = path.name[:-3].partition(".")
        if rest and not _LANG.fullmatch(rest):
            parsed.problem(1, f'bad file name "{path.name}": expected <id>.md or <id>.<lang>.md')
            deck.problems.extend(parsed.problems)
            continue
        if not parsed.problems or parsed.meta:
            raw_id = parsed.meta.get("id")
            if isinstance(raw_id, str) and _ID.fullmatch(raw_id) and raw_id != stem:
                parsed.problem(
                    parsed.line_of(("id",)),
                    f'id "{raw_id}" does not match the file name "{path.name}"'
                    + ("" if not rest else f" (a translation keeps the id of {stem}.md)"),
                )
        if rest:
            meta_t = validate(parsed, TranslationMeta)
            if meta_t is not None and meta_t.lang != rest:
                parsed.problem(
                    parsed.line_of(("lang",)),
                    f'lang "{meta_t.lang}" does not match the file name "{path.name}"',
                )
            translations.append((parsed, rest, meta_t))
        else:
            meta = validate(parsed, CardMeta)
            originals[(path.parent, stem)] = (parsed, meta)
            raw_id = parsed.meta.get("id")
            if isinstance(raw_id, str) and _ID.fullmatch(raw_id):
                claimed_ids.setdefault(raw_id, []).append(parsed)
        deck.problems.extend(parsed.problems)

    known_ids = set(claimed_ids)
    prefix = len(str(content_dir)) + 1
    _check_duplicates(deck, claimed_ids)

    for parsed, meta in originals.values():
        # Neither copy of a duplicate id is a card: which one is, is the author's call.
        if meta is None or len(claimed_ids[meta.id]) > 1:
            continue
        # String slicing: Path.relative_to is a measurable share of an unchanged import.
        rel = str(parsed.path)[prefix:].replace(os.sep, "/")
        deck.cards.setdefault(
            meta.id,
            CardSource(meta, rel, {meta.lang: CardFile(meta.lang, meta.title, parsed)}),
        )

    for parsed, lang, meta_t in translations:
        stem = parsed.path.name.partition(".")[0]
        original = originals.get((parsed.path.parent, stem))
        if original is None:
            deck.problems.append(
                Problem(parsed.path, 1, f"translation without an original: no {stem}.md beside it")
            )
            continue
        if meta_t is None:
            continue
        card = deck.cards.get(meta_t.id)
        if card is None or card.files[card.meta.lang].parsed is not original[0]:
            continue
        if lang == card.meta.lang:
            parsed.problem(parsed.line_of(("lang",)), f'"{lang}" is the card\'s own language')
            deck.problems.extend(parsed.problems)
            continue
        card.files[lang] = CardFile(lang, meta_t.title, parsed)

    _check_aliases(deck, known_ids)
    _check_links_and_images(deck, known_ids)
    _check_demos(deck)
    deck.problems.extend(check_exercise_links(deck))
    for card in deck.cards.values():
        card.content_hash = content_hash(card)
    deck.problems.sort()
    if cache is not None:
        cache.save()
    return deck


def content_hash(card: CardSource) -> str:
    """SHA-256 over every language file's bytes: any edit, in any language, changes it."""
    digest = hashlib.sha256()
    for lang in sorted(card.files):
        raw = card.files[lang].parsed.raw
        digest.update(f"{lang}\0{len(raw)}\0".encode())
        digest.update(raw)
    return digest.hexdigest()


# --- schema errors -------------------------------------------------------------------


def _validate(parsed: ParsedFile, model: type[M]) -> M | None:
    if parsed.problems and not parsed.meta:
        return None
    try:
        return model.model_validate(parsed.meta)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            parsed.problem(*_describe(parsed, loc, error))
        return None


def _describe(parsed: ParsedFile, loc: tuple[Any, ...], error: Any) -> tuple[int, str]:
    name = ".".join(str(part) for part in loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        return parsed.line_of(loc), f'unknown key "{name}"'
    if kind == "missing":
        return parsed.line_of(loc), f'missing required field "{name}"'
    if kind in _TYPE_NAMES:
        got = type(error.get("input")).__name__
        got = {"str": "text", "list": "a list", "dict": "a mapping", "NoneType": "nothing"}.get(
            got, got
        )
        expected = _TYPE_NAMES[kind]
        return parsed.line_of(loc), f'wrong type for "{name}": expected {expected}, got {got}'
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "string_pattern_mismatch" and loc[:1] in (("id",), ("aliases",)):
        message = "ids are lowercase kebab-case (a-z, 0-9, single hyphens), at most 64 characters"
    elif kind == "string_too_long" and loc[:1] in (("id",), ("aliases",)):
        message = "ids are at most 64 characters"
    return parsed.line_of(loc), f'invalid "{name}": {message}'


# --- cross-file checks ---------------------------------------------------------------


def _check_duplicates(deck: Deck, claimed: dict[str, list[ParsedFile]]) -> None:
    for card_id, files in claimed.items():
        if len(files) < 2:
            continue
        for parsed in files:
            others = ", ".join(f"{o.path}:{o.line_of(('id',))}" for o in files if o is not parsed)
            message = f'duplicate id "{card_id}": also in {others}'
            deck.problems.append(Problem(parsed.path, parsed.line_of(("id",)), message))


def _check_aliases(deck: Deck, known_ids: set[str]) -> None:
    owners: dict[str, CardSource] = {}
    for card in deck.cards.values():
        parsed = card.files[card.meta.lang].parsed
        for index, alias in enumerate(card.meta.aliases):
            message = ""
            if alias == card.id:
                message = f'alias "{alias}" is the card\'s own id'
            elif alias in known_ids:
                other = deck.cards.get(alias)
                where = f" ({other.path})" if other else ""
                message = f'alias "{alias}" clashes with the id of another card{where}'
            elif alias in owners:
                message = f'alias "{alias}" is also claimed by {owners[alias].path}'
            if message:
                line = parsed.line_of(("aliases", index))
                deck.problems.append(Problem(card.path, line, message))
            else:
                owners[alias] = card
                deck.aliases[alias] = card.id


def _check_links_and_images(deck: Deck, known_ids: set[str]) -> None:
    content_root = os.path.realpath(deck.content_dir)
    for card in deck.cards.values():
        for file in card.files.values():
            parsed = file.parsed
            for target, line in parsed.links:
                if not _ID.fullmatch(target) or len(target) > 64:
                    deck.problems.append(
                        Problem(parsed.path, line, f"bad link [[{target}]]: write [[card-id]]")
                    )
                    continue
                if target in known_ids or target in deck.aliases:
                    card.links.add(deck.resolve(target) or target)
                else:
                    message = f"dangling link [[{target}]]: no card has this id"
                    deck.problems.append(Problem(parsed.path, line, message))
            for src, line in parsed.images:
                problem = _image_problem(src, parsed.path, content_root)
                if problem:
                    deck.problems.append(Problem(parsed.path, line, problem))


def _image_problem(src: str, path: Path, content_root: str) -> str | None:
    if not src or _SCHEME.match(src) or src.startswith(("/", "\\")):
        return f'image "{src}" must be a path relative to the card, inside content/'
    target = os.path.realpath(os.path.join(path.parent, src))
    if os.path.commonpath([target, content_root]) != content_root:
        return f'image "{src}" leaves content/'
    if not os.path.isfile(target):
        return f'image "{src}" not found'
    return None


def _check_demos(deck: Deck) -> None:
    # demo path -> (claims or None, what is wrong); most cards share a few demos, so
    # each path is resolved and read once.
    claims_by_path: dict[str, tuple[set[str] | None, str]] = {}
    # demo path -> its Params model, or None once its import failure has been reported.
    params_by_path: dict[str, type[BaseModel] | None] = {}
    content_root = os.path.realpath(deck.content_dir)
    for card in deck.cards.values():
        demo = card.meta.demo
        if demo is None:
            continue
        if demo.path not in claims_by_path:
            full = os.path.realpath(os.path.join(deck.content_dir, demo.path))
            if (
                _SCHEME.match(demo.path)
                or os.path.isabs(demo.path)
                or os.path.commonpath([full, content_root]) != content_root
            ):
                claims_by_path[demo.path] = (None, "")
            else:
                claims_by_path[demo.path] = read_claims(Path(full))
        claims, error = claims_by_path[demo.path]
        parsed = card.files[card.meta.lang].parsed
        if claims is None:
            if not error:
                message = f'demo path "{demo.path}" must be relative to content/'
            else:
                message = f'demo "{demo.path}": {error}'
            deck.problems.append(Problem(card.path, parsed.line_of(("demo", "path")), message))
            continue
        for index, claim in enumerate(demo.proves):
            if claim not in claims:
                known = ", ".join(sorted(claims)) or "none"
                deck.problems.append(
                    Problem(
                        card.path,
                        parsed.line_of(("demo", "proves", index)),
                        f'claim "{claim}" is not in the CLAIMS of {demo.path} (it has: {known})',
                    )
                )
        if demo.params:
            _check_demo_params(deck, card, demo, params_by_path)


def _check_demo_params(
    deck: Deck, card: CardSource, demo: DemoRef, models: dict[str, type[BaseModel] | None]
) -> None:
    """Validates ``demo.params`` against the demo's ``Params`` schema, which a sandboxed
    process reports (cached by the file's hash): the demo never runs here. Once per path."""
    parsed = card.files[card.meta.lang].parsed
    if demo.path not in models:
        full = Path(os.path.realpath(os.path.join(deck.content_dir, demo.path)))
        try:
            described = describe_one(full)
            reason = described.error
        except SchemaUnavailable as exc:
            described, reason = None, str(exc)
        if described is None or described.schema is None:
            models[demo.path] = None
            message = f'demo "{demo.path}": {reason or "no Params schema"}'
            deck.problems.append(Problem(card.path, parsed.line_of(("demo", "path")), message))
            return
        models[demo.path] = model_from_schema(full.stem, described.schema)
    model = models[demo.path]
    if model is None:
        return
    messages = [
        f'demo param "{key}" is not a parameter of {demo.path}'
        for key in sorted(set(demo.params) - set(model.model_fields))
    ]
    try:
        model.model_validate(demo.params)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            if error["type"] == "extra_forbidden":
                continue  # reported above, in the same words as every unknown key
            name = ".".join(str(part) for part in error["loc"]) or "params"
            messages.append(f'demo param "{name}": {error["msg"]}')
    if messages:  # line_of re-parses a file served from the parse cache: only when needed
        line = parsed.line_of(("demo", "params"))
        deck.problems.extend(Problem(card.path, line, message) for message in messages)


def read_claims(path: Path) -> tuple[set[str] | None, str]:
    """The keys of a demo module's literal ``CLAIMS`` dict, from the one metadata reader
    (``app.demos.metadata``, with ``ast``): the demo is never imported (or run) here."""
    try:
        meta = read_metadata(path)
    except FileNotFoundError:
        return None, "file not found"
    except DemoError as exc:
        return None, str(exc).split(": ", 1)[-1] if ": " in str(exc) else str(exc)
    return set(meta.claims), ""
