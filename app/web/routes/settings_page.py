"""The learner's settings page: language, desired retention, new cards per day, day
rollover and time zone, interview date and minutes per day, theme."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.db import session_scope
from app.models.review import LearnerSettingsUpdate
from app.services import practice
from app.services.scheduling import optimizer
from app.services.scheduling import service as scheduler
from app.web.deps import CsrfProtected, CurrentUser, EngineDep, SessionDep
from app.web.i18n import (
    LANG_COOKIE,
    LANGUAGES,
    THEME_COOKIE,
    THEMES,
    gettext_for,
    normalise,
    request_theme,
)
from app.web.templating import templates

router = APIRouter()

FormStr = Annotated[str, Form()]
COOKIE_MAX_AGE_S = 365 * 24 * 3600
_ZONES: list[str] = []


def time_zones() -> list[str]:
    if not _ZONES:
        _ZONES.extend(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))
    return _ZONES


def _render(
    request: Request,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    saved: bool,
    status: int,
    fit: optimizer.FitReadiness | None = None,
) -> Response:
    return templates.TemplateResponse(
        request,
        "settings/page.html",
        {
            "fit": fit,
            "values": values,
            "errors": errors,
            "saved": saved,
            "zones": time_zones(),
            "themes": THEMES,
            "language_options": LANGUAGES,
        },
        status_code=status,
    )


@router.get("/settings", response_class=HTMLResponse)
def settings_page(
    request: Request, user: CurrentUser, session: SessionDep, saved: int = 0
) -> Response:
    row = scheduler.load_settings(session, user.id)
    values = {
        "language": normalise(user.locale) or "en",
        "theme": request_theme(request),
        "desired_retention": f"{row.desired_retention:.2f}",
        "new_per_day": str(row.new_per_day),
        "day_rollover_hour": str(row.day_rollover_hour),
        "time_zone": row.time_zone,
        "interview_on": row.interview_on.isoformat() if row.interview_on else "",
        # A default, so setting only a date saves at once (the model needs both).
        "interview_minutes_per_day": str(
            row.interview_minutes_per_day or DEFAULT_INTERVIEW_MINUTES
        ),
        "new_card_order": row.new_card_order,
    }
    fit = optimizer.readiness(session, user.id)
    return _render(request, values, {}, saved=bool(saved), status=200, fit=fit)


@router.post("/settings/optimize")
def optimize(user: CurrentUser, _: CsrfProtected, engine: EngineDep) -> Response:
    """Fit personal FSRS parameters in another process; the page shows its status."""
    with session_scope(engine, write=True) as session:
        optimizer.start_optimize_job(session, user.id)
    return RedirectResponse("/settings#fsrs-h", status_code=303)


DEFAULT_INTERVIEW_MINUTES = 30

FIELD_NAMES = {
    "desired_retention": "desired_retention",
    "new_per_day": "new_per_day",
    "day_rollover_hour": "day_rollover_hour",
    "time_zone": "time_zone",
    "interview_on": "interview_on",
    "interview_minutes_per_day": "interview_minutes_per_day",
    "new_card_order": "new_card_order",
}


@router.post("/settings", response_class=HTMLResponse)
def save_settings(
    request: Request,
    user: CurrentUser,
    _: CsrfProtected,
    engine: EngineDep,
    language: FormStr = "en",
    theme: FormStr = "auto",
    desired_retention: FormStr = "",
    new_per_day: FormStr = "",
    day_rollover_hour: FormStr = "",
    time_zone: FormStr = "",
    interview_on: FormStr = "",
    interview_minutes_per_day: FormStr = "",
    new_card_order: FormStr = "",
) -> Response:
    values = {
        "language": language,
        "theme": theme,
        "desired_retention": desired_retention.strip(),
        "new_per_day": new_per_day.strip(),
        "day_rollover_hour": day_rollover_hour.strip(),
        "time_zone": time_zone.strip(),
        "interview_on": interview_on.strip(),
        "interview_minutes_per_day": interview_minutes_per_day.strip(),
        "new_card_order": new_card_order.strip(),
    }
    lang = normalise(language)
    t = gettext_for(lang or normalise(user.locale) or "en")
    errors: dict[str, str] = {}
    if lang is None:
        errors["language"] = t("Choose a language from the list.")
    if theme not in THEMES:
        errors["theme"] = t("Choose a theme from the list.")
    data: dict[str, Any] = {
        "desired_retention": values["desired_retention"] or None,
        "new_per_day": values["new_per_day"] or None,
        "day_rollover_hour": values["day_rollover_hour"] or None,
        "time_zone": values["time_zone"] or None,
        # Empty clears the interview date and its minutes.
        "interview_on": values["interview_on"] or None,
        "interview_minutes_per_day": values["interview_minutes_per_day"] or None,
        "new_card_order": values["new_card_order"] or None,
    }
    data = {k: v for k, v in data.items() if v is not None or k.startswith("interview")}
    changes: LearnerSettingsUpdate | None = None
    try:
        changes = LearnerSettingsUpdate.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "form"
            errors[FIELD_NAMES.get(field, "form")] = t("Check this value: %(problem)s") % {
                "problem": err["msg"]
            }
    if values["time_zone"] and values["time_zone"] not in time_zones():
        errors["time_zone"] = t("Choose a time zone from the list.")
    if errors or changes is None:
        return _render(request, values, errors, saved=False, status=422)
    try:
        with session_scope(engine, write=True) as session:
            scheduler.update_settings(session, user.id, changes)
            practice.set_locale(session, user.id, lang or "en")
    except ValidationError as exc:  # a rule across fields, checked on the model
        if "interview_minutes_per_day" in str(exc):
            errors["interview_minutes_per_day"] = t(
                "Say how many minutes a day you can practise until the interview."
            )
        else:
            errors["form"] = t("Check this value: %(problem)s") % {"problem": str(exc)}
        return _render(request, values, errors, saved=False, status=422)
    response = RedirectResponse("/settings?saved=1", status_code=303)
    response.set_cookie(LANG_COOKIE, lang or "en", max_age=COOKIE_MAX_AGE_S, samesite="lax")
    response.set_cookie(THEME_COOKIE, theme, max_age=COOKIE_MAX_AGE_S, samesite="lax")
    return response
