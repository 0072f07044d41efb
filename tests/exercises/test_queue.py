"""The queue of exercises to study on their own: due cards' exercises first (earliest
first), then exercises never done; suspended, buried and retired cards left out."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from app.db import session_scope
from app.models.card import Card
from app.models.review import ReviewState
from app.services.scheduling import service as scheduler
from app.services.scheduling.clock import FixedClock
from app.services.scheduling.exercise_queue import exercise_queue
from tests.services.interview.conftest import START, add_card, add_user

LINKS = {"soft": "softmax", "norm": "layer_norm", "adam": "adam_step", "iou": "iou"}


def grade(engine: Engine, user: int, card: str, rating: int, key: str, clock: FixedClock,
          kind: str | None = None) -> None:  # fmt: skip
    with session_scope(engine, write=True) as s:
        row = s.get(ReviewState, (user, card))
        scheduler.grade(
            s, user, card, rating, idempotency_key=key,
            expected_version=row.version if row else 0, kind=kind, clock=clock,
        )  # fmt: skip


def queue(engine: Engine, user: int, clock: FixedClock, **kw):  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        return exercise_queue(s, user, LINKS, clock.now(), **kw)


def test_due_first_by_due_date_then_never_done(any_engine: Engine) -> None:
    engine = any_engine
    clock = FixedClock(START)
    user, other = add_user(engine), add_user(engine)
    for card in LINKS:
        add_card(engine, card, deck=f"d-{card}")
    # Nothing studied: every exercise is new, in deck order.
    first = queue(engine, user, clock)
    assert [q.card_id for q in first] == ["adam", "iou", "norm", "soft"]
    assert all(q.new and q.due is None for q in first)

    grade(engine, user, "soft", 3, "a", clock, "exercise")  # done as an exercise
    clock.advance(minutes=1)
    grade(engine, user, "norm", 1, "b", clock)  # Again: due again in minutes
    grade(engine, user, "iou", 4, "c", clock, "exercise")  # Easy: due in days
    clock.advance(days=1)
    now = clock.now()
    result = queue(engine, user, clock)
    due = [q for q in result if q.due is not None]
    assert [q.due for q in due] == sorted(q.due for q in due if q.due is not None)
    assert {q.card_id for q in due} >= {"norm"} and "iou" not in {q.card_id for q in due}
    assert all(q.due is not None and q.due <= now for q in due)
    assert [q.card_id for q in result if q.due is None] == ["adam"]  # never done, not due
    by_card = {q.card_id: q for q in result}
    assert by_card["norm"].new  # reviewed as a card, never as an exercise
    assert "soft" not in by_card or by_card["soft"].due is not None
    # Another learner's schedule is theirs alone.
    assert all(q.new for q in queue(engine, other, clock))


def test_suspended_buried_and_retired_cards_are_left_out(any_engine: Engine) -> None:
    engine = any_engine
    clock = FixedClock(START)
    user = add_user(engine)
    for card in LINKS:
        add_card(engine, card)
    for card in ("soft", "norm", "adam"):
        grade(engine, user, card, 1, f"k-{card}", clock)
    clock.advance(hours=1)
    with session_scope(engine, write=True) as s:
        scheduler.set_suspended(s, user, "soft", True, clock=clock)
        scheduler.bury(s, user, "norm", clock=clock)
        card = s.get(Card, "adam")
        assert card is not None
        card.status = "retired"
        s.add(card)
    assert [q.card_id for q in queue(engine, user, clock)] == ["iou"]
    assert queue(engine, user, clock, limit=0) == []
    clock.advance(days=2)  # the bury has ended
    assert {q.card_id for q in queue(engine, user, clock)} == {"norm", "iou"}
