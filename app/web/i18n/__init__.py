"""Interface translations: gettext catalogs (``<lang>/LC_MESSAGES/messages.po``) read with
Babel, and Jinja2's i18n extension wired to the request's language.

The language of a page is ``ui_lang`` in the template context: the logged-in learner's
``User.locale``, else the ``lang`` cookie, else the browser's Accept-Language. Catalogs
are compiled in memory from the ``.po`` files on first use (no binary ``.mo`` in git).

Updating the catalogs after changing templates::

    .venv/bin/pybabel extract -F app/web/i18n/babel.cfg -o app/web/i18n/messages.pot app/web
    .venv/bin/pybabel update -i app/web/i18n/messages.pot -d app/web/i18n
"""

from __future__ import annotations

import gettext as stdlib_gettext
import io
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, pass_context
from starlette.requests import Request

I18N_DIR = Path(__file__).parent
DEFAULT_LANGUAGE = "en"
LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}  # code -> its own name
LANG_COOKIE = "lang"
THEME_COOKIE = "theme"
THEMES = ("auto", "light", "dark")


@cache
def translations(lang: str) -> stdlib_gettext.NullTranslations:
    """The catalog for `lang` (a NullTranslations for English or a missing catalog)."""
    po = I18N_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT_LANGUAGE or not po.is_file():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain="messages")


def normalise(lang: str | None) -> str | None:
    """A supported language code for `lang` ("zh-CN" -> "zh"), or None."""
    if not lang:
        return None
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The first supported language of an Accept-Language header, by its q-values."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        piece = part.strip().split(";")
        q = 1.0
        for param in piece[1:]:
            if param.strip().startswith("q="):
                try:
                    q = float(param.strip()[2:])
                except ValueError:
                    q = 0.0
        ranked.append((-q, index, piece[0]))
    for _q, _i, tag in sorted(ranked):
        code = normalise(tag)
        if code:
            return code
    return None


def request_language(request: Request) -> str:
    """The interface language for this request (see the module docstring). Cached."""
    cached = getattr(request.state, "ui_lang", None)
    if cached:
        return str(cached)
    from app.web.security import resolve_user

    user = resolve_user(request)
    lang = (
        (normalise(user.locale) if user is not None else None)
        or normalise(request.cookies.get(LANG_COOKIE))
        or from_accept_language(request.headers.get("accept-language"))
        or DEFAULT_LANGUAGE
    )
    request.state.ui_lang = lang
    return lang


def gettext_for(lang: str) -> Any:
    """`_` for Python code that builds user-facing text (flash notices, chart labels)."""
    return translations(lang).gettext


def request_theme(request: Request) -> str:
    """The saved colour theme (settings page; a cookie, as it belongs to the device)."""
    theme = request.cookies.get(THEME_COOKIE, "auto")
    return theme if theme in THEMES else "auto"


def template_context(request: Request) -> dict[str, Any]:
    """Jinja context processor: ``ui_lang``, ``languages`` and ``ui_theme``."""
    return {
        "ui_lang": request_language(request),
        "languages": LANGUAGES,
        "ui_theme": request_theme(request),
    }


@pass_context
def _gettext(context: Any, message: str) -> str:
    return translations(context.get("ui_lang") or DEFAULT_LANGUAGE).gettext(message)


@pass_context
def _ngettext(context: Any, singular: str, plural: str, n: int) -> str:
    return translations(context.get("ui_lang") or DEFAULT_LANGUAGE).ngettext(singular, plural, n)


def install(env: Environment) -> None:
    """Adds jinja2.ext.i18n with new-style gettext (``{{ _("Due %(n)s", n=3) }}``,
    autoescaped, %-formatting) that follows each render's ``ui_lang``."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
