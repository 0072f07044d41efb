"""Kept so older imports work: the Anki code lives in ``app.services.anki``."""

from __future__ import annotations

from app.services.anki.drafts import (
    AnkiDraft,
    anki_deck,
    anki_tag,
    copy_media,
    note_to_draft,
)
from app.services.anki.markdown import html_to_markdown, plain_text
from app.services.anki.package import APKG_LIMITS, AnkiNote, AnkiPackage, read_apkg

__all__ = [
    "APKG_LIMITS",
    "AnkiDraft",
    "AnkiNote",
    "AnkiPackage",
    "anki_deck",
    "anki_tag",
    "copy_media",
    "html_to_markdown",
    "note_to_draft",
    "plain_text",
    "read_apkg",
]
