"""The next card: learning cards due now, due reviews, new cards, learn-ahead; the one
statement that presents a card with its buttons."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
)
from sqlmodel import Session, col

from app.db import read_rows
from app.models.card import Card
from app.models.review import (
    FSRS_LEARNING,
    FSRS_RELEARNING,
    LearnerSettings,
    ReviewLog,
    ReviewState,
)
from app.services.scheduling import grading, interview, new_order
from app.services.scheduling.clock import SYSTEM_CLOCK, Clock
from app.services.scheduling.day import day_bounds, local_day
from app.services.scheduling.due_ranking import REVIEW_WINDOW, due_review_rows
from app.services.scheduling.labels import RATING_OF_NAME, human_interval
from app.services.scheduling.learner import config_for, context_for, load_settings
from app.services.scheduling.results import ButtonInterval, NextCard
from app.services.scheduling.states import (
    CARD_ID,
    FSRS_NEW,
    NOW,
    USER_ID,
    fsrs_state_in,
    memory_of,
    not_buried,
    recall_fn,
)

LEARN_AHEAD = timedelta(minutes=20)  # Anki's default "learn ahead limit"
NEW_CANDIDATES = 20
REVIEW_CANDIDATES = 50

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
        col(ReviewState.user_id) == USER_ID,
        fsrs_state_in(FSRS_LEARNING, FSRS_RELEARNING),
        col(ReviewState.due) <= bindparam("until"),
        col(ReviewState.suspended).is_(False),
        not_buried(NOW),
        col(Card.status) == "active",
    )
    .order_by(col(ReviewState.due), col(ReviewState.card_id))
    .limit(50)
)


def _learning_rows(session: Session, user_id: int, until: datetime, now: datetime) -> list[Any]:
    params = {"user_id": user_id, "until": until, "now": now}
    return list(read_rows(session, _LEARNING_ROWS, params).all())


STARTED = exists().where(
    col(ReviewState.user_id) == USER_ID,
    col(ReviewState.card_id) == col(Card.id),
    or_(
        col(ReviewState.fsrs_state) != FSRS_NEW,
        col(ReviewState.suspended).is_(True),
        ~not_buried(NOW),
    ),
)
_UNSEEN = select(Card.id, Card.deck, Card.difficulty, Card.created_at).where(
    col(Card.status) == "active", ~STARTED
)


def unseen_in_order(session: Session, user_id: int, now: datetime, order: str) -> list[Any]:
    """Every active card this learner has not started, in their new-card order."""
    rows = read_rows(session, _UNSEEN, {"user_id": user_id, "now": now}).all()
    return new_order.order_new(rows, order, user_id)


_DIFFICULTY_RANK = case(new_order.DIFFICULTY_RANK, value=col(Card.difficulty), else_=1)


def _deck_filter() -> Any:
    deck = col(Card.deck)
    return or_(deck == bindparam("deck"), deck.like(bindparam("deck_below"), escape="\\"))


# The head of the new-card order ranked in SQL (new_order.order_new's "difficulty" and
# "added" orders, the same ties): reading every unseen card on each request made the
# new tier linear in the deck. Ids and decks compare as Python compares str: in
# PostgreSQL by the "C" collation (its default collation orders words, not code points).
@cache
def _unseen_head_statement(dialect: str, order: str, with_deck: bool) -> Any:
    def exact(column: Any) -> Any:
        return column.collate("C") if dialect == "postgresql" else column

    where = [col(Card.status) == "active", ~STARTED]
    if with_deck:
        where.append(_deck_filter())
    limit = bindparam("limit", type_=Integer)
    if order == "added":
        return (
            select(Card.id, Card.deck, Card.difficulty, Card.created_at)
            .where(*where)
            .order_by(col(Card.created_at), exact(col(Card.id)))
            .limit(limit)
        )
    position = func.row_number().over(
        partition_by=col(Card.deck),
        order_by=(_DIFFICULTY_RANK, col(Card.created_at), exact(col(Card.id))),
    )
    ranked = (
        select(
            Card.id,
            Card.deck,
            Card.difficulty,
            Card.created_at,
            _DIFFICULTY_RANK.label("rank"),
            position.label("position"),
        )
        .where(*where)
        .subquery()
    )
    return (
        select(ranked.c.id, ranked.c.deck, ranked.c.difficulty, ranked.c.created_at)
        .order_by(ranked.c.position, ranked.c.rank, exact(ranked.c.deck))
        .limit(limit)
    )


@cache
def _unseen_count_statement(with_deck: bool) -> Any:
    where = [col(Card.status) == "active", ~STARTED]
    if with_deck:
        where.append(_deck_filter())
    return select(func.count()).select_from(Card).where(*where)


def _deck_params(deck: str | None) -> dict[str, str]:
    if deck is None:
        return {}
    below = deck.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"
    return {"deck": deck, "deck_below": below}


def unseen_head(
    session: Session, user_id: int, now: datetime, order: str, limit: int, deck: str | None = None
) -> list[Any]:
    """The first `limit` active cards this learner has not started, in their new-card
    order, of `deck` and its sub-decks when given. Ranked in SQL, except the
    per-learner random order (a hash Python computes)."""
    if limit <= 0:
        return []
    if order == "random":
        return in_deck(unseen_in_order(session, user_id, now, order), deck)[:limit]
    statement = _unseen_head_statement(session.get_bind().dialect.name, order, deck is not None)
    params = {"user_id": user_id, "now": now, "limit": limit, **_deck_params(deck)}
    return list(read_rows(session, statement, params).all())


def unseen_count(session: Session, user_id: int, now: datetime, deck: str | None = None) -> int:
    """How many active cards this learner has not started (of `deck` when given)."""
    params = {"user_id": user_id, "now": now, **_deck_params(deck)}
    return int(read_rows(session, _unseen_count_statement(deck is not None), params).scalar_one())


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
    today = read_today(session, user_id, load_settings(session, user_id), clock.now())
    return choose(session, user_id, today, with_buttons, None)


class Today(NamedTuple):
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
).where(col(ReviewLog.user_id) == USER_ID, col(ReviewLog.reviewed_at) >= bindparam("since"))


def new_limit(today: Today) -> int:
    """Today's new-card limit: the daily setting, plus what custom study added today."""
    settings = today.settings
    local = local_day(today.now, settings.time_zone, settings.day_rollover_hour)
    extra = settings.extra_new if settings.extra_new_day == local else 0
    return settings.new_per_day + extra


def read_today(session: Session, user_id: int, settings: LearnerSettings, now: datetime) -> Today:
    day_begin, day_end = day_bounds(now, settings.time_zone, settings.day_rollover_hour)
    reviews_done, introduced = read_rows(
        session, _DAY_COUNTS, {"user_id": user_id, "since": day_begin}
    ).one()
    return Today(settings, now, day_begin, day_end, int(reviews_done), int(introduced))


_LAST_ANSWERED = (
    select(ReviewLog.card_id, Card.deck)
    .outerjoin(Card, col(Card.id) == col(ReviewLog.card_id))
    .where(col(ReviewLog.user_id) == USER_ID)
    .order_by(col(ReviewLog.reviewed_at).desc(), col(ReviewLog.id).desc())
    .limit(1)
)


def _last_answered(session: Session, user_id: int) -> tuple[str | None, str | None]:
    """(card id, deck) of the learner's last answer, or (None, None). One query."""
    row = read_rows(session, _LAST_ANSWERED, {"user_id": user_id}).first()
    return (row[0], row[1]) if row else (None, None)


def choose(
    session: Session,
    user_id: int,
    today: Today,
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
            return in_deck(due_review_rows(session, user_id, now, REVIEW_WINDOW), deck)[
                : min(left, REVIEW_CANDIDATES)
            ]
        return due_review_rows(session, user_id, now, min(left, REVIEW_CANDIDATES))

    def new() -> list[Any]:
        if new_rows is not None:
            return new_rows
        left = new_limit(today) - today.introduced
        if left <= 0:
            return []
        return unseen_head(
            session, user_id, now, settings.new_card_order, min(left, NEW_CANDIDATES), deck
        )

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
    return present(session, user_id, settings, chosen[0], queue, now, with_buttons)


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
        and_(col(ReviewState.card_id) == col(Card.id), col(ReviewState.user_id) == USER_ID),
    )
    .where(col(Card.id) == CARD_ID)
)


def present(
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
                    rating=RATING_OF_NAME[label],
                    label=label,
                    seconds=seconds,
                    text=human_interval(seconds),
                )
            )
    recall = recall_fn(config_for(settings))
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
