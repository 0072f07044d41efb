"""Cards -> an .apkg that Anki and AnkiDroid open: both languages, math with the
MathJax delimiters Anki understands (``\\(..\\)``, ``\\[..\\]``), highlighted code
with inline styles, images, tags, and a GUID per card
that never changes, so exporting again updates the same notes in Anki. With a
learner's history, their review log becomes Anki's ``revlog`` and each card's current
schedule (due date, interval, FSRS memory state) its ``cards`` row.
"""

from __future__ import annotations

import functools
import hashlib
import html
import io
import json
import re
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import genanki
from pygments.formatters import HtmlFormatter
from sqlmodel import Session, col, select

from app.models.card import Card, CardTag, CardTranslation
from app.models.review import (
    FSRS_LEARNING,
    FSRS_RELEARNING,
    FSRS_REVIEW,
    SCHEDULED_KINDS,
    ReviewLog,
    ReviewState,
)
from app.services.anki.drafts import anki_tag, parse_source_key

MODEL_ID = 1_746_300_001  # fixed: Anki knows the note type again on every export
ROOT_DECK = "Backprop"
LANGS = ("en", "zh")
FIELDS = ["Question", "Answer", "Question (中文)", "Answer (中文)", "Card id"]
_MATH = re.compile(r'<(span|div) class="math math-(inline|display)">(.*?)</\1>', re.S)
_CODE_SPAN = re.compile(r'<span class="([\w-]+)">')
_CODE_BLOCK = re.compile(r'<pre class="highlight">(.*?)</pre>', re.S)
_IMG = re.compile(r'(<img\b[^>]*\bsrc=")(/content/[^"]+)(")')
# Anki's revlog.type: 0 learn, 1 review, 2 relearn, 3 filtered (cram).
_REVLOG_TYPE = {"learn": 0, "review": 1, "relearn": 2, "cram": 3, "mock": 1, "exercise": 1}

MODEL = genanki.Model(
    MODEL_ID,
    "Backprop (English + 中文)",
    fields=[{"name": name} for name in FIELDS],
    templates=[
        {
            "name": "Card 1",
            "qfmt": "{{Question}}{{#Question (中文)}}<hr>{{Question (中文)}}{{/Question (中文)}}",
            "afmt": "{{FrontSide}}<hr id=answer>{{Answer}}"
            "{{#Answer (中文)}}<hr>{{Answer (中文)}}{{/Answer (中文)}}",
        }
    ],
    css=".card { font-family: sans-serif; font-size: 18px; text-align: left; }",
)


@dataclass
class ExportSummary:
    notes: int = 0
    media: int = 0
    reviews: int = 0
    scheduled: int = 0  # cards that carry the learner's schedule
    decks: list[str] = field(default_factory=list)


def note_guid(card: Card) -> str:
    """The Anki GUID of a card: the one it was imported with, else derived from its id
    (the same on every export, so Anki updates the note instead of adding one)."""
    for source in card.sources or []:
        key = parse_source_key(str(source))
        if key is not None and key[1] == 0:
            return key[0]
    return str(genanki.guid_for("backprop", card.id))


def anki_deck_name(deck: str) -> str:
    return "::".join([ROOT_DECK, *(part for part in deck.split("/") if part)])


def _stable_id(text: str) -> int:
    """A positive 52-bit id from a name (Anki ids are JavaScript-safe integers)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:6], "big") + (1 << 40)


def in_decks(card_deck: str, decks: list[str] | None) -> bool:
    return decks is None or any(card_deck == d or card_deck.startswith(d + "/") for d in decks)


@functools.cache
def _code_styles() -> tuple[dict[str, str], str]:
    """Pygments' token class -> its inline style, and the block's background."""
    formatter = HtmlFormatter()
    styles = {cls: style for cls, (style, _token, _level) in formatter.class2style.items()}
    return styles, str(formatter.style.background_color or "#f8f8f8")


def inline_code_styles(fragment: str) -> str:
    """Highlighted code with its colours as inline styles, so it looks the same in any
    note type and any Anki client."""
    styles, background = _code_styles()

    def span(match: re.Match[str]) -> str:
        style = styles.get(match.group(1))
        return f'<span style="{style}">' if style else "<span>"

    def block(match: re.Match[str]) -> str:
        body = _CODE_SPAN.sub(span, match.group(1))
        return (
            f'<pre style="background: {background}; padding: 0.5em; text-align: left">{body}</pre>'
        )

    return _CODE_BLOCK.sub(block, fragment)


def anki_html(fragment: str, media: dict[str, str]) -> str:
    """Rendered card HTML as Anki shows it: math delimited for MathJax, images by name.
    ``media`` collects content/-relative path -> name in the package."""

    def math(match: re.Match[str]) -> str:
        tex = html.escape(html.unescape(match.group(3)), quote=False)
        return f"\\({tex}\\)" if match.group(2) == "inline" else f"\\[{tex}\\]"

    def image(match: re.Match[str]) -> str:
        rel = html.unescape(match.group(2))[len("/content/") :]
        if rel not in media:
            name = rel.rsplit("/", 1)[-1]
            if name in media.values():
                name = f"{hashlib.sha256(rel.encode()).hexdigest()[:8]}-{name}"
            media[rel] = name
        return f"{match.group(1)}{html.escape(media[rel])}{match.group(3)}"

    return inline_code_styles(_IMG.sub(image, _MATH.sub(math, fragment)))


def _answer_html(translation: CardTranslation) -> str:
    parts = [translation.answer_html]
    if translation.key_points:
        items = "".join(f"<li>{p.get('html', '')}</li>" for p in translation.key_points)
        parts.append(f"<ul>{items}</ul>")
    return "".join(parts)


def export_package(
    session: Session,
    content_dir: Path,
    *,
    decks: list[str] | None = None,
    user_id: int | None = None,
    now: datetime | None = None,
) -> tuple[bytes, ExportSummary]:
    """The .apkg of the active cards in ``decks`` (None: every deck); with ``user_id``,
    that learner's review log and schedule travel with it (else no learner data)."""
    cards = [
        c
        for c in session.exec(select(Card).where(Card.status == "active").order_by(Card.id)).all()
        if in_decks(c.deck, decks)
    ]
    ids = [c.id for c in cards]
    translations: dict[str, dict[str, CardTranslation]] = {}
    for row in session.exec(select(CardTranslation).where(col(CardTranslation.card_id).in_(ids))):
        translations.setdefault(row.card_id, {})[row.lang] = row
    tags: dict[str, list[str]] = {}
    for tag_row in session.exec(select(CardTag).where(col(CardTag.card_id).in_(ids))):
        tags.setdefault(tag_row.card_id, []).append(tag_row.tag)
    media: dict[str, str] = {}
    anki_decks: dict[str, genanki.Deck] = {}
    guids: dict[str, str] = {}
    summary = ExportSummary()
    for card in cards:
        name = anki_deck_name(card.deck)
        deck = anki_decks.get(name)
        if deck is None:
            deck = anki_decks[name] = genanki.Deck(_stable_id(name), name)
        by_lang = translations.get(card.id, {})
        values = []
        for lang in LANGS:
            text = by_lang.get(lang)
            values += (
                [anki_html(text.question_html, media), anki_html(_answer_html(text), media)]
                if text
                else ["", ""]
            )
        if not values[0]:
            values[0] = html.escape(card.title)
        guids[card.id] = note_guid(card)
        note_tags = [t for t in (anki_tag(x) for x in sorted(tags.get(card.id, []))) if t]
        deck.add_note(
            genanki.Note(
                model=MODEL, fields=[*values, card.id], tags=note_tags, guid=guids[card.id]
            )
        )
        summary.notes += 1
    summary.decks = sorted(anki_decks)
    package = genanki.Package(list(anki_decks.values()))
    media_files = {name: content_dir / rel for rel, name in media.items()}
    media_files = {n: p for n, p in media_files.items() if p.is_file()}
    summary.media = len(media_files)
    stamp = (now or datetime.now(UTC)).timestamp()
    with tempfile.TemporaryDirectory(prefix="backprop-export-") as tmp:
        db_path = Path(tmp) / "collection.anki2"
        db = sqlite3.connect(db_path)
        try:
            cursor = db.cursor()
            package.write_to_db(cursor, stamp, _ids(int(stamp * 1000)))
            _use_v2_scheduler(db)
            if user_id is not None:
                _write_schedule(db, session, user_id, guids, summary, now or datetime.now(UTC))
            db.commit()
        finally:
            db.close()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(db_path, "collection.anki2")
            numbered = {}
            for number, (name, path) in enumerate(sorted(media_files.items())):
                archive.write(path, str(number))
                numbered[str(number)] = name
            archive.writestr("media", json.dumps(numbered))
    return out.getvalue(), summary


def _use_v2_scheduler(db: sqlite3.Connection) -> None:
    """Marks the collection as scheduled by Anki's v2 scheduler (four buttons in
    learning too); left as v1, Anki would remap learning answers' buttons on import."""
    (conf,) = db.execute("SELECT conf FROM col").fetchone()
    settings = json.loads(conf)
    settings["schedVer"] = 2
    db.execute("UPDATE col SET conf = ?", (json.dumps(settings),))


def _ids(start: int):  # type: ignore[no-untyped-def]
    """genanki's id generator: unique, increasing ms-like ids."""
    value = start
    while True:
        yield value
        value += 1


def _write_schedule(
    db: sqlite3.Connection,
    session: Session,
    user_id: int,
    guids: dict[str, str],
    summary: ExportSummary,
    now: datetime,
) -> None:
    """The learner's schedule onto the written cards, and their log as revlog."""
    (crt,) = db.execute("SELECT crt FROM col").fetchone()
    anki_card = {
        guid: cid
        for cid, guid in db.execute(
            "SELECT cards.id, notes.guid FROM cards JOIN notes ON notes.id = cards.nid"
        )
    }
    card_of = {card_id: anki_card[guid] for card_id, guid in guids.items() if guid in anki_card}
    states = session.exec(
        select(ReviewState).where(
            ReviewState.user_id == user_id, col(ReviewState.card_id).in_(list(card_of))
        )
    ).all()
    for state in states:
        if state.fsrs_state not in (FSRS_LEARNING, FSRS_REVIEW, FSRS_RELEARNING):
            continue
        due = state.due if state.due.tzinfo else state.due.replace(tzinfo=UTC)
        last = state.last_review_at or now
        last = last if last.tzinfo else last.replace(tzinfo=UTC)
        interval = max(1, round((due - last).total_seconds() / 86400))
        if state.fsrs_state == FSRS_REVIEW:
            ctype, queue, due_value = 2, 2, int((due.timestamp() - crt) // 86400)
        else:
            ctype = 1 if state.fsrs_state == FSRS_LEARNING else 3
            queue, due_value = 1, int(due.timestamp())
        if state.suspended:
            queue = -1
        memory = {"s": round(state.stability or 0.0, 4), "d": round(state.difficulty or 0.0, 4)}
        db.execute(
            "UPDATE cards SET type = ?, queue = ?, due = ?, ivl = ?, factor = 2500, reps = ?,"
            " lapses = ?, left = ?, data = ? WHERE id = ?",
            (
                ctype, queue, due_value, interval if ctype != 1 else 0, state.reps,
                state.lapses, 1001 if ctype != 2 else 0, json.dumps(memory),
                card_of[state.card_id],
            ),
        )  # fmt: skip
        summary.scheduled += 1
    logs = session.exec(
        select(ReviewLog)
        .where(ReviewLog.user_id == user_id, col(ReviewLog.card_id).in_(list(card_of)))
        .where(col(ReviewLog.kind).in_([*SCHEDULED_KINDS, "cram"]))
        .order_by(col(ReviewLog.reviewed_at), col(ReviewLog.id))
    ).all()
    used: set[int] = set()
    for log in logs:
        at = log.reviewed_at if log.reviewed_at.tzinfo else log.reviewed_at.replace(tzinfo=UTC)
        revlog_id = int(at.timestamp() * 1000)
        while revlog_id in used:  # revlog.id is the primary key
            revlog_id += 1
        used.add(revlog_id)
        due_after = (
            log.due_after
            if log.due_after is None or log.due_after.tzinfo
            else log.due_after.replace(tzinfo=UTC)
        )
        ivl = round((due_after - at).total_seconds() / 86400) if due_after else 0
        db.execute(
            "INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type)"
            " VALUES (?, ?, -1, ?, ?, 0, 2500, ?, ?)",
            (
                revlog_id, card_of[log.card_id], log.rating, ivl,
                min(log.duration_ms or 0, 600_000), _REVLOG_TYPE.get(log.kind, 1),
            ),
        )  # fmt: skip
        summary.reviews += 1
