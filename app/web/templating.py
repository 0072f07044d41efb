"""The one Jinja environment the pages share."""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from app.web import demo_texts, i18n, plain_problems
from app.web.security import template_context

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

# Every page gets current_user (UserPublic or None), csrf_token and signup_open, and
# ui_lang / languages for the interface translation (app.web.i18n).
templates = Jinja2Templates(
    directory=str(TEMPLATES_DIR), context_processors=[template_context, i18n.template_context]
)
i18n.install(templates.env)

# The demo panel reads its words statically from the demo file, in the page's language.
templates.env.globals["demo_panel_texts"] = demo_texts.panel_texts
templates.env.globals["demo_panel_ui"] = demo_texts.panel_ui
templates.env.globals["demo_param_list"] = demo_texts.panel_params
templates.env.filters["plain_problem"] = plain_problems.plain


def no_store(response: Response) -> Response:
    """Never cached: Back must not show a stale step or an answered card."""
    response.headers["Cache-Control"] = "no-store"
    return response
