"""The progress page: reviews per day, true retention, forecast, recall by deck, streak,
and in interview-date mode the predicted recall on the interview day."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.services import progress as progress_service
from app.web import charts
from app.web.deps import CurrentUser, SessionDep
from app.web.i18n import gettext_for, normalise
from app.web.templating import templates

router = APIRouter()


def _short(day: date, lang: str) -> str:
    return f"{day.month}/{day.day}" if lang == "zh" else day.strftime("%b %-d")


@router.get("/progress", response_class=HTMLResponse)
def progress_page(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    lang = normalise(user.locale) or "en"
    _ = gettext_for(lang)
    report = progress_service.report(session, user.id)
    history = report.reviews_per_day
    history_chart = charts.bar_chart(
        [d.isoformat() for d, _n in history],
        [n for _d, n in history],
        tick_labels=[_short(d, lang) for d, _n in history],
        tick_every=14,
    )
    forecast_chart = charts.bar_chart(
        [d.isoformat() for d, _n in report.forecast],
        [n for _d, n in report.forecast],
        tick_labels=[_("today")] + [_short(d, lang) for d, _n in report.forecast[1:]],
        tick_every=-7,
        css=["is-today"] + [""] * (len(report.forecast) - 1),
    )
    decks = report.recall.decks
    recall_chart = charts.share_bars(
        [d.deck for d in decks] + [_("All decks")],
        [d.recall_all for d in decks] + [report.recall.overall.recall_all],
        target=report.desired_retention,
    )
    interview_chart = None
    if report.interview is not None:
        ivd = report.interview.recall.decks
        interview_chart = charts.share_bars(
            [d.deck for d in ivd] + [_("All decks")],
            [d.recall_all for d in ivd] + [report.interview.recall.overall.recall_all],
            target=report.desired_retention,
        )
    return templates.TemplateResponse(
        request,
        "progress/page.html",
        {
            "report": report,
            "history_chart": history_chart,
            "forecast_chart": forecast_chart,
            "recall_chart": recall_chart,
            "interview_chart": interview_chart,
        },
    )
