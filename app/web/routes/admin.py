"""The admin area under /admin: card list, editor with live preview, history, revert,
retire/restore, bulk upload and Anki import. Admins only: everyone else gets 403 (and
the attempt is logged by ``AdminUser``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.datastructures import FormData

from app.content.problems import ContentError
from app.db import session_scope
from app.models.user import UserPublic
from app.services import demo_runs
from app.services.anki.export import export_package as anki_export_package
from app.services.anki.importer import import_package as anki_import_package
from app.services.authoring import editor
from app.services.authoring.bulk import UploadRefused
from app.services.authoring.serialize import (
    SECTION_NAMES,
    CardFields,
    DemoFields,
    TranslationFields,
)
from app.settings import Settings
from app.web.deps import REQUIRE_CSRF, AdminUser, EngineDep, SessionDep, SettingsDep, get_admin_user
from app.web.templating import templates

# The admin check runs before anything else on every route, GET included.
router = APIRouter(prefix="/admin", dependencies=[Depends(get_admin_user), REQUIRE_CSRF])

TRANSLATION_LANGS = ("zh",)
MAX_UPLOAD_BYTES = 60 << 20


# --- the form <-> fields ---------------------------------------------------------


def _words(value: str) -> list[str]:
    return [w for w in value.replace(",", " ").split() if w]


def _lines(value: str) -> list[str]:
    # A source is free text ("Goodfellow et al., Deep Learning, ch. 8"): one per line.
    return [line.strip() for line in value.splitlines() if line.strip()]


def _section_key(name: str) -> str:
    return name.lower().replace(" ", "_").replace("-", "_")


SECTION_KEYS = {name: _section_key(name) for name in SECTION_NAMES}


def fields_from_form(
    form: FormData,
) -> tuple[CardFields, dict[str, TranslationFields], list[editor.FieldProblem]]:
    """What the admin typed, as fields; problems the form itself can see (e.g. params
    that are not a YAML mapping) come back beside them."""
    problems: list[editor.FieldProblem] = []
    text = {k: str(v) for k, v in form.multi_items() if isinstance(v, str)}
    demo = None
    demo_path = text.get("demo_path", "").strip()
    if demo_path:
        params: dict[str, Any] = {}
        raw_params = text.get("demo_params", "").strip()
        if raw_params:
            try:
                loaded = yaml.safe_load(raw_params)
                if not isinstance(loaded, dict):
                    raise ValueError
                params = loaded
            except (yaml.YAMLError, ValueError):
                problems.append(
                    editor.FieldProblem(
                        "demo.params",
                        None,
                        "write the params as a mapping, e.g. {depth: 20}",
                        "form",
                    )
                )
        proves = [str(v) for v in form.getlist("demo_proves") if str(v).strip()]
        demo = DemoFields(demo_path, params, proves)
    answer_time = text.get("answer_time_s", "").strip()
    answer_time_s: int | None = None
    if answer_time:
        try:
            answer_time_s = int(answer_time)
        except ValueError:
            problems.append(
                editor.FieldProblem("answer_time_s", None, "a whole number of seconds", "form")
            )
    fields = CardFields(
        id=text.get("id", "").strip(),
        title=text.get("title", "").strip(),
        deck=text.get("deck", "").strip().strip("/"),
        difficulty=text.get("difficulty", "medium"),
        demo=demo,
        tags=_words(text.get("tags", "")),
        lang=text.get("lang", "").strip() or "en",
        aliases=_words(text.get("aliases", "")),
        answer_time_s=answer_time_s,
        source=_lines(text.get("source", "")),
        exercise=text.get("exercise", "").strip() or None,
        sections={name: text.get(f"s_{key}", "") for name, key in SECTION_KEYS.items()},
    )
    translations = {}
    for lang in TRANSLATION_LANGS:
        translations[lang] = TranslationFields(
            id=fields.id,
            lang=lang,
            title=text.get(f"t_{lang}_title", "").strip(),
            sections={
                name: text.get(f"t_{lang}_s_{key}", "") for name, key in SECTION_KEYS.items()
            },
        )
    return fields, translations, problems


def _context(
    request: Request,
    card: editor.EditorCard,
    *,
    problems: list[editor.FieldProblem] | None = None,
    message: str = "",
    conflict: str = "",
) -> dict[str, Any]:
    settings = request.app.state.settings
    translations = dict(card.translations)
    for lang in TRANSLATION_LANGS:
        translations.setdefault(lang, TranslationFields(card.fields.id, lang, ""))
    by_field: dict[str, list[editor.FieldProblem]] = {}
    for problem in problems or []:
        by_field.setdefault(problem.field, []).append(problem)
    return {
        "card": card,
        "fields": card.fields,
        "translations": translations,
        "sections": list(SECTION_KEYS.items()),
        "problems": problems or [],
        "by_field": by_field,
        "message": message,
        "conflict": conflict,
        "demos": editor.list_demos(settings.content_dir),
        "params_text": _params_text(card.fields),
    }


def _params_text(fields: CardFields) -> str:
    if not fields.demo or not fields.demo.params:
        return ""
    return yaml.safe_dump(
        dict(fields.demo.params), default_flow_style=True, sort_keys=False
    ).strip()


def _editor_page(request: Request, context: dict[str, Any], status_code: int = 200) -> Response:
    return templates.TemplateResponse(
        request, "admin/editor.html", context, status_code=status_code
    )


# --- list ----------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def card_list(
    request: Request,
    session: SessionDep,
    q: str = "",
    deck: str = "",
    tag: str = "",
    difficulty: str = "",
    status: str = "",
    missing_translation: str = "",
    missing_demo: bool = False,
    failing_claims: bool = False,
) -> Response:
    flt = editor.CardFilter(
        q, deck, tag, difficulty, status, missing_translation, missing_demo, failing_claims
    )
    catalog = request.app.state.demo_service.catalog
    result = editor.list_cards(
        session,
        flt,
        failing_claims=lambda s: demo_runs.cards_with_failing_claims(s, catalog),
    )
    template = "admin/_rows.html" if request.headers.get("HX-Request") else "admin/list.html"
    return templates.TemplateResponse(request, template, {"result": result, "flt": flt})


# --- editor -----------------------------------------------------------------------------


@router.get("/cards/new", response_class=HTMLResponse)
def new_card(request: Request) -> Response:
    return _editor_page(request, _context(request, editor.new_card()))


@router.get("/cards/{card_id}", response_class=HTMLResponse)
def edit_card(
    request: Request, card_id: str, session: SessionDep, settings: SettingsDep, saved: str = ""
) -> Response:
    try:
        card = editor.load_for_editor(session, settings.content_dir, card_id)
    except editor.NotFound:
        raise HTTPException(status_code=404, detail=f"no card {card_id!r}") from None
    message = {
        "1": "Saved.",
        "draft": "Draft saved.",
        "reverted": "Reverted.",
        "restored": "Restored.",
    }.get(saved, "")
    return _editor_page(request, _context(request, card, message=message))


@router.post("/preview", response_class=HTMLResponse)
async def preview(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """The rendered card and the problems `backprop check` would report, for the live preview.
    Checking copies and loads the content tree: it runs in a worker thread, never on
    the event loop (the preview asks on every keystroke)."""
    form = await request.form()
    return await run_in_threadpool(_preview, request, form, session, settings)


def _preview(request: Request, form: FormData, session: Session, settings: Settings) -> Response:
    fields, translations, problems = fields_from_form(form)
    if not fields.id:
        fields.id = editor.generate_id(session, settings.content_dir, fields.title or "untitled")
    rendered = editor.preview(fields, translations, editor.link_resolver(session))
    old_paths: list[str] = []
    existing = session.get(editor.Card, fields.id)
    if existing is not None and existing.status != "draft":
        old_paths = [existing.file_path]
    try:
        problems += editor.validate(settings.content_dir, fields, translations, old_paths=old_paths)
    except ValueError as exc:
        problems.append(editor.FieldProblem("form", None, str(exc), "form"))
    return templates.TemplateResponse(
        request,
        "admin/_preview.html",
        {"rendered": rendered, "fields": fields, "problems": problems, "generated_id": fields.id},
    )


@router.post("/cards", response_class=HTMLResponse)
async def save(
    request: Request, admin: AdminUser, engine: EngineDep, settings: SettingsDep
) -> Response:
    form = await request.form()
    fields, translations, problems = fields_from_form(form)
    base_version = str(form.get("base_version", ""))
    status = str(form.get("status", "new"))
    as_draft = form.get("action") == "draft"
    card = editor.EditorCard(fields, translations, base_version, status)
    if problems:
        return _editor_page(request, _context(request, card, problems=problems), 422)
    return await run_in_threadpool(_save, request, admin, engine, settings, card, as_draft)


def _save(
    request: Request,
    admin: UserPublic,
    engine: Engine,
    settings: Settings,
    card: editor.EditorCard,
    as_draft: bool,
) -> Response:
    fields, translations, base_version = card.fields, card.translations, card.version
    try:
        with session_scope(engine, write=True) as session:
            if as_draft:
                result = editor.save_draft(
                    session,
                    settings.content_dir,
                    fields,
                    translations,
                    base_version=base_version,
                    author=admin,
                )
            else:
                result = editor.save_card(
                    session,
                    settings.content_dir,
                    fields,
                    translations,
                    base_version=base_version,
                    author=admin,
                )
    except editor.Conflict as exc:
        # The admin's text stays in the form; the version is not updated, so saving
        # again needs a deliberate look at the current card (linked from the message).
        return _editor_page(request, _context(request, card, conflict=str(exc)), 409)
    except editor.Invalid as exc:
        return _editor_page(request, _context(request, card, problems=exc.problems), 422)
    except (editor.NotFound, ValueError) as exc:
        return _editor_page(
            request,
            _context(request, card, problems=[editor.FieldProblem("form", None, str(exc), "form")]),
            422,
        )
    flag = "draft" if as_draft else "1"
    return RedirectResponse(f"/admin/cards/{result.card_id}?saved={flag}", status_code=303)


# --- history, revert, retire, restore -----------------------------------------------------------


@router.get("/cards/{card_id}/history", response_class=HTMLResponse)
def card_history(
    request: Request, card_id: str, session: SessionDep, settings: SettingsDep
) -> Response:
    card = session.get(editor.Card, card_id)
    if card is None:
        raise HTTPException(status_code=404, detail=f"no card {card_id!r}")
    changes = editor.history(session, card_id)
    version = editor.version_of(editor.current_markdown(session, settings.content_dir, card))
    return templates.TemplateResponse(
        request, "admin/history.html", {"card": card, "changes": changes, "version": version}
    )


FormStr = Annotated[str, Form()]


@router.post("/cards/{card_id}/revert/{change_id}")
def revert(
    request: Request,
    card_id: str,
    change_id: int,
    admin: AdminUser,
    engine: EngineDep,
    settings: SettingsDep,
    base_version: FormStr = "",
) -> Response:
    try:
        with session_scope(engine, write=True) as session:
            editor.revert(
                session,
                settings.content_dir,
                card_id,
                change_id,
                base_version=base_version,
                author=admin,
            )
    except editor.NotFound:
        raise HTTPException(status_code=404, detail="no such change") from None
    except editor.Conflict as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except editor.Invalid as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return RedirectResponse(f"/admin/cards/{card_id}?saved=reverted", status_code=303)


@router.post("/cards/{card_id}/retire")
def retire(
    card_id: str,
    admin: AdminUser,
    engine: EngineDep,
    settings: SettingsDep,
    base_version: FormStr = "",
) -> Response:
    try:
        with session_scope(engine, write=True) as session:
            editor.retire(
                session, settings.content_dir, card_id, base_version=base_version, author=admin
            )
    except editor.NotFound:
        raise HTTPException(status_code=404, detail=f"no active card {card_id!r}") from None
    except editor.Conflict as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except editor.Invalid as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return RedirectResponse(f"/admin/cards/{card_id}/history", status_code=303)


@router.post("/cards/{card_id}/restore")
def restore(card_id: str, admin: AdminUser, engine: EngineDep, settings: SettingsDep) -> Response:
    try:
        with session_scope(engine, write=True) as session:
            editor.restore(session, settings.content_dir, card_id, author=admin)
    except editor.NotFound:
        raise HTTPException(status_code=404, detail=f"no retired card {card_id!r}") from None
    except editor.Invalid as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return RedirectResponse(f"/admin/cards/{card_id}?saved=restored", status_code=303)


@router.post("/cards/{card_id}/discard")
def discard(card_id: str, engine: EngineDep) -> Response:
    try:
        with session_scope(engine, write=True) as session:
            editor.discard_draft(session, card_id)
    except editor.NotFound:
        raise HTTPException(status_code=404, detail=f"no draft {card_id!r}") from None
    return RedirectResponse("/admin?status=draft", status_code=303)


# --- bulk upload and Anki ---------------------------------------------------------------------


@router.get("/upload", response_class=HTMLResponse)
def upload_page(request: Request) -> Response:
    return templates.TemplateResponse(request, "admin/upload.html", {})


async def _read(file: UploadFile) -> bytes:
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused([f"{file.filename}: larger than {MAX_UPLOAD_BYTES >> 20} MiB"])
    return data


@router.post("/upload", response_class=HTMLResponse)
async def upload(
    request: Request,
    admin: AdminUser,
    engine: EngineDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
) -> Response:
    name = file.filename or "upload"
    context: dict[str, Any] = {"filename": name}
    status = 200
    try:
        data = await _read(file)

        def store() -> editor.UploadResult:
            with session_scope(engine, write=True) as session:
                return editor.upload(session, settings.content_dir, name, data, author=admin)

        context["result"] = await run_in_threadpool(store)
    except UploadRefused as exc:
        context["refused"], status = exc.reasons, 400
    except ContentError as exc:
        context["problems"], status = [str(p) for p in exc.problems], 422
    except editor.Invalid as exc:
        context["problems"], status = [str(p) for p in exc.problems], 422
    return templates.TemplateResponse(request, "admin/upload.html", context, status_code=status)


@router.post("/anki", response_class=HTMLResponse)
async def anki_import(
    request: Request,
    admin: AdminUser,
    engine: EngineDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
    deck: FormStr = "",
) -> Response:
    context: dict[str, Any] = {"filename": file.filename or "package.apkg"}
    status = 200
    try:
        data = await _read(file)

        def store() -> Any:
            # Unpacking and converting a package takes seconds: off the event loop.
            with session_scope(engine, write=True) as session:
                return anki_import_package(
                    session,
                    settings.content_dir,
                    data,
                    author=admin,
                    deck=deck.strip().strip("/") or None,
                )

        context["anki"] = await run_in_threadpool(store)
    except UploadRefused as exc:
        context["refused"], status = exc.reasons, 400
    return templates.TemplateResponse(request, "admin/upload.html", context, status_code=status)


@router.get("/anki/export")
async def anki_export(engine: EngineDep, settings: SettingsDep) -> Response:
    """The whole deck as an .apkg, without any learner's data."""

    def build() -> bytes:
        with session_scope(engine) as session:
            return anki_export_package(session, settings.content_dir)[0]

    data = await run_in_threadpool(build)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": 'attachment; filename="backprop-deck.apkg"'},
    )


@router.get("/demos.json")
def demos_json(settings: SettingsDep) -> Response:
    demos = [d.__dict__ for d in editor.list_demos(settings.content_dir)]
    return Response(json.dumps(demos), media_type="application/json")
