"""Study one tag (Anki's "Study now" on a filtered search ``tag:X``): the ordinary queue,
limited to the cards that carry the tag, with its own New / Learn / Due counts.

The queue is the scheduler's (service.next_card) with the tag as its scope: learning
cards due now, then due reviews lowest predicted recall first (in interview mode, the
interview ranking), then new cards in the learner's new-card order, then learning cards
due within the learn-ahead limit. The day's limits are the learner's, shared with
ordinary study: an answer here counts against them as any other. Answers are graded
with service.grade as usual. Read-only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, case, exists, func, or_, select
from sqlmodel import Session, col

from app.db import read_rows
from app.models.card import Card, CardTag
from app.models.review import (
    FSRS_LEARNING,
    FSRS_RELEARNING,
    FSRS_REVIEW,
    LearnerSettings,
    ReviewLog,
    ReviewState,
)
from app.services.scheduling import interview, new_order
from app.services.scheduling.clock import SYSTEM_CLOCK, Clock
from app.services.scheduling.day import day_bounds, local_day
from app.services.scheduling.service import (
    FSRS_NEW,
    LEARN_AHEAD,
    QueueCounts,
    fsrs_state_in,
    load_settings,
)

MAX_TAG_LENGTH = 64

_USER: Any = bindparam("user_id")
_NOW: Any = bindparam("now")
_TAGGED = exists().where(col(CardTag.card_id) == col(Card.id), col(CardTag.tag) == bindparam("tag"))
_NOT_BURIED = or_(col(ReviewState.buried_until).is_(None), col(ReviewState.buried_until) <= _NOW)

# The tag's started cards that can come today: learning, relearning and review.
_STATES = (
    select(
        ReviewState.card_id,
        ReviewState.fsrs_state,
        ReviewState.due,
        ReviewState.stability,
        ReviewState.last_review_at,
        Card.deck,
    )  # fmt: skip
    .join(Card, col(Card.id) == col(ReviewState.card_id))
    .where(
        col(ReviewState.user_id) == _USER,
        fsrs_state_in(FSRS_LEARNING, FSRS_RELEARNING, FSRS_REVIEW),
        col(ReviewState.suspended).is_(False),
        _NOT_BURIED,
        col(Card.status) == "active",
        col(ReviewState.due) < bindparam("until"),
        _TAGGED,
    )
    .order_by(col(ReviewState.due), col(ReviewState.card_id))
)
# The tag's cards this learner has not started (a row made only to bury or suspend a
# never-answered card still counts as started while it holds).
_STARTED = exists().where(
    col(ReviewState.user_id) == _USER,
    col(ReviewState.card_id) == col(Card.id),
    or_(
        col(ReviewState.fsrs_state) != FSRS_NEW,
        col(ReviewState.suspended).is_(True),
        ~_NOT_BURIED,
    ),
)
_UNSEEN = select(Card.id, Card.deck, Card.difficulty, Card.created_at).where(
    col(Card.status) == "active", ~_STARTED, _TAGGED
)
_DAY_COUNTS = select(
    func.count(case((col(ReviewLog.kind) == "review", 1))),
    func.count(case((col(ReviewLog.was_new).is_(True), 1))),
).where(col(ReviewLog.user_id) == _USER, col(ReviewLog.reviewed_at) >= bindparam("since"))
_LAST_ANSWERED = (
    select(ReviewLog.card_id, Card.deck)
    .outerjoin(Card, col(Card.id) == col(ReviewLog.card_id))
    .where(col(ReviewLog.user_id) == _USER)
    .order_by(col(ReviewLog.reviewed_at).desc(), col(ReviewLog.id).desc())
    .limit(1)
)


_TAG_CARDS = select(CardTag.card_id).where(col(CardTag.tag) == bindparam("tag"))


class TagQueue(NamedTuple):
    """The tag's queue now, each tier in the order its cards come; `counts` as the
    review page shows them (within the day's limits)."""

    learning: list[Any]  # due now
    reviews: list[Any]
    new: list[Any]
    ahead: list[Any]  # learning cards due within the learn-ahead limit
    counts: QueueCounts


def _left_today(
    session: Session, user_id: int, settings: LearnerSettings, now: datetime
) -> tuple[int, int, datetime]:
    """(reviews done today, new cards left, end of the learner day) under the day's limits,
    counted as the scheduler counts them (service.new_limit: custom study's extra
    new cards count on the day they were added)."""
    day_begin, day_end = day_bounds(now, settings.time_zone, settings.day_rollover_hour)
    reviews_done, introduced = read_rows(
        session, _DAY_COUNTS, {"user_id": user_id, "since": day_begin}
    ).one()
    local = local_day(now, settings.time_zone, settings.day_rollover_hour)
    extra = settings.extra_new if settings.extra_new_day == local else 0
    new_left = max(0, settings.new_per_day + extra - int(introduced))
    return int(reviews_done), new_left, day_end


def _weakest_first(rows: list[Any], now: datetime) -> list[Any]:
    """Due reviews, lowest predicted recall first: largest elapsed days / stability
    (recall falls as it grows, for any FSRS parameters), never-rated ones first."""

    def rank(row: Any) -> tuple[int, float, datetime, str]:
        if not row.stability or row.last_review_at is None:
            return (0, 0.0, row.due, row.card_id)
        elapsed = max(0, (now - row.last_review_at).days)
        return (1, -elapsed / row.stability, row.due, row.card_id)

    return sorted(rows, key=rank)


def tag_queue(
    session: Session,
    user_id: int,
    tag: str,
    *,
    settings: LearnerSettings | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> TagQueue:
    """The queue of one tag for this learner now. Read-only."""
    settings = settings if settings is not None else load_settings(session, user_id)
    now = clock.now()
    reviews_done, new_left, day_end = _left_today(session, user_id, settings, now)
    params = {"user_id": user_id, "now": now, "tag": tag, "until": day_end}
    rows = read_rows(session, _STATES, params).all()
    learning = [r for r in rows if r.fsrs_state != FSRS_REVIEW]
    due: list[Any] = [r for r in rows if r.fsrs_state == FSRS_REVIEW and r.due <= now]
    if interview.active(settings, now):
        tagged = set(read_rows(session, _TAG_CARDS, params).scalars())
        ranked = interview.review_candidates(session, settings, now, reviews_done)
        due = [c for c in ranked if c.card_id in tagged]
    else:
        due = _weakest_first(due, now)
    reviews = due[: max(0, settings.reviews_per_day - reviews_done)]
    unseen = new_order.order_new(
        read_rows(session, _UNSEEN, params).all(), settings.new_card_order, user_id
    )
    return TagQueue(
        learning=[r for r in learning if r.due <= now],
        reviews=reviews,
        new=unseen[:new_left],
        ahead=[r for r in learning if now < r.due <= now + LEARN_AHEAD],
        counts=QueueCounts(
            learning=len(learning), review=len(reviews), new=min(new_left, len(unseen))
        ),
    )


def next_in_tag(
    session: Session,
    user_id: int,
    tag: str,
    *,
    settings: LearnerSettings | None = None,
    last: tuple[str, str] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> tuple[str | None, QueueCounts]:
    """(the id of the card to answer next in the tag, or None when none is left today;
    the tag's counts). The card just answered (`last`: its id and deck, else the
    learner's last answer) does not come again while another is available; consecutive cards come
    from different decks when there is a choice. Read-only."""
    queue = tag_queue(session, user_id, tag, settings=settings, clock=clock)
    if last is None:
        row = read_rows(session, _LAST_ANSWERED, {"user_id": user_id}).first()
        last = (row[0], row[1]) if row else None
    last_card, last_deck = last if last is not None else (None, None)
    fallback = None
    for tier in (queue.learning, queue.reviews, queue.new, queue.ahead):
        others = [c for c in tier if c[0] != last_card]
        if fallback is None and len(others) < len(tier):
            fallback = last_card
        if others:
            pick = next((c for c in others if c.deck != last_deck), others[0])
            return pick[0], queue.counts
    return fallback, queue.counts
