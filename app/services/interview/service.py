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

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from app.models.card import Card
from app.models.interview import MockInterview, MockQuestion
from app.models.review import ReviewState
from app.services.interview import follow_ups as follow_ups_text
from app.services.interview import matching, selection
from app.services.interview.reading import (  # noqa: F401  (re-exported)
    DEFAULT_LANG,
    FOLLOW_UP_MIN_S,
    LATE_GRACE,
    MAX_ANSWER_CHARS,
    RATING_MAPPING,
    TIMER_SLACK,
    UNLINKED_FOLLOW_UP_S,
    InterviewConfig,
    InterviewError,
    NotFound,
    Point,
    StaleStep,
    Step,
    active_interview,
    current_question,
    get_interview,
    key_points,
    prompt_html,
    questions,
    rating_for,
    step,
    text_in,
    translations,
)
from app.services.scheduling import service as scheduler
from app.services.scheduling.clock import SYSTEM_CLOCK, Clock

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
    q = current_question(session, interview)
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


def _follow_up(
    session: Session, interview: MockInterview, q: MockQuestion, now: datetime
) -> MockQuestion | None:
    """The interviewer's follow-up to main question `q`: the first of its card's
    follow-ups whose linked card is active and not yet in this interview, else the
    first follow-up (scored by self-check, schedule untouched). None: it has none."""
    if q.card_id is None:
        return None
    by_lang = translations(session, q.card_id)
    text = text_in(by_lang, interview.lang)
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
