"""The card editor's rules, under one name: load, preview, save (with optimistic
concurrency), history, revert, retire and restore, drafts, the admin list, bulk upload.
Anki packages are ``app.services.anki``.

A facade: each job lives in its own module (`form`: what the editor shows and raises;
`checks`: problems on the form and the live preview; `saving`: publish and drafts;
`history`: history, revert, retire, restore; `card_list`: the admin list and its
filters; `demo_picker`; `uploads`: bulk upload). New code may import from those
directly; this one re-exports every name callers used before the split.

Every change to a published card goes the same way as ``backprop import``: the files
the change produces are laid over a throwaway copy of the content tree, that copy is
checked by the content loader (so the admin sees exactly what ``backprop check``
would say) and imported into the session's transaction; the new files are written
beside their targets as temporaries, the transaction commits, and only then are the
temporaries renamed over the targets. The Markdown written is the canonical layout of
``serialize.py``, so importing the real tree afterwards changes nothing.

Drafts (status "draft") never reach the files: their Markdown lives in the history
(``card_change``) until they are published, and learners never see them.

The writers commit the session they are given (the files are renamed into place only
after the commit): the one exception to "services never commit".
"""

from __future__ import annotations

from app.content.problems import ContentError
from app.models.card import Card
from app.services.authoring import bulk
from app.services.authoring.card_list import CardFilter, CardList, CardRow, list_cards
from app.services.authoring.checks import link_resolver, preview, validate
from app.services.authoring.demo_picker import DemoInfo, list_demos
from app.services.authoring.form import (
    Conflict,
    EditorCard,
    FieldProblem,
    Invalid,
    NotFound,
    card_from_markdown,
    current_markdown,
    diff_markdown,
    files_on_disk,
    generate_id,
    load_for_editor,
    new_card,
    render_markdown,
    translation_from_markdown,
    version_of,
)
from app.services.authoring.history import history, restore, retire, revert
from app.services.authoring.saving import SaveResult, discard_draft, save_card, save_draft
from app.services.authoring.uploads import UploadResult, upload

__all__ = [
    "Card", "CardFilter", "CardList", "CardRow", "Conflict", "ContentError",
    "DemoInfo", "EditorCard", "FieldProblem", "Invalid", "NotFound", "SaveResult",
    "UploadResult", "bulk", "card_from_markdown", "current_markdown", "diff_markdown",
    "discard_draft", "files_on_disk", "generate_id", "history", "link_resolver",
    "list_cards", "list_demos", "load_for_editor", "new_card", "preview", "render_markdown",
    "restore", "retire", "revert", "save_card", "save_draft", "translation_from_markdown",
    "upload", "validate", "version_of",
]  # fmt: skip
