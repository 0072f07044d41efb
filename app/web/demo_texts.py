"""The demo panel's words in the page's language: the demo's own texts (read statically
by app.demos.texts) and the panel's interface strings, handed to demo.js as JSON."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from app.demos.texts import LocalTexts, ParamInfo, demo_params, demo_texts
from app.web.i18n import gettext_for, request_language


def panel_texts(request: Request, name: str) -> LocalTexts | None:
    """The texts of demo `name` in this request's language (None: no such demo file)."""
    content_dir = request.app.state.settings.content_dir
    return demo_texts(content_dir, name, request_language(request))


def panel_ui(request: Request) -> dict[str, Any]:
    """The interface strings demo.js shows, translated."""
    _ = gettext_for(request_language(request))
    return {
        "starting": _("Starting…"),
        "queued": _("Queued…"),
        "running": _("Running…"),
        "done": _("Done"),
        "done_cached": _("Done (cached result)"),
        "failed": _("Failed"),
        "passed_mark": _("passed"),
        "failed_mark": _("failed"),
        "relied": _("this card relies on it"),
        "checks": _("Checks:"),
        "not_shown": _("These parameters do not show this effect."),
        "shown_when": _("It shows with: %(when)s."),
        "try_card": _("Reset to the card's parameters to see it."),
        "yes": _("yes"),
        "no": _("no"),
        "cached": _("cached result"),
        "ran_in": _("ran in %(ms)s ms"),
        "demo_failed": _("The demo failed."),
        "not_started": _("The run could not start."),
        "unreachable": _("The server could not be reached. Try again."),
        "log": _("(log)"),
    }


def panel_params(request: Request, path: str) -> list[ParamInfo]:
    """The parameters an author may set for the demo at `path` (the admin editor)."""
    return demo_params(request.app.state.settings.content_dir, path)
