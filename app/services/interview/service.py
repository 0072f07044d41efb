"""The mock-interview flow, held on the server.

start -> for each question: answer (Done, Skip, or time out: recorded late) -> confirm
the key-point ticks -> a follow-up (answered the same way) -> the next question ...
-> finish, which rates each answered card and records it in the review log as kind
"mock" through the scheduler's FSRS review (app.services.scheduling.service.grade).

Every step names the question position it answers, so a double submit, a second
device or a stale page changes nothing (``StaleStep``). Functions that write run
inside ``session_scope(engine, write=True)``.
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlmodel import Session

from app.models.card import Card, CardTranslation
from app.models.interview import MockInterview, MockQuestion
from app.models.review import ReviewState
from app.services.errors import ServiceError
from app.services.interview import follow_ups as follow_ups_text
from app.services.interview import matching, selection
from app.services.scheduling import service as scheduler
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


def _translations(session: Session, card_id: str) -> dict[str, CardTranslation]:
    rows = session.execute(
        select(CardTranslation).where(CardTranslation.card_id == card_id)  # type: ignore[arg-type]
    ).scalars()
    return {row.lang: row for row in rows}


def _text(by_lang: dict[str, CardTranslation], lang: str) -> CardTranslation | None:
    return by_lang.get(lang) or by_lang.get(DEFAULT_LANG) or next(iter(by_lang.values()), None)


def key_points(
    session: Session, card_id: str | None, lang: str
) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """(the card's key points in `lang`, the same in its other languages)."""
    if card_id is None:
        return [], []
    by_lang = _translations(session, card_id)
    text = _text(by_lang, lang)
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


def _current(session: Session, interview: MockInterview) -> MockQuestion | None:
    asked = questions(session, interview.id or 0)
    return asked[-1] if asked else None


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
        by_lang = _translations(session, q.card_id)
        text = _text(by_lang, lang)
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


# --- writing ----------------------------------------------------------------------------


def _budget(card: Card | None) -> int:
    return (
        card.answer_time_s if card and card.answer_time_s else None
    ) or selection.DEFAULT_BUDGET_S


def _ask(
    session: Session,
    interview: MockInterview,
    position: int,
    *,
    kind: str,
    card_id: str | None,
    parent: str | None,
    deck: str,
    prompt: str,
    budget_s: int,
    now: datetime,
) -> MockQuestion:
    q = MockQuestion(
        interview_id=interview.id or 0,
        position=position,
        kind=kind,
        card_id=card_id,
        parent_card_id=parent,
        deck=deck,
        prompt=prompt,
        budget_s=budget_s,
        started_at=now,
        deadline_at=now + timedelta(seconds=budget_s),
    )
    session.add(q)
    interview.updated_at = now
    session.add(interview)
    session.flush()
    return q


def _ask_main(
    session: Session, interview: MockInterview, index: int, position: int, now: datetime
) -> MockQuestion:
    card_id = interview.plan[index]
    card = session.get(Card, card_id)
    return _ask(
        session,
        interview,
        position,
        kind="main",
        card_id=card_id,
        parent=None,
        deck=card.deck if card else "",
        prompt="",
        budget_s=_budget(card),
        now=now,
    )


def start(
    session: Session, user_id: int, config: InterviewConfig, *, clock: Clock = SYSTEM_CLOCK
) -> MockInterview:
    """A new interview with its first question on the clock. An unfinished earlier
    interview is discarded (the start page offers to resume it first)."""
    now = clock.now()
    pool = selection.candidates(
        session, user_id, decks=config.decks, difficulties=config.difficulties, now=now
    )
    if not pool:
        raise InterviewError("No cards match these decks and difficulties.")
    if config.minutes:
        n = selection.questions_for_minutes(config.minutes, pool, config.follow_ups)
    else:
        n = config.questions or 5
    rng = random.Random(config.seed)
    plan = selection.choose(pool, n, weakest=config.weakest, rng=rng)
    for old in session.execute(
        select(MockInterview).where(
            MockInterview.user_id == user_id,  # type: ignore[arg-type]
            MockInterview.status == "active",  # type: ignore[arg-type]
        )
    ).scalars():
        old.status, old.updated_at = "discarded", now
        session.add(old)
    interview = MockInterview(
        user_id=user_id,
        status="active",
        lang=config.lang,
        config=config.model_dump(),
        plan=plan,
        created_at=now,
        updated_at=now,
    )
    session.add(interview)
    session.flush()
    _ask_main(session, interview, 0, 0, now)
    return interview


def _open(
    session: Session, user_id: int, interview_id: int, position: int
) -> tuple[MockInterview, MockQuestion]:
    interview = get_interview(session, user_id, interview_id)
    if interview.status != "active":
        raise StaleStep(f"this interview is {interview.status}")
    q = _current(session, interview)
    if q is None or q.position != position:
        raise StaleStep("that question was already answered (another tab or device?)")
    return interview, q


def save_draft(
    session: Session,
    user_id: int,
    interview_id: int,
    position: int,
    text: str,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """Keep the answer being typed, so a reload or another device finds it."""
    interview, q = _open(session, user_id, interview_id, position)
    if q.answered_at is not None:
        raise StaleStep("that answer was already handed in")
    q.draft = text[:MAX_ANSWER_CHARS]
    interview.updated_at = clock.now()
    session.add_all([q, interview])
    session.flush()


def answer(
    session: Session,
    user_id: int,
    interview_id: int,
    position: int,
    text: str,
    *,
    skip: bool = False,
    clock: Clock = SYSTEM_CLOCK,
) -> MockQuestion:
    """Hand in the answer (Done or time out) or skip. After the deadline (plus a small
    grace) it is recorded as late, never refused. Pre-ticks the key points it covers."""
    interview, q = _open(session, user_id, interview_id, position)
    if q.answered_at is not None:
        raise StaleStep("that answer was already handed in")
    now = clock.now()
    q.answer = "" if skip else text[:MAX_ANSWER_CHARS]
    q.draft = q.answer
    q.answered_at = now
    q.skipped = skip
    q.late = now > q.deadline_at + LATE_GRACE
    points, others = key_points(session, q.card_id, interview.lang)
    if points:
        q.suggested = [m.covered for m in matching.match(q.answer, points, alternates=others)]
    else:
        q.suggested = [False]
    q.ticks = list(q.suggested)
    interview.updated_at = now
    session.add_all([q, interview])
    session.flush()
    return q


def prompt_html(session: Session, q: MockQuestion, lang: str) -> str:
    """A follow-up's wording as HTML from its asking card, else its stored text escaped."""
    if q.parent_card_id:
        by_lang = _translations(session, q.parent_card_id)
        for text in (_text(by_lang, lang), by_lang.get(DEFAULT_LANG)):
            found = follow_ups_text.find_html(list(text.follow_ups or []) if text else [], q.prompt)
            if found is not None:
                return found
    return html.escape(q.prompt)


def _follow_up(
    session: Session, interview: MockInterview, q: MockQuestion, now: datetime
) -> MockQuestion | None:
    """The interviewer's follow-up to main question `q`: the first of its card's
    follow-ups whose linked card is active and not yet in this interview, else the
    first follow-up (scored by self-check, schedule untouched). None: it has none."""
    if q.card_id is None:
        return None
    by_lang = _translations(session, q.card_id)
    text = _text(by_lang, interview.lang)
    follow_ups = list(text.follow_ups or []) if text else []
    if not follow_ups and DEFAULT_LANG in by_lang:  # a translation without its follow-ups
        follow_ups = list(by_lang[DEFAULT_LANG].follow_ups or [])
    if not follow_ups:
        return None
    used = set(interview.plan) | {x.card_id for x in questions(session, interview.id or 0)}
    chosen, linked = follow_ups[0], None
    for item in follow_ups:
        target = item.get("card_id")
        if target and target not in used:
            card = session.get(Card, target)
            state = session.get(ReviewState, (interview.user_id, target))
            if card is not None and card.status == "active" and not (state and state.suspended):
                chosen, linked = item, card
                break
    if linked is not None:
        budget = max(FOLLOW_UP_MIN_S, _budget(linked) // 2)
        deck = linked.deck
    else:
        budget, deck = UNLINKED_FOLLOW_UP_S, q.deck
    return _ask(
        session,
        interview,
        q.position + 1,
        kind="follow_up",
        card_id=linked.id if linked else None,
        parent=q.card_id,
        deck=deck,
        prompt=follow_ups_text.wording_text(chosen),
        budget_s=budget,
        now=now,
    )


def confirm(
    session: Session,
    user_id: int,
    interview_id: int,
    position: int,
    ticks: list[bool],
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> MockQuestion | None:
    """Record the learner's ticks for the answered question and move on: its follow-up,
    else the next main question, else finish. Returns the new question (None: done)."""
    interview, q = _open(session, user_id, interview_id, position)
    if q.answered_at is None:
        raise StaleStep("answer the question first")
    size = len(q.suggested) or 1
    ticks = (list(ticks) + [False] * size)[:size]
    if q.skipped:
        ticks = [False] * size  # a skip scores zero whatever is ticked
    now = clock.now()
    q.ticks, q.confirmed_at = ticks, now
    q.score = sum(ticks) / size
    session.add(q)
    session.flush()
    nxt = None
    if q.kind == "main" and interview.config.get("follow_ups", True):
        nxt = _follow_up(session, interview, q, now)
    if nxt is None:
        asked_main = sum(1 for x in questions(session, interview_id) if x.kind == "main")
        if asked_main < len(interview.plan):
            nxt = _ask_main(session, interview, asked_main, q.position + 1, now)
    if nxt is None:
        finish(session, user_id, interview_id, clock=clock)
    return nxt


def finish(
    session: Session, user_id: int, interview_id: int, *, clock: Clock = SYSTEM_CLOCK
) -> MockInterview:
    """Close the interview: its score, and each scored card's rating recorded through
    the scheduler as a kind "mock" review (idempotent per question). A card that is
    suspended or buried now keeps its schedule (rating kept, nothing logged)."""
    interview = get_interview(session, user_id, interview_id)
    if interview.status == "finished":
        return interview
    if interview.status != "active":
        raise StaleStep(f"this interview is {interview.status}")
    now = clock.now()
    done = [q for q in questions(session, interview_id) if q.confirmed_at is not None]
    for q in done:
        if q.card_id is None or q.rating is not None:
            continue
        q.rating = rating_for(q.score or 0.0, skipped=q.skipped, late=q.late)
        row = session.get(ReviewState, (user_id, q.card_id), populate_existing=True)
        duration = int(((q.answered_at or now) - q.started_at).total_seconds() * 1000)
        try:
            result = scheduler.grade(
                session,
                user_id,
                q.card_id,
                q.rating,
                idempotency_key=f"mock-{interview_id}-{q.position}",
                expected_version=row.version if row else 0,
                duration_ms=max(0, duration),
                kind="mock",
                clock=clock,
            )
            q.review_log_id = result.log_id
        except (scheduler.GradeConflict, scheduler.CardNotAvailable):
            q.review_log_id = None
        session.add(q)
    scores = [q.score or 0.0 for q in done]
    interview.score = sum(scores) / len(scores) if scores else 0.0
    interview.status, interview.finished_at, interview.updated_at = "finished", now, now
    session.add(interview)
    session.flush()
    return interview


def discard(
    session: Session, user_id: int, interview_id: int, *, clock: Clock = SYSTEM_CLOCK
) -> None:
    """Drop an unfinished interview: nothing of it reaches the schedule."""
    interview = get_interview(session, user_id, interview_id)
    if interview.status != "active":
        raise StaleStep(f"this interview is {interview.status}")
    interview.status, interview.updated_at = "discarded", clock.now()
    session.add(interview)
    session.flush()


def deck_choices(session: Session) -> list[str]:
    """Top-level decks with active cards, for the start screen."""
    decks = session.execute(select(Card.deck).where(Card.status == "active").distinct()).scalars()
    return sorted({d.split("/")[0] for d in decks})


def history(session: Session, user_id: int, limit: int = 50) -> list[MockInterview]:
    """The learner's interviews, newest first (discarded ones left out)."""
    return list(
        session.execute(
            select(MockInterview)
            .where(MockInterview.user_id == user_id, MockInterview.status != "discarded")  # type: ignore[arg-type]
            .order_by(MockInterview.created_at.desc(), MockInterview.id.desc())  # type: ignore[attr-defined, union-attr]
            .limit(limit)
        ).scalars()
    )
