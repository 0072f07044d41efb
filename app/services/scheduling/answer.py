"""Answers: grade, undo, bury, suspend and flags. Every writer here runs inside
`session_scope(engine, write=True)` and locks the learner's settings row first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col

from app.db import read_rows
from app.models.card import Card, CardRevision
from app.models.review import (
    FSRS_REVIEW,
    LearnerSettings,
    ReviewLog,
    ReviewState,
)
from app.services.scheduling import grading, interview
from app.services.scheduling.clock import SYSTEM_CLOCK, Clock
from app.services.scheduling.day import day_bounds, day_start, local_day
from app.services.scheduling.learner import context_for, lock_learner, locked_settings
from app.services.scheduling.results import (
    CardNotAvailable,
    GradeConflict,
    GradeResult,
    IdempotencyMismatch,
    NothingToUndo,
    SchedulingError,
    UndoResult,
)
from app.services.scheduling.states import (
    CARD_ID,
    FSRS_NEW,
    MEMORY_FIELDS,
    USER_ID,
    memory_of,
    restore_snapshot,
    snapshot,
)

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


_DUE_PER_INSTANT = (
    select(ReviewState.due, func.count())
    .where(
        col(ReviewState.user_id) == USER_ID,
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
    col(ReviewLog.user_id) == USER_ID, col(ReviewLog.idempotency_key) == bindparam("key")
)


# What a grade checks before it writes, in one statement of primary-key and index
# lookups: the card, its current revision, whether the key was used, the last answer.
_GRADE_FACTS = select(
    select(Card.status).where(col(Card.id) == CARD_ID).scalar_subquery().label("card_status"),
    select(Card.deck).where(col(Card.id) == CARD_ID).scalar_subquery().label("deck"),
    _LATEST_REVISION.scalar_subquery().label("revision_id"),
    _ID_BY_IDEMPOTENCY_KEY.scalar_subquery().label("prior_id"),
    _LAST_REVIEWED_AT.scalar_subquery().label("last_at"),
)
_STATE_ROW = select(*ReviewState.__table__.columns).where(  # type: ignore[attr-defined]
    col(ReviewState.user_id) == USER_ID, col(ReviewState.card_id) == CARD_ID
)
# Grading writes through Core: the ORM's unit of work costs more than the writes.
_INSERT_STATE = insert(ReviewState)
_UPDATE_STATE = update(ReviewState).where(
    col(ReviewState.user_id) == bindparam("b_user_id"),
    col(ReviewState.card_id) == bindparam("b_card_id"),
)
_INSERT_LOG = insert(ReviewLog).returning(col(ReviewLog.id))


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
    settings = locked_settings(session, user_id)
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
    state = {name: getattr(outcome.state, name) for name in MEMORY_FIELDS}
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
        restore_snapshot(row, last.state_before)
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
