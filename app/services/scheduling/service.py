"""The scheduler's services: what the practice pages and /api/ call.

Each takes a Session. Functions that write (grade, undo, bury, suspend, settings)
must run inside `session_scope(engine, write=True)`: they lock the learner's
settings row (FOR UPDATE on PostgreSQL; SQLite's write lock is taken at BEGIN), so
one learner's answers are applied one at a time, in order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import fields
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from pydantic import BaseModel
from sqlalchemy import (
    Float,
    Integer,
    String,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col

from app.db import read_rows
from app.models.base import UTCDateTime
from app.models.card import Card, CardRevision, CardTag
from app.models.review import (
    FSRS_LEARNING,
    FSRS_RELEARNING,
    FSRS_REVIEW,
    LearnerSettings,
    LearnerSettingsUpdate,
    ReviewLog,
    ReviewState,
)
from app.services.errors import ServiceError
from app.services.scheduling import grading, interview, new_order
from app.services.scheduling.clock import SYSTEM_CLOCK, Clock, FixedClock
from app.services.scheduling.day import day_bounds, day_start, local_day
from app.services.scheduling.fsrs_bridge import (
    DEFAULT_PARAMS,
    MemoryState,
    SchedulerConfig,
    scheduler_for,
)

FSRS_NEW = 0  # a row made only to bury or suspend a card never answered
LEARN_AHEAD = timedelta(minutes=20)  # Anki's default "learn ahead limit"
NEW_CANDIDATES = 20
REVIEW_CANDIDATES = 50
REVIEW_WINDOW = 200  # due cards ranked per call: a default day of reviews (see _due_review_rows)
MIN_REVIEWS_TO_FIT = 512  # py-fsrs' threshold: reviews on a later day than the previous one


# --- errors -------------------------------------------------------------------


class SchedulingError(ServiceError):
    code = "scheduling_error"


class GradeConflict(SchedulingError):
    code, status = "conflict", 409


class IdempotencyMismatch(SchedulingError):
    code, status = "idempotency_key_reused", 422


class CardNotAvailable(SchedulingError):
    code, status = "card_not_available", 404


class NothingToUndo(SchedulingError):
    code, status = "nothing_to_undo", 409


# --- results --------------------------------------------------------------------


class ButtonInterval(BaseModel):
    rating: int
    label: str
    seconds: int
    text: str


class NextCard(BaseModel):
    card_id: str
    deck: str
    title: str
    queue: str  # learning | review | new | learn_ahead | cram
    version: int  # send it back with the grade: a changed card is refused (two tabs)
    due: datetime | None
    recall_now: float | None
    buttons: list[ButtonInterval]


class GradeResult(BaseModel):
    log_id: int
    card_id: str
    deck: str
    rating: int
    kind: str
    reviewed_at: datetime
    due: datetime | None
    interval_seconds: int | None
    version: int
    leech: bool
    replayed: bool  # True: this idempotency key was already recorded; nothing new written


class UndoResult(BaseModel):
    card_id: str
    rating: int
    kind: str
    version: int


class QueueCounts(BaseModel):
    learning: int
    review: int
    new: int


class DeckRecall(BaseModel):
    deck: str
    cards: int
    studied: int
    recall_studied: float | None  # mean predicted recall of the studied cards
    recall_all: float  # unstudied cards count as 0


class RecallReport(BaseModel):
    at: datetime
    overall: DeckRecall
    decks: list[DeckRecall]


# --- settings -------------------------------------------------------------------


def load_settings(session: Session, user_id: int) -> LearnerSettings:
    """The learner's settings, or the defaults (unsaved) if they never changed any."""
    row = session.get(LearnerSettings, user_id)
    return row if row is not None else LearnerSettings(user_id=user_id)


# The hot path's statements are built once, with bound parameters, so each call skips
# building the statement and its cache key (SQLAlchemy reuses the compiled form).
_LOCK_SETTINGS = (
    select(LearnerSettings)
    .where(col(LearnerSettings.user_id) == bindparam("user_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


def lock_learner(session: Session, user_id: int) -> LearnerSettings:
    """Create the settings row if missing and lock it for this transaction."""
    params = {"user_id": user_id}
    row = session.execute(_LOCK_SETTINGS, params).scalar_one_or_none()
    if row is not None:
        return row
    dialect = session.get_bind().dialect.name
    values = {
        "user_id": user_id,
        **LearnerSettings(user_id=user_id).model_dump(exclude={"user_id"}),
    }
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(LearnerSettings).values(**values).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(LearnerSettings).values(**values).on_conflict_do_nothing()
    session.execute(stmt)
    return session.execute(_LOCK_SETTINGS, params).scalar_one()


def update_settings(
    session: Session, user_id: int, changes: LearnerSettingsUpdate, *, clock: Clock = SYSTEM_CLOCK
) -> LearnerSettings:
    """Apply the given fields (validated by LearnerSettingsUpdate). Existing states keep
    their due dates; `reschedule` replays the log under the new settings."""
    row = lock_learner(session, user_id)
    data = changes.model_dump(exclude_unset=True)
    merged = LearnerSettings.model_validate({**row.model_dump(), **data})  # runs validators
    for key in data:
        setattr(row, key, getattr(merged, key))
    row.updated_at = clock.now()
    session.add(row)
    session.flush()
    return row


def config_for(settings: LearnerSettings) -> SchedulerConfig:
    return SchedulerConfig(
        parameters=tuple(settings.parameters) if settings.parameters else DEFAULT_PARAMS,
        desired_retention=settings.desired_retention,
        learning_steps_s=tuple(settings.learning_steps_s),
        relearning_steps_s=tuple(settings.relearning_steps_s),
        maximum_interval_d=settings.maximum_interval_d,
    )


def context_for(
    settings: LearnerSettings, interview_on: date | None = None
) -> grading.GradingContext:
    return grading.GradingContext(
        config=config_for(settings),
        time_zone=settings.time_zone,
        rollover_hour=settings.day_rollover_hour,
        leech_threshold=settings.leech_threshold,
        interview_on=interview_on,
    )


# --- state <-> rows ------------------------------------------------------------------


def memory_of(row: ReviewState | Any | None) -> MemoryState | None:
    """The memory state of a ReviewState row (or a result row with its columns)."""
    if row is None or row.fsrs_state == FSRS_NEW:
        return None
    return MemoryState(
        fsrs_state=row.fsrs_state,
        step=row.step,
        stability=row.stability,
        difficulty=row.difficulty,
        due=row.due,
        last_review_at=row.last_review_at,
        reps=row.reps,
        lapses=row.lapses,
        leech=row.leech,
    )


_SNAPSHOT_FIELDS = (
    "fsrs_state", "step", "stability", "difficulty", "due", "last_review_at", "reps",
    "lapses", "leech", "suspended", "buried_until", "version", "introduced_at",
)  # fmt: skip
_DATETIME_FIELDS = ("due", "last_review_at", "buried_until", "introduced_at")


def snapshot(row: ReviewState | Any | None) -> dict[str, Any] | None:
    """The row as JSON (floats round-trip exactly through repr), for undo."""
    if row is None:
        return None
    out: dict[str, Any] = {}
    for name in _SNAPSHOT_FIELDS:
        value = getattr(row, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _restore(row: ReviewState, snap: Mapping[str, Any]) -> None:
    for name in _SNAPSHOT_FIELDS:
        value = snap[name]
        if name in _DATETIME_FIELDS and value is not None:
            value = datetime.fromisoformat(value)
        setattr(row, name, value)


_MEMORY_FIELDS = tuple(f.name for f in fields(MemoryState))


# --- queue ------------------------------------------------------------------------


def fsrs_state_in(*states: int) -> Any:
    """``fsrs_state IN (...)`` for a fixed set of states, written as ``=`` terms joined by
    OR: a literal IN list is an "expanding" parameter, whose SQL SQLAlchemy renders
    again at every execution. SQLite turns the ORs back into IN for the index."""
    return or_(*(col(ReviewState.fsrs_state) == state for state in states))


def _not_buried(now: datetime | Any) -> Any:
    return or_(col(ReviewState.buried_until).is_(None), col(ReviewState.buried_until) <= now)


def _recall_fn(config: SchedulerConfig) -> Any:
    sched = scheduler_for(config)
    factor, decay = sched._FACTOR, sched._DECAY  # fsrs' own constants for this w[20]

    def recall(stability: float | None, last: datetime | None, at: datetime) -> float:
        if stability is None or last is None:
            return 0.0
        elapsed = max(0, (at - last).days)  # whole days, as fsrs.get_card_retrievability
        return float((1 + factor * elapsed / stability) ** decay)

    return recall


_LAST_LOG = (
    select(ReviewLog)
    .where(col(ReviewLog.user_id) == bindparam("user_id"))
    .order_by(col(ReviewLog.reviewed_at).desc(), col(ReviewLog.id).desc())
    .limit(1)
)
_LAST_REVIEWED_AT = (
    select(ReviewLog.reviewed_at)
    .where(col(ReviewLog.user_id) == bindparam("user_id"))
    .order_by(col(ReviewLog.reviewed_at).desc(), col(ReviewLog.id).desc())
    .limit(1)
)


def _last_log(session: Session, user_id: int) -> ReviewLog | None:
    return session.execute(_LAST_LOG, {"user_id": user_id}).scalar_one_or_none()


def _count_today(session: Session, user_id: int, start: datetime, *conditions: Any) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(ReviewLog)
            .where(ReviewLog.user_id == user_id, ReviewLog.reviewed_at >= start, *conditions)  # type: ignore[arg-type]
        ).scalar_one()
    )


_NOW: Any = bindparam("now")
_USER: Any = bindparam("user_id")
_CARD: Any = bindparam("card_id")
_LEARNING_ROWS = (
    select(
        ReviewState.card_id,
        ReviewState.due,
        ReviewState.version,
        ReviewState.stability,
        ReviewState.last_review_at,
        Card.deck,
    )  # fmt: skip
    .join(Card, col(Card.id) == col(ReviewState.card_id))
    .where(
        col(ReviewState.user_id) == _USER,
        fsrs_state_in(FSRS_LEARNING, FSRS_RELEARNING),
        col(ReviewState.due) <= bindparam("until"),
        col(ReviewState.suspended).is_(False),
        _not_buried(_NOW),
        col(Card.status) == "active",
    )
    .order_by(col(ReviewState.due), col(ReviewState.card_id))
    .limit(50)
)


def _learning_rows(session: Session, user_id: int, until: datetime, now: datetime) -> list[Any]:
    params = {"user_id": user_id, "until": until, "now": now}
    return list(read_rows(session, _LEARNING_ROWS, params).all())


# Due reviews, lowest predicted recall first, ranked in SQL. Recall (1 + f t/S)^decay
# falls as t/S grows, for any parameters, so "lowest recall first" is "largest t/S
# first", with t in whole days as fsrs.get_card_retrievability counts them (and no
# stability or last review: recall 0, first of all). The ranking looks at the
# REVIEW_WINDOW oldest due cards (the (learner, state, due) index yields them in
# order), so its cost is bounded whatever the size of the deck or the backlog: a
# backlog larger than the window (months of missed days) is worked through oldest
# first, weakest first within the window. Only the rows asked for leave the database.
_DUE_WINDOW = f"""
    SELECT card_id, due, version, stability, last_review_at FROM review_state
    WHERE user_id = :user_id AND fsrs_state = {FSRS_REVIEW} AND due <= :now
      AND suspended = {{false}} AND (buried_until IS NULL OR buried_until <= :now)
    ORDER BY due, card_id LIMIT {REVIEW_WINDOW}
"""
# Whole days from last_review_at to :now, exactly as timedelta.days counts them.
_ELAPSED_DAYS = {
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff': whole calendar days, less one when the
    # time of day has not come round yet (exact; julianday of a date is exact).
    "sqlite": "(julianday(substr(:now, 1, 10)) - julianday(substr(w.last_review_at, 1, 10))"
    " - (substr(:now, 12) < substr(w.last_review_at, 12)))",
    "postgresql": "floor(extract(epoch from (:now - w.last_review_at)) / 86400)",
}
_MAX = {"sqlite": "max", "postgresql": "greatest"}
_FALSE = {"sqlite": "0", "postgresql": "false"}


@cache
def _due_reviews_statement(dialect: str) -> Any:
    sql = f"""
        SELECT w.card_id, w.due, w.version, w.stability, w.last_review_at, c.deck
        FROM ({_DUE_WINDOW.format(false=_FALSE[dialect])}) AS w
        JOIN card AS c ON c.id = w.card_id
        WHERE c.status = 'active'
        ORDER BY
          CASE WHEN w.stability IS NULL OR w.last_review_at IS NULL THEN 0 ELSE 1 END,
          {_MAX[dialect]}(0, {_ELAPSED_DAYS[dialect]}) * 1.0 / w.stability DESC,
          w.due, w.card_id
        LIMIT :limit
    """
    return (
        text(sql)
        .bindparams(bindparam("now", type_=UTCDateTime()), bindparam("limit", type_=Integer))
        .columns(
            card_id=String,
            due=UTCDateTime(),
            version=Integer,
            stability=Float,
            last_review_at=UTCDateTime(),
            deck=String,
        )
    )


def _due_review_rows(session: Session, user_id: int, now: datetime, limit: int) -> list[Any]:
    """Due reviews of active cards, lowest predicted recall first, at most `limit`."""
    statement = _due_reviews_statement(session.get_bind().dialect.name)
    params = {"user_id": user_id, "now": now, "limit": limit}
    return [_Row(*row) for row in read_rows(session, statement, params).all()]


class _Row(NamedTuple):
    card_id: str
    due: datetime
    version: int
    stability: float | None
    last_review_at: datetime | None
    deck: str


_STARTED = exists().where(
    col(ReviewState.user_id) == _USER,
    col(ReviewState.card_id) == col(Card.id),
    or_(
        col(ReviewState.fsrs_state) != FSRS_NEW,
        col(ReviewState.suspended).is_(True),
        ~_not_buried(_NOW),
    ),
)
_UNSEEN = select(Card.id, Card.deck, Card.difficulty, Card.created_at).where(
    col(Card.status) == "active", ~_STARTED
)


def _unseen_in_order(session: Session, user_id: int, now: datetime, order: str) -> list[Any]:
    """Every active card this learner has not started, in their new-card order."""
    rows = read_rows(session, _UNSEEN, {"user_id": user_id, "now": now}).all()
    return new_order.order_new(rows, order, user_id)


def _new_candidates(
    session: Session, user_id: int, now: datetime, limit: int, order: str = "difficulty"
) -> list[Any]:
    return _unseen_in_order(session, user_id, now, order)[:limit]


def in_deck(rows: list[Any], deck: str | None) -> list[Any]:
    """The rows (each with a `deck`) of `deck` and its sub-decks; all when None."""
    if deck is None:
        return rows
    return [r for r in rows if r.deck == deck or r.deck.startswith(deck + "/")]


def _pick(candidates: list[Any], last_card: str | None, last_deck: str | None) -> Any | None:
    """First candidate from a different deck than the last card, else the first;
    never the last card itself (the caller falls back to it when it is alone)."""
    others = [c for c in candidates if c[0] != last_card]
    if not others:
        return None
    for cand in others:
        if cand.deck != last_deck:
            return cand
    return others[0]


def next_card(
    session: Session, user_id: int, *, clock: Clock = SYSTEM_CLOCK, with_buttons: bool = True
) -> NextCard | None:
    """The card this learner should answer now, with the four buttons' intervals, or
    None when nothing is left today. Read-only and idempotent: asking twice gives the
    same card until something is answered.

    Order: learning cards due now (by due); due reviews, lowest predicted recall
    first (in interview mode: largest gain in recall on the interview day, with
    cards advanced up to the day's minutes); new cards up to the daily limit;
    learning cards due within the next 20 minutes. Suspended, buried and retired
    cards never come; the card just answered does not come again while another
    is available; consecutive cards come from different decks when there is a choice.
    """
    today = _today(session, user_id, load_settings(session, user_id), clock.now())
    return _choose(session, user_id, today, with_buttons, None)


class _Today(NamedTuple):
    """What next_card and queue_counts both need about the learner's day: read once."""

    settings: LearnerSettings
    now: datetime
    day_begin: datetime
    day_end: datetime
    reviews_done: int  # kind "review" answers logged since the day began
    introduced: int  # first answers to new cards since the day began


_DAY_COUNTS = select(
    func.count(case((col(ReviewLog.kind) == "review", 1))),
    func.count(case((col(ReviewLog.was_new).is_(True), 1))),
).where(col(ReviewLog.user_id) == _USER, col(ReviewLog.reviewed_at) >= bindparam("since"))


def new_limit(today: _Today) -> int:
    """Today's new-card limit: the daily setting, plus what custom study added today."""
    settings = today.settings
    local = local_day(today.now, settings.time_zone, settings.day_rollover_hour)
    extra = settings.extra_new if settings.extra_new_day == local else 0
    return settings.new_per_day + extra


def raise_new_limit(session: Session, user_id: int, by: int, *, clock: Clock = SYSTEM_CLOCK) -> int:
    """Custom study (Anki's "increase today's new card limit"): `by` more new cards
    today only. Returns today's new limit."""
    if not 1 <= by <= 9999:
        raise SchedulingError(f"raise the new-card limit by 1 to 9999, not {by}")
    settings = lock_learner(session, user_id)
    now = clock.now()
    local = local_day(now, settings.time_zone, settings.day_rollover_hour)
    settings.extra_new = (settings.extra_new if settings.extra_new_day == local else 0) + by
    settings.extra_new_day = local
    session.add(settings)
    session.flush()
    return settings.new_per_day + settings.extra_new


def _today(session: Session, user_id: int, settings: LearnerSettings, now: datetime) -> _Today:
    day_begin, day_end = day_bounds(now, settings.time_zone, settings.day_rollover_hour)
    reviews_done, introduced = read_rows(
        session, _DAY_COUNTS, {"user_id": user_id, "since": day_begin}
    ).one()
    return _Today(settings, now, day_begin, day_end, int(reviews_done), int(introduced))


_LAST_ANSWERED = (
    select(ReviewLog.card_id, Card.deck)
    .outerjoin(Card, col(Card.id) == col(ReviewLog.card_id))
    .where(col(ReviewLog.user_id) == _USER)
    .order_by(col(ReviewLog.reviewed_at).desc(), col(ReviewLog.id).desc())
    .limit(1)
)


def _last_answered(session: Session, user_id: int) -> tuple[str | None, str | None]:
    """(card id, deck) of the learner's last answer, or (None, None). One query."""
    row = read_rows(session, _LAST_ANSWERED, {"user_id": user_id}).first()
    return (row[0], row[1]) if row else (None, None)


def _choose(
    session: Session,
    user_id: int,
    today: _Today,
    with_buttons: bool,
    new_rows: list[Any] | None,
    last: tuple[str, str] | None = None,
    deck: str | None = None,
) -> NextCard | None:
    """next_card's body; `new_rows`: the new candidates, `last`: the (card, deck) of the
    learner's last answer, when the caller has them; `deck`: study only that deck and
    its sub-decks (Anki's "Study now" on one deck)."""
    settings, now = today.settings, today.now
    last_card, last_deck = last if last is not None else _last_answered(session, user_id)

    learning = in_deck(_learning_rows(session, user_id, now + LEARN_AHEAD, now), deck)
    learning_due = [r for r in learning if r.due <= now]
    ahead = [r for r in learning if r.due > now]

    def reviews() -> list[Any]:
        done = today.reviews_done
        left = settings.reviews_per_day - done
        if left <= 0:
            return []
        if interview.active(settings, now):
            return in_deck(interview.review_candidates(session, settings, now, done), deck)[:left]
        if deck is not None:  # the deck's reviews among the whole due window
            return in_deck(_due_review_rows(session, user_id, now, REVIEW_WINDOW), deck)[
                : min(left, REVIEW_CANDIDATES)
            ]
        return _due_review_rows(session, user_id, now, min(left, REVIEW_CANDIDATES))

    def new() -> list[Any]:
        if new_rows is not None:
            return new_rows
        left = new_limit(today) - today.introduced
        if left <= 0:
            return []
        unseen = in_deck(_unseen_in_order(session, user_id, now, settings.new_card_order), deck)
        return unseen[: min(left, NEW_CANDIDATES)]

    tiers: list[tuple[str, Any]] = [
        ("learning", lambda: learning_due),
        ("review", reviews),
        ("new", new),
        ("learn_ahead", lambda: ahead),
    ]
    chosen, queue, fallback = None, "", None
    for name, tier in tiers:
        candidates = tier()
        if fallback is None and any(c[0] == last_card for c in candidates):
            fallback = (name, next(c for c in candidates if c[0] == last_card))
        chosen = _pick(candidates, last_card, last_deck)
        if chosen is not None:
            queue = name
            break
    if chosen is None:
        if fallback is None:
            return None
        queue, chosen = fallback
    return _present(session, user_id, settings, chosen[0], queue, now, with_buttons)


# The card and, when the learner has one, its state: one statement.
_SHOWN = (
    select(
        Card.deck,
        Card.title,
        ReviewState.fsrs_state,
        ReviewState.step,
        ReviewState.stability,
        ReviewState.difficulty,
        ReviewState.due,
        ReviewState.last_review_at,
        ReviewState.reps,
        ReviewState.lapses,
        ReviewState.leech,
        ReviewState.version,
    )  # fmt: skip
    .select_from(Card)
    .outerjoin(
        ReviewState,
        and_(col(ReviewState.card_id) == col(Card.id), col(ReviewState.user_id) == _USER),
    )
    .where(col(Card.id) == _CARD)
)


def _present(
    session: Session,
    user_id: int,
    settings: LearnerSettings,
    card_id: str,
    queue: str,
    now: datetime,
    with_buttons: bool,
) -> NextCard:
    card = read_rows(session, _SHOWN, {"user_id": user_id, "card_id": card_id}).one()
    row = card if card.fsrs_state is not None else None
    state = memory_of(row)
    buttons: list[ButtonInterval] = []
    if with_buttons:
        ctx = context_for(settings, interview.cap_day(settings, now))
        for label, delta in grading.preview(state, now, ctx).items():
            seconds = int(delta.total_seconds())
            buttons.append(
                ButtonInterval(
                    rating=["again", "hard", "good", "easy"].index(label) + 1,
                    label=label,
                    seconds=seconds,
                    text=_human(seconds),
                )
            )
    recall = _recall_fn(config_for(settings))
    return NextCard(
        card_id=card_id,
        deck=card.deck,
        title=card.title,
        queue=queue,
        version=row.version if row else 0,
        due=row.due if row and row.fsrs_state != FSRS_NEW else None,
        recall_now=recall(state.stability, state.last_review_at, now) if state else None,
        buttons=buttons,
    )


def _human(seconds: int) -> str:
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))}m"
    if seconds < 86400:
        return f"{round(seconds / 3600)}h"
    days = round(seconds / 86400)
    if days < 31:
        return f"{days}d"
    if days < 365:
        return f"{days / 30.4:.1f}mo"
    return f"{days / 365:.1f}y"


# --- grading ----------------------------------------------------------------------------


_DUE_PER_INSTANT = (
    select(ReviewState.due, func.count())
    .where(
        col(ReviewState.user_id) == _USER,
        col(ReviewState.fsrs_state) == FSRS_REVIEW,
        col(ReviewState.due) >= bindparam("lo"),
        col(ReviewState.due) < bindparam("hi"),
        col(ReviewState.card_id) != bindparam("card_id"),
    )
    .group_by(col(ReviewState.due))
)


def _load_fn(
    session: Session, user_id: int, card_id: str, settings: LearnerSettings
) -> grading.LoadFn:
    """Review-state cards due per learner day, over every card of the learner (suspended
    ones too), so the count is a function of the log alone and a replay finds it again."""

    def load(first: date, last: date) -> dict[date, int]:
        tz, hour = settings.time_zone, settings.day_rollover_hour
        lo, hi = day_start(first, tz, hour), day_start(last + timedelta(days=1), tz, hour)
        params = {"user_id": user_id, "lo": lo, "hi": hi, "card_id": card_id}
        rows = read_rows(session, _DUE_PER_INSTANT, params).all()
        counts: Counter[date] = Counter()
        for due, n in rows:
            counts[local_day(due, tz, hour)] += n
        return counts

    return load


_LATEST_REVISION = (
    select(CardRevision.id)
    .where(col(CardRevision.card_id) == bindparam("card_id"))
    .order_by(col(CardRevision.number).desc())
    .limit(1)
)
_ID_BY_IDEMPOTENCY_KEY = select(ReviewLog.id).where(
    col(ReviewLog.user_id) == _USER, col(ReviewLog.idempotency_key) == bindparam("key")
)


# What a grade checks before it writes, in one statement of primary-key and index
# lookups: the card, its current revision, whether the key was used, the last answer.
_GRADE_FACTS = select(
    select(Card.status).where(col(Card.id) == _CARD).scalar_subquery().label("card_status"),
    select(Card.deck).where(col(Card.id) == _CARD).scalar_subquery().label("deck"),
    _LATEST_REVISION.scalar_subquery().label("revision_id"),
    _ID_BY_IDEMPOTENCY_KEY.scalar_subquery().label("prior_id"),
    _LAST_REVIEWED_AT.scalar_subquery().label("last_at"),
)
_STATE_ROW = select(*ReviewState.__table__.columns).where(  # type: ignore[attr-defined]
    col(ReviewState.user_id) == _USER, col(ReviewState.card_id) == _CARD
)
# Grading writes through Core: the ORM's unit of work costs more than the writes.
_INSERT_STATE = insert(ReviewState)
_UPDATE_STATE = update(ReviewState).where(
    col(ReviewState.user_id) == bindparam("b_user_id"),
    col(ReviewState.card_id) == bindparam("b_card_id"),
)
_INSERT_LOG = insert(ReviewLog).returning(col(ReviewLog.id))
_SETTINGS_ROW = (
    select(*LearnerSettings.__table__.columns)  # type: ignore[attr-defined]
    .where(col(LearnerSettings.user_id) == _USER)
    .with_for_update()
)


def _locked_settings(session: Session, user_id: int) -> LearnerSettings:
    """lock_learner for a caller that only reads the settings: the locked row as a
    LearnerSettings outside the session, read through Core."""
    row = read_rows(session, _SETTINGS_ROW, {"user_id": user_id}).first()
    if row is None:
        return lock_learner(session, user_id)  # creates the row
    return LearnerSettings(**row._mapping)


def _forget_loaded_state(session: Session, user_id: int, card_id: str) -> None:
    """The row changed behind the ORM's back: a ReviewState the session holds is stale."""
    loaded = session.identity_map.get(identity_key(ReviewState, (user_id, card_id)))
    if loaded is not None:
        session.expire(loaded)


def _insert_log(session: Session, log: dict[str, Any]) -> int:
    log_id = session.connection().execute(_INSERT_LOG, log).scalar_one()
    assert log_id is not None
    return log_id


def _result(
    log: Mapping[str, Any], log_id: int, deck: str, version: int, leech: bool, replayed: bool
) -> GradeResult:
    """The answer to a grade, from its log row's values."""
    due, at = log["due_after"], log["reviewed_at"]
    return GradeResult(
        log_id=log_id, card_id=log["card_id"], deck=deck, rating=log["rating"],
        kind=log["kind"], reviewed_at=at, due=due,
        interval_seconds=int((due - at).total_seconds()) if due else None,
        version=version, leech=leech, replayed=replayed,
    )  # fmt: skip


def grade(
    session: Session,
    user_id: int,
    card_id: str,
    rating: int,
    *,
    idempotency_key: str,
    expected_version: int,
    duration_ms: int | None = None,
    kind: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> GradeResult:
    """Record one answer and move the card's schedule. Run inside
    `session_scope(engine, write=True)`.

    Idempotent: the same `idempotency_key` again returns the first result
    (replayed=True) and writes nothing; the same key with another card or rating
    raises IdempotencyMismatch. `expected_version` is the `version` the card was
    shown with: if the card changed since (answered in another tab, buried,
    suspended, undone) the grade raises GradeConflict and nothing is written.
    `kind` "cram" logs the answer without moving the schedule. `kind` "mock" (a
    mock-interview answer) moves it through the same FSRS review as a practice answer
    and is logged as kind "mock" with the state before it, so undo and replay are exact;
    it does not count against the day's review limit. `kind` "exercise" (the learner's
    confirmed rating of the card's write-the-code exercise) is handled like "mock".
    """
    return grade_with_settings(
        session, user_id, card_id, rating, idempotency_key=idempotency_key,
        expected_version=expected_version, duration_ms=duration_ms, kind=kind, clock=clock,
    )[0]  # fmt: skip


def grade_with_settings(
    session: Session,
    user_id: int,
    card_id: str,
    rating: int,
    *,
    idempotency_key: str,
    expected_version: int,
    duration_ms: int | None = None,
    kind: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> tuple[GradeResult, LearnerSettings]:
    """`grade`, and the learner's settings row it locked, so that the caller can choose
    the next card in the same transaction without reading them again."""
    if rating not in (1, 2, 3, 4):
        raise SchedulingError(f"rating must be 1 (Again) to 4 (Easy), got {rating}")
    if not idempotency_key or len(idempotency_key) > 64:
        raise SchedulingError("idempotency_key must be 1 to 64 characters")
    if kind not in (None, "cram", "mock", "exercise"):
        raise SchedulingError(f"kind must be cram, mock or exercise (or left out), got {kind!r}")
    settings = _locked_settings(session, user_id)
    params = {"user_id": user_id, "card_id": card_id, "key": idempotency_key}
    facts = read_rows(session, _GRADE_FACTS, params).one()
    row = read_rows(session, _STATE_ROW, params).first()
    version = row.version if row else 0
    if facts.prior_id is not None:  # the key is almost always new: load the row only if not
        prior = session.get(ReviewLog, facts.prior_id)
        assert prior is not None
        if prior.card_id != card_id or prior.rating != rating:
            raise IdempotencyMismatch(
                f"idempotency key {idempotency_key!r} was used for card {prior.card_id!r} "
                f"rated {prior.rating}; send a new key for a new answer"
            )
        replay = _result(
            prior.model_dump(), facts.prior_id, facts.deck, version, bool(row and row.leech), True
        )
        return replay, settings

    if facts.card_status != "active":
        raise CardNotAvailable(f"card {card_id!r} is not an active card")

    now = clock.now()
    if facts.last_at is not None and facts.last_at > now:
        now = facts.last_at  # keep each learner's log in time order, whatever the clock does
    log = {
        "user_id": user_id, "card_id": card_id, "card_revision_id": facts.revision_id,
        "rating": rating, "reviewed_at": now, "duration_ms": duration_ms,
        "idempotency_key": idempotency_key, "kind": kind, "was_new": False,
        "due_after": None, "interview_on": None, "state_before": None,
    }  # fmt: skip
    if kind == "cram":
        log_id = _insert_log(session, log)
        return _result(log, log_id, facts.deck, version, bool(row and row.leech), False), settings

    if expected_version != version:
        raise GradeConflict(
            f"card {card_id!r} changed since it was shown (version {expected_version}, now "
            f"{version}): it was answered in another tab or window. Nothing was recorded; "
            "load the next card."
        )
    if row is not None and (row.suspended or (row.buried_until and row.buried_until > now)):
        raise GradeConflict(f"card {card_id!r} is suspended or buried; nothing was recorded")

    previous = memory_of(row)
    cap = interview.cap_day(settings, now)
    outcome = grading.review(
        previous,
        rating,
        now,
        context_for(settings, cap),
        seed=grading.review_seed(user_id, card_id, previous.reps if previous else 0),
        load=_load_fn(session, user_id, card_id, settings),
    )
    state = {name: getattr(outcome.state, name) for name in _MEMORY_FIELDS}
    state["version"] = version + 1
    if outcome.became_leech:
        state["suspended"] = True  # Anki's default leech action: tag and suspend
    if row is None:
        session.connection().execute(_INSERT_STATE, {
            "user_id": user_id, "card_id": card_id, "suspended": False, "buried_until": None,
            "introduced_at": now, **state,
        })  # fmt: skip
    else:
        if row.fsrs_state == FSRS_NEW:
            state["introduced_at"] = now
        session.connection().execute(
            _UPDATE_STATE, {"b_user_id": user_id, "b_card_id": card_id, **state}
        )
    _forget_loaded_state(session, user_id, card_id)
    log.update(
        kind=kind if kind in ("mock", "exercise") else outcome.kind, was_new=outcome.was_new,
        due_after=outcome.state.due, interview_on=cap, state_before=snapshot(row),
    )  # fmt: skip
    log_id = _insert_log(session, log)
    return _result(log, log_id, facts.deck, version + 1, outcome.state.leech, False), settings


def undo(session: Session, user_id: int, *, clock: Clock = SYSTEM_CLOCK) -> UndoResult:
    """Take back the learner's last answer: its log row is deleted and the card's
    state is restored exactly as it was before (a bury or suspend made since goes
    with it). The version still grows, so a tab showing the old card is refused.
    Run inside `session_scope(engine, write=True)`."""
    del clock
    lock_learner(session, user_id)
    last = _last_log(session, user_id)
    if last is None:
        raise NothingToUndo("there is no answer to undo")
    row = session.get(ReviewState, (user_id, last.card_id), populate_existing=True)
    version = row.version if row else 0
    if last.kind == "cram":
        session.delete(last)
        session.flush()
        return UndoResult(card_id=last.card_id, rating=last.rating, kind=last.kind, version=version)
    assert row is not None, "a scheduled review always leaves a state"
    if last.state_before is None:
        session.delete(row)
        version = 0
    else:
        _restore(row, last.state_before)
        row.version = version + 1
        version = row.version
        session.add(row)
    session.delete(last)
    session.flush()
    return UndoResult(card_id=last.card_id, rating=last.rating, kind=last.kind, version=version)


# --- bury, suspend ----------------------------------------------------------------------


def _state_row_for_flags(
    session: Session, user_id: int, card_id: str, now: datetime
) -> ReviewState:
    card = session.get(Card, card_id)
    if card is None:
        raise CardNotAvailable(f"no card {card_id!r}")
    row = session.get(ReviewState, (user_id, card_id), populate_existing=True)
    if row is None:
        row = ReviewState(user_id=user_id, card_id=card_id, fsrs_state=FSRS_NEW, due=now,
                          version=0, introduced_at=now)  # fmt: skip
    return row


def bury(session: Session, user_id: int, card_id: str, *, clock: Clock = SYSTEM_CLOCK) -> int:
    """Hide the card until the learner's next day begins. Returns the new version."""
    settings = lock_learner(session, user_id)
    now = clock.now()
    row = _state_row_for_flags(session, user_id, card_id, now)
    row.buried_until = day_bounds(now, settings.time_zone, settings.day_rollover_hour)[1]
    row.version += 1
    session.add(row)
    session.flush()
    return row.version


def set_suspended(
    session: Session, user_id: int, card_id: str, suspended: bool, *, clock: Clock = SYSTEM_CLOCK
) -> int:
    """Suspend (never served) or unsuspend a card. Returns the new version."""
    lock_learner(session, user_id)
    row = _state_row_for_flags(session, user_id, card_id, clock.now())
    row.suspended = suspended
    row.version += 1
    session.add(row)
    session.flush()
    return row.version


FLAGS = (0, 1, 2, 3, 4)  # none, red, orange, green, blue


def set_flag(
    session: Session, user_id: int, card_id: str, flag: int, *, clock: Clock = SYSTEM_CLOCK
) -> int:
    """Flag a card for oneself (Anki's Ctrl+1..4; 0 clears). Leaves the schedule and the
    version alone: a flag never invalidates the card being answered. Returns the flag."""
    if flag not in FLAGS:
        raise SchedulingError(f"flag must be 0 (none) to 4, got {flag}")
    lock_learner(session, user_id)
    row = _state_row_for_flags(session, user_id, card_id, clock.now())
    row.flag = flag
    session.add(row)
    session.flush()
    return flag


def flag_of(session: Session, user_id: int, card_id: str) -> int:
    row = session.get(ReviewState, (user_id, card_id))
    return row.flag if row is not None else 0


# --- counts and statistics -----------------------------------------------------------------


def queue_counts(session: Session, user_id: int, *, clock: Clock = SYSTEM_CLOCK) -> QueueCounts:
    """Cards left today: learning (due before the day ends), reviews due (within the
    daily review limit) and new (within the daily new limit)."""
    today = _today(session, user_id, load_settings(session, user_id), clock.now())
    _rows, new_available = _new_today(session, user_id, today)
    return _counts(session, user_id, today, new_available)


def next_with_counts(
    session: Session,
    user_id: int,
    *,
    settings: LearnerSettings | None = None,
    last: tuple[str, str] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    deck: str | None = None,
) -> tuple[NextCard | None, QueueCounts]:
    """next_card and queue_counts at one instant, sharing their reads (the learner's
    settings, the day's answer counts, the new cards). Pass `settings` and `last` (the
    card and deck just answered) when the caller has them already (e.g. from a grade).
    Read-only."""
    settings = settings if settings is not None else load_settings(session, user_id)
    today = _today(session, user_id, settings, clock.now())
    if deck is not None:
        shown = _choose(session, user_id, today, True, None, last, deck=deck)
        return shown, _deck_queue_counts(session, user_id, today, deck)
    new_rows, new_available = _new_today(session, user_id, today)
    shown = _choose(session, user_id, today, True, new_rows, last)
    return shown, _counts(session, user_id, today, new_available)


def _new_today(session: Session, user_id: int, today: _Today) -> tuple[list[Any], int]:
    """(next_card's new candidates, how many new cards are left today)."""
    left = max(0, new_limit(today) - today.introduced)
    if not left:
        return [], 0
    unseen = _unseen_in_order(session, user_id, today.now, today.settings.new_card_order)
    return unseen[: min(left, NEW_CANDIDATES)], min(left, len(unseen))


# One pass over the learner's states due today for both counts.
_DUE_TODAY_COUNTS = (
    select(
        func.count(case((fsrs_state_in(FSRS_LEARNING, FSRS_RELEARNING), 1))),
        func.count(case((col(ReviewState.fsrs_state) == FSRS_REVIEW, 1))),
    )
    .select_from(ReviewState)
    .join(Card, col(Card.id) == col(ReviewState.card_id))
    .where(
        col(ReviewState.user_id) == _USER,
        col(ReviewState.suspended).is_(False),
        _not_buried(_NOW),
        col(Card.status) == "active",
        fsrs_state_in(FSRS_LEARNING, FSRS_RELEARNING, FSRS_REVIEW),
        col(ReviewState.due) < bindparam("day_end"),
    )
)


def _counts(session: Session, user_id: int, today: _Today, new_available: int) -> QueueCounts:
    settings, now = today.settings, today.now
    learning, due = read_rows(
        session, _DUE_TODAY_COUNTS, {"user_id": user_id, "now": now, "day_end": today.day_end}
    ).one()
    if interview.active(settings, now):
        due = len(interview.review_candidates(session, settings, now, today.reviews_done))
    review_left = max(0, min(int(due), settings.reviews_per_day - today.reviews_done))
    return QueueCounts(learning=int(learning), review=review_left, new=new_available)


_STATES_BY_DECK = (
    select(
        Card.deck,
        func.count(case((fsrs_state_in(FSRS_LEARNING, FSRS_RELEARNING), 1))),
        func.count(
            case(
                (and_(col(ReviewState.fsrs_state) == FSRS_REVIEW, col(ReviewState.due) <= _NOW), 1)
            )
        ),
    )
    .select_from(ReviewState)
    .join(Card, col(Card.id) == col(ReviewState.card_id))
    .where(
        col(ReviewState.user_id) == _USER,
        col(ReviewState.suspended).is_(False),
        _not_buried(_NOW),
        col(Card.status) == "active",
        fsrs_state_in(FSRS_LEARNING, FSRS_RELEARNING, FSRS_REVIEW),
        col(ReviewState.due) < bindparam("day_end"),
    )
    .group_by(Card.deck)
)
_UNSEEN_BY_DECK = (
    select(Card.deck, func.count())
    .where(col(Card.status) == "active", ~_STARTED)
    .group_by(Card.deck)
)


def deck_counts(
    session: Session, user_id: int, *, clock: Clock = SYSTEM_CLOCK
) -> dict[str, QueueCounts]:
    """Per deck (its own cards, not sub-decks): learning cards due today, reviews due
    now, unseen cards (new ones are also capped by the day's new limit). Two queries."""
    settings = load_settings(session, user_id)
    today = _today(session, user_id, settings, clock.now())
    params = {"user_id": user_id, "now": today.now, "day_end": today.day_end}
    counts: dict[str, list[int]] = {}
    for deck, learning, due in read_rows(session, _STATES_BY_DECK, params).all():
        counts.setdefault(deck, [0, 0, 0])[:2] = [int(learning), int(due)]
    for deck, unseen in read_rows(session, _UNSEEN_BY_DECK, params).all():
        counts.setdefault(deck, [0, 0, 0])[2] = int(unseen)
    new_left = max(0, new_limit(today) - today.introduced)
    return {
        deck: QueueCounts(learning=learn, review=due, new=min(new, new_left))
        for deck, (learn, due, new) in counts.items()
    }


def _deck_queue_counts(session: Session, user_id: int, today: _Today, deck: str) -> QueueCounts:
    """The stage's counts while studying one deck (and its sub-decks)."""
    per_deck = deck_counts(session, user_id, clock=FixedClock(today.now))
    mine = [c for d, c in per_deck.items() if d == deck or d.startswith(deck + "/")]
    new_left = max(0, new_limit(today) - today.introduced)
    reviews_left = max(0, today.settings.reviews_per_day - today.reviews_done)
    return QueueCounts(
        learning=sum(c.learning for c in mine),
        review=min(reviews_left, sum(c.review for c in mine)),
        new=min(new_left, sum(c.new for c in mine)),
    )


_DUE_BEFORE = (
    select(ReviewState.due)
    .join(Card, col(Card.id) == col(ReviewState.card_id))
    .where(
        col(ReviewState.user_id) == _USER,
        col(ReviewState.fsrs_state) == FSRS_REVIEW,
        col(ReviewState.due) < bindparam("end"),
        col(ReviewState.suspended).is_(False),
        col(Card.status) == "active",
    )
)


def forecast(
    session: Session,
    user_id: int,
    *,
    days: int = 30,
    settings: LearnerSettings | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> list[tuple[date, int]]:
    """Review-state cards due on each of the next `days` learner days (overdue ones on
    today), suspended and retired cards left out. Pass `settings` when the caller has
    the learner's settings already."""
    settings = settings if settings is not None else load_settings(session, user_id)
    now = clock.now()
    tz, hour = settings.time_zone, settings.day_rollover_hour
    today = local_day(now, tz, hour)
    end = day_start(today + timedelta(days=days), tz, hour)
    rows = read_rows(session, _DUE_BEFORE, {"user_id": user_id, "end": end}).scalars()
    counts: Counter[date] = Counter()
    for due in rows:
        counts[max(today, local_day(due, tz, hour))] += 1
    return [(today + timedelta(days=i), counts[today + timedelta(days=i)]) for i in range(days)]


def reviews_per_day(
    session: Session, user_id: int, *, days: int = 30, clock: Clock = SYSTEM_CLOCK
) -> list[tuple[date, int]]:
    """Answers logged on each of the last `days` learner days (today last), all kinds."""
    settings = load_settings(session, user_id)
    now = clock.now()
    tz, hour = settings.time_zone, settings.day_rollover_hour
    today = local_day(now, tz, hour)
    first = today - timedelta(days=days - 1)
    rows = session.execute(
        select(ReviewLog.reviewed_at).where(
            ReviewLog.user_id == user_id,
            ReviewLog.reviewed_at >= day_start(first, tz, hour),
        )
    ).scalars()
    counts = Counter(local_day(t, tz, hour) for t in rows)
    return [(first + timedelta(days=i), counts[first + timedelta(days=i)]) for i in range(days)]


def true_retention(
    session: Session, user_id: int, *, days: int | None = None, clock: Clock = SYSTEM_CLOCK
) -> tuple[int, float | None]:
    """(reviews, share passed) over answers to Review-state cards (Anki's "true
    retention": learning and relearning steps left out), in the last `days` or ever."""
    conditions: list[Any] = [ReviewLog.user_id == user_id, ReviewLog.kind == "review"]
    if days is not None:
        conditions.append(ReviewLog.reviewed_at >= clock.now() - timedelta(days=days))
    total, passed = session.execute(
        select(func.count(), func.sum(case((col(ReviewLog.rating) > 1, 1), else_=0))).where(
            *conditions
        )
    ).one()
    total = int(total or 0)
    return total, (float(passed or 0) / total if total else None)


def predicted_recall(
    session: Session,
    user_id: int,
    *,
    at: datetime | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> RecallReport:
    """Predicted recall per deck and overall at `at` (default now), if nothing were
    reviewed before then. Active cards only; unstudied cards count as 0 in recall_all."""
    settings = load_settings(session, user_id)
    when = at or clock.now()
    recall = _recall_fn(config_for(settings))
    rows = session.execute(
        select(Card.deck, ReviewState.stability, ReviewState.last_review_at)
        .select_from(Card)
        .outerjoin(
            ReviewState,
            and_(ReviewState.card_id == Card.id, ReviewState.user_id == user_id),  # type: ignore[arg-type]
        )
        .where(Card.status == "active")
    ).all()
    per: dict[str, list[float | None]] = {}
    for deck, stability, last in rows:
        per.setdefault(deck, []).append(recall(stability, last, when) if stability else None)

    def summarise(name: str, values: list[float | None]) -> DeckRecall:
        studied = [v for v in values if v is not None]
        return DeckRecall(
            deck=name,
            cards=len(values),
            studied=len(studied),
            recall_studied=sum(studied) / len(studied) if studied else None,
            recall_all=sum(studied) / len(values) if values else 0.0,
        )

    everything = [v for values in per.values() for v in values]
    return RecallReport(
        at=when,
        overall=summarise("all", everything),
        decks=[summarise(d, per[d]) for d in sorted(per)],
    )


# --- custom study (cram) ------------------------------------------------------------


def next_cram_card(
    session: Session,
    user_id: int,
    *,
    deck: str | None = None,
    tag: str | None = None,
    since: datetime,
    clock: Clock = SYSTEM_CLOCK,
) -> NextCard | None:
    """Custom study: the next card of one deck or tag, now, whatever its due date:
    cards not crammed since `since` (the session's start), lowest predicted recall
    first (unstudied first). Grade it with kind="cram": logged, schedule untouched."""
    if (deck is None) == (tag is None):
        raise SchedulingError("custom study takes exactly one of deck or tag")
    settings = load_settings(session, user_id)
    now = clock.now()
    recall = _recall_fn(config_for(settings))
    crammed = exists().where(
        ReviewLog.user_id == user_id,  # type: ignore[arg-type]
        ReviewLog.card_id == Card.id,  # type: ignore[arg-type]
        ReviewLog.kind == "cram",  # type: ignore[arg-type]
        ReviewLog.reviewed_at >= since,  # type: ignore[arg-type]
    )
    q = (
        select(Card.id, Card.deck, ReviewState.stability, ReviewState.last_review_at)
        .select_from(Card)
        .outerjoin(
            ReviewState,
            and_(ReviewState.card_id == Card.id, ReviewState.user_id == user_id),  # type: ignore[arg-type]
        )
        .where(
            Card.status == "active",
            ~crammed,
            or_(ReviewState.suspended.is_(None), ReviewState.suspended.is_(False)),  # type: ignore[attr-defined]
        )
    )
    if deck is not None:
        q = q.where(Card.deck == deck)
    else:
        q = q.where(exists().where(CardTag.card_id == Card.id, CardTag.tag == tag))  # type: ignore[arg-type]
    rows = session.execute(q).all()
    if not rows:
        return None
    best = min(rows, key=lambda r: (recall(r.stability, r.last_review_at, now), r.id))
    return _present(session, user_id, settings, best.id, "cram", now, True)
