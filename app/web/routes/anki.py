"""Anki for learners under /anki: download chosen decks as an .apkg (with, if they
choose, their review history and current schedule), and bring their own Anki history
(an .apkg) into their FSRS schedule. Admins export the whole deck from /admin."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlmodel import select

from app.db import session_scope
from app.models.card import Card
from app.services.anki.export import export_package
from app.services.anki.history import HistorySummary, import_history
from app.services.authoring.bulk import UploadRefused
from app.web.deps import CsrfProtected, CurrentUser, EngineDep, SessionDep, SettingsDep
from app.web.i18n import gettext_for, request_language
from app.web.templating import templates

router = APIRouter()

MAX_HISTORY_BYTES = 60 << 20
MAX_MAPPING_BYTES = 1 << 20  # a mapping file: one short line per note
MAX_DECKS_CHOSEN = 200


def deck_names(session: SessionDep) -> list[str]:
    rows = session.exec(select(Card.deck).where(Card.status == "active").distinct())
    return sorted(set(rows.all()))


def _page(
    request: Request, session: SessionDep, context: dict[str, Any], status: int = 200
) -> Response:
    context = {"decks": deck_names(session), **context}
    return templates.TemplateResponse(request, "anki/page.html", context, status_code=status)


@router.get("/anki", response_class=HTMLResponse)
def anki_page(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    return _page(request, session, {})


def download(data: bytes, filename: str) -> Response:
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/anki/export")
async def export(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    deck: Annotated[list[str], Query(max_length=MAX_DECKS_CHOSEN)] = [],  # noqa: B006
    history: bool = False,
) -> Response:
    known = deck_names(session)
    chosen = [d for d in deck if d]
    unknown = [d for d in chosen if d not in known]
    _ = gettext_for(request_language(request))
    if not chosen or unknown:
        message = (
            _("No such deck: %(deck)s") % {"deck": unknown[0][:200]}
            if unknown
            else _("Choose at least one deck to export.")
        )
        return _page(request, session, {"error": message}, status=400)

    def build() -> bytes:
        with session_scope(engine) as s:
            data, _summary = export_package(
                s, settings.content_dir, decks=chosen, user_id=user.id if history else None
            )
            return data

    return download(await run_in_threadpool(build), "backprop.apkg")


@router.post("/anki/history", response_class=HTMLResponse)
async def upload_history(
    request: Request,
    user: CurrentUser,
    _csrf: CsrfProtected,
    session: SessionDep,
    engine: EngineDep,
    file: Annotated[UploadFile, File()],
    mapping: Annotated[UploadFile | None, File()] = None,
) -> Response:
    _ = gettext_for(request_language(request))
    data = await file.read(MAX_HISTORY_BYTES + 1)
    mapping_data = await mapping.read(MAX_MAPPING_BYTES + 1) if mapping is not None else b""
    if len(data) > MAX_HISTORY_BYTES or len(mapping_data) > MAX_MAPPING_BYTES:
        limit = MAX_HISTORY_BYTES if len(data) > MAX_HISTORY_BYTES else MAX_MAPPING_BYTES
        message = _("The file is larger than %(n)d MiB.") % {"n": limit >> 20}
        return _page(request, session, {"error": message}, status=400)
    try:
        mapping_text = mapping_data.decode("utf-8-sig")
    except UnicodeDecodeError:
        message = _("The mapping file is not UTF-8 text.")
        return _page(request, session, {"error": message}, status=400)

    def apply() -> HistorySummary:
        # Unpacking and replaying a history takes seconds: off the event loop.
        with session_scope(engine, write=True) as s:
            return import_history(s, user.id, data, mapping_text)

    try:
        summary = await run_in_threadpool(apply)
    except UploadRefused as exc:
        return _page(request, session, {"error": "; ".join(exc.reasons)}, status=400)
    return _page(request, session, {"history": summary})
