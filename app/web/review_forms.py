"""What the review forms share (practice, cram, review ahead): a fresh answer key, the
buttons' interval text in the learner's language and the time to answer read from a
form."""

from __future__ import annotations

import secrets
import time
from typing import Any

from app.web.i18n import gettext_for, translations

MAX_DURATION_MS = 60 * 60 * 1000  # longer than an hour: the learner walked away


def answer_form_fields() -> dict[str, Any]:
    """A fresh idempotency key and the time the card is shown, for an answer form."""
    return {"idempotency_key": secrets.token_urlsafe(18), "shown_at": int(time.time() * 1000)}


def interval_text(seconds: int, lang: str) -> tuple[str, str]:
    """(short, spoken) text of an interval: ("10 min", "in 10 minutes")."""
    t = gettext_for(lang)
    n_ = translations(lang).ngettext
    if seconds < 3600:
        n = max(1, round(seconds / 60))
        return t("%(n)d min") % {"n": n}, n_("in %(n)d minute", "in %(n)d minutes", n) % {"n": n}
    if seconds < 86400:
        n = round(seconds / 3600)
        return t("%(n)d h") % {"n": n}, n_("in %(n)d hour", "in %(n)d hours", n) % {"n": n}
    days = round(seconds / 86400)
    if days < 31:
        return t("%(n)d d") % {"n": days}, n_("in %(n)d day", "in %(n)d days", days) % {"n": days}
    if days < 365:
        months = days / 30.4
        return t("%(n).1f mo") % {"n": months}, t("in %(n).1f months") % {"n": months}
    years = days / 365
    return t("%(n).1f y") % {"n": years}, t("in %(n).1f years") % {"n": years}


def duration_of(duration_ms: str, shown_at: str) -> int | None:
    """The time to answer: the browser's measure, else the form's age; None if unknown."""
    for raw, from_clock in ((duration_ms, False), (shown_at, True)):
        try:
            value = int(float(raw))
        except (TypeError, ValueError):
            continue
        if from_clock:
            value = int(time.time() * 1000) - value
        if value >= 0:
            return min(value, MAX_DURATION_MS)
    return None
