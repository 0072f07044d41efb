"""The mock interview as read: its settings, refusals, ratings from a key-point share,
and the step a learner is at (the question, its key points, the time left). Nothing here
writes; ``service`` holds the steps that change an interview."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlmodel import Session

from app.models.card import Card, CardTranslation
from app.models.interview import MockInterview, MockQuestion
from app.services.errors import ServiceError
from app.services.interview import follow_ups as follow_ups_text
from app.services.interview import matching, selection
from app.services.scheduling.clock import SYSTEM_CLOCK, Clock

DEFAULT_LANG = "en"
LATE_GRACE = timedelta(seconds=3)  # network and the auto-submit at zero are not "late"
# The page's countdown runs from the page load, a little after the server's clock: an
# answer this close to the deadline was handed in by the clock reaching zero.
TIMER_SLACK = timedelta(milliseconds=500)
FOLLOW_UP_MIN_S = 45
UNLINKED_FOLLOW_UP_S = 60
MAX_ANSWER_CHARS = 20_000

# Share of key points covered -> FSRS rating. Documented on the report page.
RATING_MAPPING = (
    # (lowest share, rating): the first row whose share the answer reaches
    (1.0, 4),  # every key point, on time: Easy (a late full answer: Good)
    (0.7, 3),  # Good
    (0.4, 2),  # Hard
    (0.0, 1),  # Again (a skip, or under 40%)
)


class InterviewError(ServiceError):
    code = "interview_error"


class NotFound(InterviewError):
    code, status = "not_found", 404


class StaleStep(InterviewError):
    code, status = "stale_step", 409


class InterviewConfig(BaseModel):
    """What the start screen asks. `minutes` wins over `questions` when both are given."""

    questions: int | None = Field(default=5, ge=1, le=30)
    minutes: int | None = Field(default=None, ge=1, le=180)
    decks: list[str] = Field(default_factory=list, max_length=50)
    weakest: bool = False
    difficulties: list[str] = Field(default_factory=list)
    follow_ups: bool = True
    lang: str = Field(default=DEFAULT_LANG, pattern="^[a-z]{2,3}$")
    seed: int | None = None

    @field_validator("difficulties")
    @classmethod
    def _difficulties(cls, value: list[str]) -> list[str]:
        bad = [d for d in value if d not in selection.DIFFICULTIES]
        if bad:
            raise ValueError(f"difficulty must be easy, medium or hard, got {bad[0]!r}")
        return value


def rating_for(score: float, *, skipped: bool = False, late: bool = False) -> int:
    """The FSRS rating of one answer from its share of key points covered."""
    if skipped:
        return 1
    for lowest, rating in RATING_MAPPING:
        if score >= lowest - 1e-9:
            return 3 if rating == 4 and late else rating
    return 1


# --- reading ---------------------------------------------------------------------------


@dataclass
class Point:
    html: str
    text: str
    suggested: bool
    ticked: bool
    words: tuple[str, ...] = ()  # the learner's own words that matched this point


@dataclass
class Step:
    """What the interview page shows now."""

    interview: MockInterview
    question: MockQuestion | None  # None: finished or discarded
    phase: str  # answering | reviewing | finished | discarded
    main_index: int  # 1-based number of the current main question
    main_total: int
    remaining_ms: int  # of the current answer's budget (negative: over time)
    title: str = ""
    question_html: str = ""
    answer_html: str = ""
    points: list[Point] = field(default_factory=list)
    self_check: bool = False  # no key points: one "covered the model answer" item
    demo_name: str | None = None
    prompt_html: str = ""  # a follow-up's wording as HTML (math, no linked card title)
    timed_out: bool = False  # handed in when the clock reached zero (not late: in the grace)


def translations(session: Session, card_id: str) -> dict[str, CardTranslation]:
    rows = session.execute(
        select(CardTranslation).where(CardTranslation.card_id == card_id)  # type: ignore[arg-type]
    ).scalars()
    return {row.lang: row for row in rows}


def text_in(by_lang: dict[str, CardTranslation], lang: str) -> CardTranslation | None:
    return by_lang.get(lang) or by_lang.get(DEFAULT_LANG) or next(iter(by_lang.values()), None)


def key_points(
    session: Session, card_id: str | None, lang: str
) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """(the card's key points in `lang`, the same in its other languages)."""
    if card_id is None:
        return [], []
    by_lang = translations(session, card_id)
    text = text_in(by_lang, lang)
    if text is None:
        return [], []
    others = [list(t.key_points or []) for code, t in by_lang.items() if code != text.lang]
    return list(text.key_points or []), others


def get_interview(session: Session, user_id: int, interview_id: int) -> MockInterview:
    """The learner's interview, or NotFound (another learner's is not found either)."""
    row = session.get(MockInterview, interview_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"no mock interview {interview_id}")
    return row


def active_interview(session: Session, user_id: int) -> MockInterview | None:
    """The learner's unfinished interview (to resume or discard), if any."""
    return session.execute(
        select(MockInterview)
        .where(MockInterview.user_id == user_id, MockInterview.status == "active")  # type: ignore[arg-type]
        .order_by(MockInterview.id.desc())  # type: ignore[union-attr]
        .limit(1)
    ).scalar_one_or_none()


def questions(session: Session, interview_id: int) -> list[MockQuestion]:
    return list(
        session.execute(
            select(MockQuestion)
            .where(MockQuestion.interview_id == interview_id)  # type: ignore[arg-type]
            .order_by(MockQuestion.position)  # type: ignore[arg-type]
        ).scalars()
    )


def current_question(session: Session, interview: MockInterview) -> MockQuestion | None:
    asked = questions(session, interview.id or 0)
    return asked[-1] if asked else None


def prompt_html(session: Session, q: MockQuestion, lang: str) -> str:
    """A follow-up's wording as HTML from its asking card, else its stored text escaped."""
    if q.parent_card_id:
        by_lang = translations(session, q.parent_card_id)
        for text in (text_in(by_lang, lang), by_lang.get(DEFAULT_LANG)):
            found = follow_ups_text.find_html(list(text.follow_ups or []) if text else [], q.prompt)
            if found is not None:
                return found
    return html.escape(q.prompt)


def step(session: Session, user_id: int, interview_id: int, *, clock: Clock = SYSTEM_CLOCK) -> Step:
    """The interview's current step, computed from the stored state and the clock."""
    interview = get_interview(session, user_id, interview_id)
    asked = questions(session, interview_id)
    main_total = len(interview.plan)
    main_index = sum(1 for q in asked if q.kind == "main")
    if interview.status != "active" or not asked:
        return Step(interview, None, interview.status, main_index, main_total, 0)
    q = asked[-1]
    phase = "answering" if q.answered_at is None else "reviewing"
    now = clock.now()
    remaining = int((q.deadline_at - now).total_seconds() * 1000) if phase == "answering" else 0
    view = Step(interview, q, phase, main_index, main_total, remaining)
    if q.answered_at is not None and not q.skipped:
        view.timed_out = q.answered_at >= q.deadline_at - TIMER_SLACK
    lang = interview.lang
    if q.card_id is not None:
        by_lang = translations(session, q.card_id)
        text = text_in(by_lang, lang)
        card = session.get(Card, q.card_id)
        if text is not None:
            view.title = text.title
            view.answer_html = text.answer_html
            view.question_html = text.question_html
        if card is not None and card.demo_path:
            view.demo_name = card.demo_path.rsplit("/", 1)[-1].removesuffix(".py")
    points, others = key_points(session, q.card_id, lang)
    if q.kind == "follow_up":
        view.question_html = ""  # the follow-up's own wording is the question
        view.prompt_html = prompt_html(session, q, lang)
    if not points:
        view.self_check = True
        points = [{"html": "", "text": ""}]
    ticks = q.ticks or q.suggested or [False] * len(points)
    suggested = q.suggested or [False] * len(points)
    # Which of the learner's words matched each point, shown beside it (as Interview
    # Warmup highlights talking points); computed again, the answer is short.
    words: list[tuple[str, ...]] = [()] * len(points)
    if phase == "reviewing" and q.answer and not view.self_check:
        words = [m.words for m in matching.match(q.answer, points, alternates=others)]
    view.points = [
        Point(
            str(p.get("html", "")),
            str(p.get("text", "")),
            bool(suggested[i]) if i < len(suggested) else False,
            bool(ticks[i]) if i < len(ticks) else False,
            words[i] if i < len(words) else (),
        )
        for i, p in enumerate(points)
    ]
    return view
