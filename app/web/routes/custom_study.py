"""Custom study (Anki's "Custom study" screen): raise today's new-card limit, review
ahead (cards due in the next N days, reviewed now and scheduled as usual), cram a deck
(answers logged, schedule untouched). Plain forms that post and redirect; the keys of
the review page (Space, 1-4) work on them too (static/js/practice.js)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.db import session_scope, write_session
from app.models.review import GradeIn
from app.services import practice
from app.services.scheduling import custom_study
from app.services.scheduling import service as scheduler
from app.web.deps import CsrfProtected, CurrentUser, EngineDep
from app.web.i18n import normalise
from app.web.review_forms import answer_form_fields, duration_of, interval_text
from app.web.templating import no_store, templates

router = APIRouter()


def _session_start(since: str) -> datetime:
    """A custom-study session's start (cards answered since then do not come again)."""
    try:
        parsed = datetime.fromisoformat(since)
    except ValueError:
        return datetime.now(UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@router.get("/practice/cram", response_class=HTMLResponse)
def cram_page(
    request: Request,
    user: CurrentUser,
    engine: EngineDep,
    deck: Annotated[str, Query(min_length=1, max_length=200)],
    since: str = "",
) -> Response:
    """One card of the deck after another, whatever their due dates; the answers are
    logged as "cram" and leave the schedule alone."""
    if not since:
        query = urlencode({"deck": deck, "since": datetime.now(UTC).isoformat()})
        return RedirectResponse(f"/practice/cram?{query}", status_code=303)
    lang = normalise(user.locale) or "en"
    with session_scope(engine) as session:
        shown = scheduler.next_cram_card(
            session, user.id, deck=deck.strip("/"), since=_session_start(since)
        )
        text = practice.card_text(session, shown.card_id, lang) if shown else None
    context = {
        "deck": deck,
        "since": since,
        "shown": shown,
        "text": text,
        **answer_form_fields(),
    }
    return no_store(templates.TemplateResponse(request, "practice/cram.html", context))


@router.post("/practice/cram/grade")
def cram_grade(
    user: CurrentUser,
    _: CsrfProtected,
    engine: EngineDep,
    deck: Annotated[str, Form(min_length=1, max_length=200)],
    since: Annotated[str, Form(max_length=64)] = "",
    card_id: Annotated[str, Form(max_length=64)] = "",
    version: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form(max_length=64)] = "",
    rating: Annotated[str, Form()] = "",
    duration_ms: Annotated[str, Form()] = "",
    shown_at: Annotated[str, Form()] = "",
) -> Response:
    try:
        given = GradeIn.model_validate(
            {"card_id": card_id, "rating": rating, "version": version, "kind": "cram",
             "idempotency_key": idempotency_key, "duration_ms": duration_of(duration_ms, shown_at)}
        )  # fmt: skip
    except ValidationError:
        given = None
    if given is not None:
        with contextlib.suppress(scheduler.SchedulingError), write_session(engine) as session:
            scheduler.grade(
                session, user.id, given.card_id, given.rating,
                idempotency_key=given.idempotency_key, expected_version=given.version,
                duration_ms=given.duration_ms, kind="cram",
            )  # fmt: skip
    return RedirectResponse(
        "/practice/cram?" + urlencode({"deck": deck, "since": since}), status_code=303
    )


@router.post("/practice/custom/new")
def raise_new_limit(
    user: CurrentUser,
    _: CsrfProtected,
    engine: EngineDep,
    more: Annotated[int, Form(ge=1, le=9999)],
) -> Response:
    """Custom study: `more` new cards today only (Anki's "increase today's limit")."""
    with write_session(engine) as session:
        scheduler.raise_new_limit(session, user.id, more)
    return RedirectResponse("/practice?notice=more_new", status_code=303)


# --- review ahead -------------------------------------------------------------------

AHEAD_NOTICES = {"refused"}


def _ahead_query(days: int, deck: str | None, since: str, **extra: str) -> str:
    query = {"days": str(days), **({"deck": deck} if deck else {}), "since": since, **extra}
    return "/practice/ahead?" + urlencode(query)


def _deck_of(deck: str) -> str | None:
    return deck.strip("/")[:200] or None


@router.get("/practice/ahead", response_class=HTMLResponse)
def ahead_page(
    request: Request,
    user: CurrentUser,
    engine: EngineDep,
    days: Annotated[int, Query(ge=1, le=custom_study.MAX_AHEAD_DAYS)] = 1,
    deck: Annotated[str, Query(max_length=200)] = "",
    since: Annotated[str, Query(max_length=64)] = "",
    notice: str = "",
) -> Response:
    """Review ahead: the cards due in the next `days` days (of `deck` and its sub-decks,
    or all decks), one after another, earliest due first; answers are ordinary reviews."""
    scope = _deck_of(deck)
    if not since:
        return RedirectResponse(
            _ahead_query(days, scope, datetime.now(UTC).isoformat()), status_code=303
        )
    lang = normalise(user.locale) or "en"
    with session_scope(engine) as session:
        stage = practice.review_ahead_stage(
            session, user.id, lang, days=days, since=_session_start(since), deck=scope
        )
    buttons: list[dict[str, Any]] = []
    for b in stage.shown.buttons if stage.shown else []:
        short, spoken = interval_text(b.seconds, lang)
        buttons.append({"rating": b.rating, "label": b.label, "short": short, "spoken": spoken})
    context = {
        "days": days,
        "deck": scope,
        "since": since,
        "shown": stage.shown,
        "text": stage.text,
        "left": stage.left,
        "buttons": buttons,
        "refused": notice in AHEAD_NOTICES,
        **answer_form_fields(),
    }
    return no_store(templates.TemplateResponse(request, "practice/ahead.html", context))


@router.post("/practice/ahead/grade")
def ahead_grade(
    user: CurrentUser,
    _: CsrfProtected,
    engine: EngineDep,
    days: Annotated[int, Form(ge=1, le=custom_study.MAX_AHEAD_DAYS)],
    deck: Annotated[str, Form(max_length=200)] = "",
    since: Annotated[str, Form(max_length=64)] = "",
    card_id: Annotated[str, Form(max_length=64)] = "",
    version: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form(max_length=64)] = "",
    rating: Annotated[str, Form()] = "",
    duration_ms: Annotated[str, Form()] = "",
    shown_at: Annotated[str, Form()] = "",
) -> Response:
    """One review-ahead answer, graded and logged as an ordinary review."""
    extra: dict[str, str] = {}
    try:
        given = GradeIn.model_validate(
            {"card_id": card_id, "rating": rating, "version": version,
             "idempotency_key": idempotency_key, "duration_ms": duration_of(duration_ms, shown_at)}
        )  # fmt: skip
    except ValidationError:
        given = None
        extra = {"notice": "refused"}
    if given is not None:
        try:
            with write_session(engine) as session:
                scheduler.grade(
                    session, user.id, given.card_id, given.rating,
                    idempotency_key=given.idempotency_key, expected_version=given.version,
                    duration_ms=given.duration_ms,
                )  # fmt: skip
        except scheduler.SchedulingError:
            extra = {"notice": "refused"}  # answered in another tab, or gone: nothing recorded
    return RedirectResponse(_ahead_query(days, _deck_of(deck), since, **extra), status_code=303)
