"""The review session: one page, one card at a time.

Without JavaScript it is plain forms: the answer is a <details> the learner opens, the
grade buttons submit a form, the server redirects back (POST/redirect/GET). With
JavaScript (static/js/practice.js) htmx posts the same forms and swaps in the next
card's stage, so there is no page load between cards; keys: Space shows the answer,
1-4 grade, U undoes, D opens the card's demo (with the card's parameters) under the card.

Each shown card carries its idempotency key (a double submit records one answer), its
version (a card answered in another tab is refused by the scheduler), and the time it
was shown (time to answer: measured in the browser, or from the form's age without JS).
"""

from __future__ import annotations

from typing import Annotated, Any, NamedTuple
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.db import session_scope, write_session
from app.models.review import GradeIn
from app.models.user import UserPublic
from app.services import practice
from app.services.exercises.catalog import LINKS_TTL_S
from app.services.scheduling import service as scheduler
from app.services.scheduling import tag_study
from app.web.deps import CsrfProtected, CurrentUser, EngineDep, run_db
from app.web.exercise_panel import exercise_service
from app.web.i18n import gettext_for, normalise
from app.web.review_forms import answer_form_fields, duration_of, interval_text
from app.web.templating import no_store, templates

router = APIRouter()

NOTICE_CODES = (
    "conflict", "unavailable", "undone", "nothing_to_undo", "stale", "error", "buried",
    "suspended", "flagged", "unflagged", "more_new",
)  # fmt: skip


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _notice(code: str | None, lang: str, detail: dict[str, str] | None = None) -> str | None:
    _ = gettext_for(lang)
    detail = detail or {}
    messages = {
        "conflict": _(
            "That card changed in another tab or window; nothing was recorded. "
            "Here is your next card."
        ),
        "unavailable": _("That card is no longer available; nothing was recorded."),
        "undone": _("Took back your last answer. Answer this card again."),
        "nothing_to_undo": _("There is no answer to take back."),
        "stale": _("The form was incomplete; nothing was recorded."),
        "error": _("Nothing was recorded: %(message)s") % {"message": detail.get("message", "")},
        "buried": _("Buried until tomorrow. Here is your next card."),
        "suspended": _("Suspended: it will not come up until you unsuspend it on its page."),
        "flagged": _("Flagged."),
        "unflagged": _("Flag removed."),
        "more_new": _("Today's new-card limit is raised."),
    }
    return messages.get(code or "")


STUDY_DECK_COOKIE = "study_deck"  # Anki's "Study now" on one deck; absent: all decks
STUDY_TAG_COOKIE = "study_tag"  # "Study now" on one tag (Anki's filtered deck tag:X)


class Scope(NamedTuple):
    """What this learner chose to study on this device: one deck (and its sub-decks),
    one tag, or everything (both None)."""

    deck: str | None = None
    tag: str | None = None


def study_scope(request: Request) -> Scope:
    """The deck or tag this learner chose to study on this device, if any."""
    tag = (request.cookies.get(STUDY_TAG_COOKIE) or "").strip()[: tag_study.MAX_TAG_LENGTH]
    if tag:
        return Scope(tag=tag)
    deck = (request.cookies.get(STUDY_DECK_COOKIE) or "").strip("/")
    return Scope(deck=deck[:200] or None)


def stage_context(
    engine: Any,
    user: UserPublic,
    *,
    card_id: str | None = None,
    notice: str | None = None,
    scope: Scope = Scope(),
) -> dict[str, Any]:
    """Everything the stage shows: the card to answer (or the done screen), counts."""
    lang = normalise(user.locale) or "en"
    with session_scope(engine) as session:
        stage = practice.stage(
            session, user.id, lang, card_id=card_id, deck=scope.deck, tag=scope.tag
        )
    return context_of(stage, lang, notice, scope)


def context_of(
    stage: practice.Stage, lang: str, notice: str | None, scope: Scope = Scope()
) -> dict[str, Any]:
    """The stage template's context for a stage the services built."""
    shown = stage.shown
    buttons = []
    if shown:
        for b in shown.buttons:
            short, spoken = interval_text(b.seconds, lang)
            buttons.append({"rating": b.rating, "label": b.label, "short": short, "spoken": spoken})
    return {
        "shown": shown,
        "text": stage.text,
        "buttons": buttons,
        "counts": stage.counts,
        "outlook": stage.outlook,
        "notice": notice,
        "flag": stage.flag,
        "study_deck": scope.deck,
        "study_tag": scope.tag,
        **answer_form_fields(),
    }


def render_stage(request: Request, context: dict[str, Any], *, page: bool) -> Response:
    shown = context.get("shown")
    if shown is not None:  # the card's write-the-code exercise, opened under the card
        catalog = exercise_service(request).catalog
        context["exercise_name"] = catalog.exercise_of_card(shown.card_id, max_age_s=LINKS_TTL_S)
    return no_store(
        templates.TemplateResponse(
            request, "practice/page.html" if page else "practice/_stage.html", context
        )
    )


@router.get("/practice", response_class=HTMLResponse)
def practice_page(
    request: Request,
    user: CurrentUser,
    engine: EngineDep,
    card: str | None = None,
    notice: str | None = None,
    deck: str | None = None,
    tag: Annotated[str | None, Query(max_length=tag_study.MAX_TAG_LENGTH)] = None,
) -> Response:
    """The review page. `?deck=PATH` studies that deck (and its sub-decks) from now on
    on this device, `?tag=TAG` the cards with that tag; `?deck=` (empty) goes back to
    all decks."""
    lang = normalise(user.locale) or "en"
    code = notice if notice in NOTICE_CODES else None
    if tag and tag.strip():
        scope = Scope(tag=tag.strip())
    elif deck is not None:
        scope = Scope(deck=deck.strip("/")[:200] or None)
    else:
        scope = study_scope(request)
    context = stage_context(engine, user, card_id=card, notice=_notice(code, lang), scope=scope)
    response = render_stage(request, context, page=True)
    if scope.tag and tag:
        response.set_cookie(STUDY_TAG_COOKIE, scope.tag, samesite="lax", httponly=True)
        response.delete_cookie(STUDY_DECK_COOKIE)
    elif deck is not None:
        response.delete_cookie(STUDY_TAG_COOKIE)
        if scope.deck:
            response.set_cookie(STUDY_DECK_COOKIE, scope.deck, samesite="lax", httponly=True)
        else:
            response.delete_cookie(STUDY_DECK_COOKIE)
    return response


@router.get("/practice/stage", response_class=HTMLResponse)
def practice_stage(request: Request, user: CurrentUser, engine: EngineDep) -> Response:
    """The stage alone (htmx refresh, e.g. after coming back to the tab)."""
    return render_stage(
        request, stage_context(engine, user, scope=study_scope(request)), page=False
    )


def _refusal(error: scheduler.SchedulingError) -> tuple[str, dict[str, str]]:
    if isinstance(error, scheduler.GradeConflict):
        return "conflict", {}
    if isinstance(error, scheduler.CardNotAvailable):
        return "unavailable", {}
    return "error", {"message": error.message}


def _answer(
    engine: Any,
    user: UserPublic,
    lang: str,
    given: GradeIn | None,
    with_stage: bool,
    scope: Scope = Scope(),
) -> tuple[str | None, dict[str, str], practice.Stage | None]:
    """The database side of one grade request, run in one worker thread: grade (when the
    form was complete) and, for htmx, the next stage, in one transaction."""
    if given is None:  # nothing to record
        if not with_stage:
            return "stale", {}, None
        with session_scope(engine) as session:
            return (
                "stale",
                {},
                practice.stage(session, user.id, lang, deck=scope.deck, tag=scope.tag),
            )
    answer: dict[str, Any] = {
        "card_id": given.card_id,
        "rating": given.rating,
        "idempotency_key": given.idempotency_key,
        "expected_version": given.version,
        "duration_ms": given.duration_ms,
    }
    with write_session(engine) as session:
        if with_stage:
            result, stage = practice.answer(
                session, user.id, lang, **answer, deck=scope.deck, tag=scope.tag
            )
        else:
            stage = None
            try:
                result = scheduler.grade(session, user.id, **answer)
            except scheduler.SchedulingError as exc:
                result = exc
    code, detail = _refusal(result) if isinstance(result, scheduler.SchedulingError) else (None, {})
    return code, detail, stage


@router.post("/practice/grade", response_class=HTMLResponse)
async def grade(
    request: Request,
    user: CurrentUser,
    _: CsrfProtected,
    engine: EngineDep,
    card_id: Annotated[str, Form(max_length=64)] = "",
    version: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form(max_length=64)] = "",
    rating: Annotated[str, Form()] = "",
    duration_ms: Annotated[str, Form()] = "",
    shown_at: Annotated[str, Form()] = "",
) -> Response:
    # async, with all database work in one run_in_threadpool call: a sync route would
    # take a pool thread per dependency as well, and the threads would queue for the
    # SQLite writer lock anyway.
    lang = normalise(user.locale) or "en"
    answer: GradeIn | None = None
    try:  # the same typed model as the JSON API's body; an incomplete form is "stale"
        answer = GradeIn.model_validate(
            {"card_id": card_id, "rating": rating, "version": version,
             "idempotency_key": idempotency_key, "duration_ms": duration_of(duration_ms, shown_at)}
        )  # fmt: skip
    except ValidationError:
        answer = None
    htmx = is_htmx(request)
    scope = study_scope(request)
    code, detail, stage = await run_db(engine, _answer, engine, user, lang, answer, htmx, scope)
    if not htmx or stage is None:
        target = "/practice" + (f"?notice={code}" if code else "")
        return RedirectResponse(target, status_code=303)
    context = context_of(stage, lang, _notice(code, lang, detail), scope)
    return render_stage(request, context, page=False)


@router.post("/practice/undo", response_class=HTMLResponse)
def undo(request: Request, user: CurrentUser, _: CsrfProtected, engine: EngineDep) -> Response:
    lang = normalise(user.locale) or "en"
    card_id: str | None = None
    try:
        with write_session(engine) as session:
            card_id = scheduler.undo(session, user.id).card_id
        code = "undone"
    except scheduler.NothingToUndo:
        code = "nothing_to_undo"
    if not is_htmx(request):
        query = {"notice": code, **({"card": card_id} if card_id else {})}
        return RedirectResponse("/practice?" + urlencode(query), status_code=303)
    context = stage_context(
        engine, user, card_id=card_id, notice=_notice(code, lang), scope=study_scope(request)
    )
    return render_stage(request, context, page=False)


# --- the card's tools: bury, suspend, flag, info (Anki's -, @, Ctrl+1..4, I) ---------


def _tool_response(
    request: Request, engine: Any, user: UserPublic, code: str, card_id: str | None = None
) -> Response:
    """The next stage (or the same card, after a flag) with the tool's notice."""
    lang = normalise(user.locale) or "en"
    if not is_htmx(request):
        query = {"notice": code, **({"card": card_id} if card_id else {})}
        return RedirectResponse("/practice?" + urlencode(query), status_code=303)
    context = stage_context(
        engine, user, card_id=card_id, notice=_notice(code, lang), scope=study_scope(request)
    )
    return render_stage(request, context, page=False)


def _card_tool(engine: Any, user: UserPublic, action: Any) -> str | None:
    """Runs one write; the scheduler's refusal as a notice code, else None."""
    try:
        with write_session(engine) as session:
            action(session)
    except scheduler.SchedulingError as exc:
        return _refusal(exc)[0]
    return None


@router.post("/practice/bury", response_class=HTMLResponse)
def bury_card(
    request: Request,
    user: CurrentUser,
    _: CsrfProtected,
    engine: EngineDep,
    card_id: Annotated[str, Form(min_length=1, max_length=64)],
) -> Response:
    refused = _card_tool(engine, user, lambda s: scheduler.bury(s, user.id, card_id))
    return _tool_response(request, engine, user, refused or "buried")


@router.post("/practice/suspend", response_class=HTMLResponse)
def suspend_card(
    request: Request,
    user: CurrentUser,
    _: CsrfProtected,
    engine: EngineDep,
    card_id: Annotated[str, Form(min_length=1, max_length=64)],
) -> Response:
    refused = _card_tool(engine, user, lambda s: scheduler.set_suspended(s, user.id, card_id, True))
    return _tool_response(request, engine, user, refused or "suspended")


@router.post("/practice/flag", response_class=HTMLResponse)
def flag_card(
    request: Request,
    user: CurrentUser,
    _: CsrfProtected,
    engine: EngineDep,
    card_id: Annotated[str, Form(min_length=1, max_length=64)],
    flag: Annotated[int, Form(ge=0, le=4)],
) -> Response:
    refused = _card_tool(engine, user, lambda s: scheduler.set_flag(s, user.id, card_id, flag))
    code = refused or ("flagged" if flag else "unflagged")
    return _tool_response(request, engine, user, code, card_id=None if refused else card_id)


@router.get("/practice/info/{card_id}", response_class=HTMLResponse)
def card_info(request: Request, card_id: str, user: CurrentUser, engine: EngineDep) -> Response:
    """The card's review history and FSRS state (Anki's card info), under the card."""
    with session_scope(engine) as session:
        history = practice.card_history(session, user.id, card_id)
    page = "practice/_info.html" if is_htmx(request) else "practice/info_page.html"
    return templates.TemplateResponse(request, page, {"history": history, "card_id": card_id})
