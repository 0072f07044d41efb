"""Study one tag: the ordinary queue (learning, due reviews, new cards, learn ahead)
limited to the tag's cards, under the learner's daily limits, with the tag's counts."""

from __future__ import annotations

from app.services.scheduling import service, tag_study
from tests.services.scheduling.conftest import add_cards


def next_in(me, tag: str):  # type: ignore[no-untyped-def]
    return me.call(tag_study.next_in_tag, tag)


def test_a_tag_brings_only_its_cards_in_queue_order_within_the_day_limits(
    engine, make_learner, clock
) -> None:  # type: ignore[no-untyped-def]
    tagged = add_cards(engine, 4, decks=("a", "b"), prefix="t", tags=("rnn",))
    others = add_cards(engine, 3, decks=("a",), prefix="u", tags=("cnn",))
    me = make_learner(new_per_day=3)
    card_id, counts = next_in(me, "rnn")
    assert card_id in tagged
    assert counts == service.QueueCounts(learning=0, review=0, new=3)  # the daily limit

    me.grade(others[0], 4)  # a new card answered elsewhere uses the shared limit
    assert next_in(me, "rnn")[1].new == 2
    seen = []
    for _ in range(2):
        card_id, _counts = next_in(me, "rnn")
        assert card_id in tagged and card_id not in seen
        seen.append(card_id)
        me.grade(card_id, 1)  # Again: learning, back in a minute
    card_id, counts = next_in(me, "rnn")
    assert counts == service.QueueCounts(learning=2, review=0, new=0)
    assert card_id == seen[0]  # learn ahead: the other one than the card just answered
    clock.advance(minutes=2)
    card_id, _counts = next_in(me, "rnn")
    assert card_id == seen[0]  # due now: learning first, oldest due first
    assert next_in(me, "cnn")[0] is None  # its new cards wait: the day's new limit is used
    assert next_in(me, "no-such-tag") == (None, service.QueueCounts(learning=0, review=0, new=0))


def test_due_reviews_of_the_tag_come_weakest_first_and_count(engine, make_learner, clock) -> None:  # type: ignore[no-untyped-def]
    tagged = add_cards(engine, 3, decks=("a", "b", "c"), prefix="t", tags=("rnn",))
    untagged = add_cards(engine, 1, prefix="u")
    me = make_learner(new_per_day=0)
    for card_id in (*tagged, *untagged):
        me.grade(card_id, 4)  # Easy: straight to review
    me.call(service.set_suspended, tagged[2], True, write=True)
    clock.set(max(me.state(c).due for c in (*tagged, *untagged)) + clock.now().resolution)
    card_id, counts = next_in(me, "rnn")
    assert counts == service.QueueCounts(learning=0, review=2, new=0)  # not the suspended
    assert card_id in tagged[:2]
    me.grade(card_id, 3)
    second, counts = next_in(me, "rnn")
    assert second in tagged[:2] and second != card_id and counts.review == 1
    me.grade(second, 3)
    assert next_in(me, "rnn") == (None, service.QueueCounts(learning=0, review=0, new=0))
    assert me.next() is not None and me.next().card_id == untagged[0]  # still due elsewhere
