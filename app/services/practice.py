"""What the review page shows around the scheduler: the card's text in the learner's
language, the "done for today" outlook, a card's history, the interface language.

Grading itself is the scheduler's (app.services.scheduling.service); this module only
reads its tables, apart from ``set_locale``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlmodel import Session, col

from app.db import read_rows
from app.models.card import Card, CardTranslation
from app.models.review import (
    FSRS_LEARNING,
    FSRS_RELEARNING,
    LearnerSettings,
    ReviewLog,
    ReviewState,
)
from app.models.user import User
from app.services.scheduling import custom_study, tag_study
from app.services.scheduling import service as scheduler
from app.services.scheduling.clock import SYSTEM_CLOCK, Clock
from app.services.scheduling.day import day_bounds
from app.services.scheduling.labels import RATING_NAMES

DEFAULT_LANG = "en"
STATE_NAMES = {1: "learning", 2: "review", 3: "relearning"}


@dataclass(frozen=True)
class CardText:
    """The rendered text of one card in one language, for the review page."""

    card_id: str
    lang: str
    title: str
    deck: str
    question_html: str
    answer_html: str
    key_points: list[dict[str, str]]
    pitfalls_html: str
    demo_name: str | None


_TEXTS = (
    select(
        CardTranslation.lang,
        CardTranslation.title,
        CardTranslation.question_html,
        CardTranslation.answer_html,
        CardTranslation.key_points,
        CardTranslation.pitfalls_html,
        Card.deck,
        Card.demo_path,
    )  # fmt: skip
    .join(Card, col(Card.id) == col(CardTranslation.card_id))
    .where(col(CardTranslation.card_id) == bindparam("card_id"))
)


def card_text(session: Session, card_id: str, lang: str) -> CardText | None:
    """The card's text in `lang`, else in the default language, else any; None when the
    card does not exist. One query."""
    rows = read_rows(session, _TEXTS, {"card_id": card_id}).all()
    if not rows:
        return None
    by_lang = {row.lang: row for row in rows}
    text = by_lang.get(lang) or by_lang.get(DEFAULT_LANG) or rows[0]
    deck, demo_path = text.deck, text.demo_path
    demo_name = demo_path.rsplit("/", 1)[-1].removesuffix(".py") if demo_path else None
    return CardText(
        card_id=card_id,
        lang=text.lang,
        title=text.title,
        deck=deck,
        question_html=text.question_html,
        answer_html=text.answer_html,
        key_points=list(text.key_points or []),
        pitfalls_html=text.pitfalls_html,
        demo_name=demo_name,
    )


def show_card(
    session: Session, user_id: int, card_id: str, *, clock: Clock = SYSTEM_CLOCK
) -> scheduler.NextCard | None:
    """A given active card presented as the scheduler presents its next card (buttons
    with their intervals, version), e.g. the card just taken back by undo. None when
    the card is not active or is suspended or buried."""
    card = session.get(Card, card_id)
    if card is None or card.status != "active":
        return None
    now = clock.now()
    row = session.get(ReviewState, (user_id, card_id))
    if row is not None and (row.suspended or (row.buried_until and row.buried_until > now)):
        return None
    settings = scheduler.load_settings(session, user_id)
    queue = "new" if row is None or row.fsrs_state == scheduler.FSRS_NEW else "review"
    if row is not None and row.fsrs_state in (FSRS_LEARNING, FSRS_RELEARNING):
        queue = "learning"
    return scheduler.present(session, user_id, settings, card_id, queue, now, True)


@dataclass(frozen=True)
class Stage:
    """What the review page shows: the card to answer with its text, or the "done for
    today" outlook; the counts left today."""

    shown: scheduler.NextCard | None
    text: CardText | None
    counts: scheduler.QueueCounts
    outlook: Outlook | None
    flag: int = 0  # the learner's flag on the shown card (0: none)


def stage(
    session: Session,
    user_id: int,
    lang: str,
    *,
    card_id: str | None = None,
    settings: LearnerSettings | None = None,
    last: tuple[str, str] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    deck: str | None = None,
    tag: str | None = None,
) -> Stage:
    """The stage for this learner now: `card_id` if given and answerable (e.g. the card
    just taken back by undo), else the scheduler's next card (of `deck` and its
    sub-decks, or of the cards tagged `tag`, when given). Read-only. Pass `settings` and
    `last` (the card and deck just answered) when the caller has them."""
    shown = show_card(session, user_id, card_id, clock=clock) if card_id else None
    if settings is None:  # read once for the next card, the counts and the outlook
        settings = scheduler.load_settings(session, user_id)
    if shown is None and tag is not None:
        next_id, counts = tag_study.next_in_tag(
            session, user_id, tag, settings=settings, last=last, clock=clock
        )
        shown = show_card(session, user_id, next_id, clock=clock) if next_id else None
    elif shown is None:
        shown, counts = scheduler.next_with_counts(
            session, user_id, settings=settings, last=last, clock=clock, deck=deck
        )
    elif tag is not None:
        counts = tag_study.tag_queue(session, user_id, tag, settings=settings, clock=clock).counts
    else:
        counts = scheduler.queue_counts(session, user_id, clock=clock)
    return Stage(
        shown=shown,
        text=card_text(session, shown.card_id, lang) if shown else None,
        counts=counts,
        outlook=None if shown else outlook(session, user_id, settings=settings, clock=clock),
        flag=scheduler.flag_of(session, user_id, shown.card_id) if shown else 0,
    )


def answer(
    session: Session,
    user_id: int,
    lang: str,
    card_id: str,
    rating: int,
    *,
    idempotency_key: str,
    expected_version: int,
    duration_ms: int | None = None,
    clock: Clock = SYSTEM_CLOCK,
    deck: str | None = None,
    tag: str | None = None,
) -> tuple[scheduler.GradeResult | scheduler.SchedulingError, Stage]:
    """Grade one card (scheduler.grade) and return the next stage, in one transaction:
    run inside `session_scope(engine, write=True)`. A refused grade (conflict, card
    gone, bad input) is returned, not raised: nothing was written, and the learner
    still gets the next card."""
    result: scheduler.GradeResult | scheduler.SchedulingError
    settings: LearnerSettings | None = None
    try:
        result, settings = scheduler.grade_with_settings(
            session, user_id, card_id, rating, idempotency_key=idempotency_key,
            expected_version=expected_version, duration_ms=duration_ms, clock=clock,
        )  # fmt: skip
    except scheduler.SchedulingError as exc:  # raised before grade writes anything
        result = exc
    last = None
    if isinstance(result, scheduler.GradeResult) and not result.replayed:
        last = (result.card_id, result.deck)  # the answer just logged is the last one
    return result, stage(
        session, user_id, lang, settings=settings, last=last, clock=clock, deck=deck, tag=tag
    )


@dataclass(frozen=True)
class AheadStage:
    """A review-ahead session's page: the next card with its text, or None when the
    session is over; how many cards are left (this one included)."""

    shown: scheduler.NextCard | None
    text: CardText | None
    left: int


def review_ahead_stage(
    session: Session,
    user_id: int,
    lang: str,
    *,
    days: int,
    since: datetime,
    deck: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> AheadStage:
    """The next card of a review-ahead session (custom_study.review_ahead_ids), shown
    with its four buttons' intervals as a review now would set them. Read-only."""
    ids = custom_study.review_ahead_ids(
        session, user_id, days=days, since=since, deck=deck, clock=clock
    )
    shown = show_card(session, user_id, ids[0], clock=clock) if ids else None
    return AheadStage(
        shown=shown,
        text=card_text(session, shown.card_id, lang) if shown else None,
        left=len(ids),
    )


@dataclass(frozen=True)
class Outlook:
    """What the "done for today" screen says about tomorrow."""

    reviews_tomorrow: int
    new_tomorrow: int
    learning_later_today: int
    next_due_at: datetime | None  # the next learning card's due time today, if any
    reviewed_today: int


_UNSEEN_COUNT = (
    select(func.count())
    .select_from(Card)
    .where(
        col(Card.status) == "active",
        col(Card.id).not_in(
            select(ReviewState.card_id).where(col(ReviewState.user_id) == bindparam("user_id"))
        ),
    )
)
_LEARNING_LATER = select(func.count(), func.min(ReviewState.due)).where(
    col(ReviewState.user_id) == bindparam("user_id"),
    scheduler.fsrs_state_in(FSRS_LEARNING, FSRS_RELEARNING),
    col(ReviewState.due) < bindparam("day_end"),
    col(ReviewState.suspended).is_(False),
)
_REVIEWED_SINCE = (
    select(func.count())
    .select_from(ReviewLog)
    .where(
        col(ReviewLog.user_id) == bindparam("user_id"),
        col(ReviewLog.reviewed_at) >= bindparam("since"),
    )
)


def outlook(
    session: Session,
    user_id: int,
    *,
    settings: LearnerSettings | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Outlook:
    """Tomorrow's reviews (from the scheduler's forecast), tomorrow's new cards (the
    daily limit, or fewer if fewer are left), and learning cards still due today."""
    settings = settings if settings is not None else scheduler.load_settings(session, user_id)
    now = clock.now()
    day_begin, day_end = day_bounds(now, settings.time_zone, settings.day_rollover_hour)
    days = scheduler.forecast(session, user_id, days=2, settings=settings, clock=clock)
    unseen = int(read_rows(session, _UNSEEN_COUNT, {"user_id": user_id}).scalar_one())
    later = read_rows(session, _LEARNING_LATER, {"user_id": user_id, "day_end": day_end}).one()
    reviewed_today = int(
        read_rows(session, _REVIEWED_SINCE, {"user_id": user_id, "since": day_begin}).scalar_one()
    )
    return Outlook(
        reviews_tomorrow=days[1][1] if len(days) > 1 else 0,
        new_tomorrow=min(settings.new_per_day, unseen),
        learning_later_today=int(later[0] or 0),
        next_due_at=later[1],
        reviewed_today=reviewed_today,
    )


@dataclass(frozen=True)
class HistoryEntry:
    reviewed_at: datetime
    rating: int
    label: str
    kind: str
    duration_ms: int | None
    interval: timedelta | None


@dataclass(frozen=True)
class CardHistory:
    """One learner's history of one card. Only ever built for the asking learner."""

    entries: list[HistoryEntry]
    due: datetime | None
    stability: float | None
    reps: int
    lapses: int
    suspended: bool
    recall_now: float | None
    difficulty: float | None = None  # FSRS difficulty, 1 (easy) to 10 (hard)
    state: str = "new"  # new | learning | review | relearning
    flag: int = 0


def card_history(
    session: Session, user_id: int, card_id: str, *, clock: Clock = SYSTEM_CLOCK
) -> CardHistory:
    """This learner's answers to this card, newest first, and its current state."""
    logs = session.execute(
        select(ReviewLog)
        .where(ReviewLog.user_id == user_id, ReviewLog.card_id == card_id)  # type: ignore[arg-type]
        .order_by(ReviewLog.reviewed_at.desc(), ReviewLog.id.desc())  # type: ignore[attr-defined, union-attr]
        .limit(200)
    ).scalars()
    entries = [
        HistoryEntry(
            reviewed_at=log.reviewed_at,
            rating=log.rating,
            label=RATING_NAMES.get(log.rating, str(log.rating)),
            kind=log.kind,
            duration_ms=log.duration_ms,
            interval=(log.due_after - log.reviewed_at) if log.due_after else None,
        )
        for log in logs
    ]
    row = session.get(ReviewState, (user_id, card_id))
    state = scheduler.memory_of(row)
    recall_now = None
    if state is not None and state.stability:
        settings = scheduler.load_settings(session, user_id)
        recall_fn = scheduler.recall_fn(scheduler.config_for(settings))
        recall_now = recall_fn(state.stability, state.last_review_at, clock.now())
    return CardHistory(
        entries=entries,
        due=state.due if state else None,
        stability=state.stability if state else None,
        reps=row.reps if row else 0,
        lapses=row.lapses if row else 0,
        suspended=bool(row and row.suspended),
        recall_now=recall_now,
        difficulty=state.difficulty if state else None,
        state=STATE_NAMES.get(row.fsrs_state, "new") if row else "new",
        flag=row.flag if row else 0,
    )


def set_locale(session: Session, user_id: int, lang: str) -> None:
    """Save the learner's interface and card language. The caller commits."""
    user = session.get(User, user_id)
    if user is None:
        raise ValueError(f"no user {user_id}")
    user.locale = lang
    session.add(user)
    session.flush()
