"""A learner's Anki history, uploaded, gives exactly the FSRS states the same answers
give when made here; nobody else's schedule moves; a second upload adds nothing."""

from __future__ import annotations

import random

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.db import session_scope
from app.models.card import Card
from app.models.review import ReviewLog, ReviewState
from app.services.anki.history import import_history
from app.services.scheduling import replay
from app.services.scheduling.clock import FixedClock
from tests.anki_packages import BASIC, REVERSED, Review, build, note, with_reviews
from tests.services.scheduling.conftest import START, Learner, add_user

# Anki's revlog.type for each kind of answer here.
REVLOG_TYPE = {"learn": 0, "review": 1, "relearn": 2}


def add_anki_cards(engine: Engine) -> None:
    with session_scope(engine, write=True) as s:
        for card_id, source in (
            ("adam", "anki:g-adam"),
            ("adam-reversed", "anki#1:g-adam"),
            ("sgd", "anki:g-sgd"),
            ("local", ""),
        ):
            s.add(Card(id=card_id, deck="opt", title=card_id, difficulty="medium",
                       file_path=f"{card_id}.md", content_hash="h",
                       sources=[source] if source else []))  # fmt: skip


def states(engine: Engine, user_id: int) -> dict[str, dict[str, object]]:
    with session_scope(engine) as s:
        rows = s.exec(select(ReviewState).where(ReviewState.user_id == user_id)).all()
        return {
            r.card_id: {k: v for k, v in asdict_row(r).items() if k in replay.COMPARED}
            for r in rows
        }


def asdict_row(row: ReviewState) -> dict[str, object]:
    return {name: getattr(row, name) for name in replay.COMPARED}


def package() -> bytes:
    return build(
        [
            note(REVERSED, "Adam", "Momentum and RMSprop", "g-adam"),
            note(BASIC, "SGD", "Plain steps", "g-sgd"),
            note(BASIC, "Not in the deck", "x", "g-elsewhere"),
        ]
    )


def test_uploaded_history_reproduces_the_states_of_the_same_answers_here(engine: Engine) -> None:
    add_anki_cards(engine)
    clock = FixedClock(START)
    me = Learner(engine, add_user(engine), clock)
    other = Learner(engine, add_user(engine), clock)
    other.grade("adam", 3)
    others_before = states(engine, other.user_id)

    # Some weeks of answers made here, on three cards that came from Anki.
    rng = random.Random(3)
    for _day in range(60):
        for _pass in range(3):  # learning steps come due within the day
            for card_id in ("adam", "adam-reversed", "sgd"):
                state = me.state(card_id)
                if state is None or state.due <= clock.now():
                    me.grade(card_id, rng.choices([1, 2, 3, 4], [0.2, 0.1, 0.6, 0.1])[0])
                    clock.advance(minutes=rng.choice([1, 5, 12]))
            clock.advance(minutes=15)
        clock.advance(days=1)
    practised = states(engine, me.user_id)
    assert set(practised) == {"adam", "adam-reversed", "sgd"}
    with session_scope(engine) as s:
        logs = s.exec(
            select(ReviewLog).where(ReviewLog.user_id == me.user_id).order_by(ReviewLog.id)
        ).all()
        answers = [(l.card_id, l.reviewed_at, l.rating, l.kind) for l in logs]  # noqa: E741
    assert len(answers) > 30
    assert {kind for *_, kind in answers} == {"learn", "review", "relearn"}

    # The same answers, as Anki's review log of the notes those cards came from.
    where = {"adam": ("g-adam", 0), "adam-reversed": ("g-adam", 1), "sgd": ("g-sgd", 0)}
    reviews = [
        Review(*where[card_id], int(at.timestamp() * 1000), rating, REVLOG_TYPE[kind])
        for card_id, at, rating, kind in answers
    ]
    reviews.append(Review("g-elsewhere", 0, int(START.timestamp() * 1000) + 5, 3))
    reviews.append(Review("g-sgd", 0, int(START.timestamp() * 1000) + 7, 0, kind=4))
    apkg = with_reviews(package(), reviews)

    # The learner's own record here is wiped; the upload must rebuild it.
    with session_scope(engine, write=True) as s:
        s.execute(delete(ReviewLog).where(ReviewLog.user_id == me.user_id))
        s.execute(delete(ReviewState).where(ReviewState.user_id == me.user_id))
    with session_scope(engine, write=True) as s:
        summary = import_history(s, me.user_id, apkg)
    assert summary.added == len(answers)
    assert summary.matched_cards == 3 and summary.matched_notes == 2
    assert summary.unmatched_reviews == 1 and summary.not_answers == 1
    assert states(engine, me.user_id) == practised
    assert states(engine, other.user_id) == others_before
    with session_scope(engine) as s:
        assert replay.verify(s, me.user_id) == []

    with session_scope(engine, write=True) as s:
        again = import_history(s, me.user_id, apkg)
    assert again.added == 0 and again.already_imported == len(answers)
    assert states(engine, me.user_id) == practised


def test_a_package_without_history_is_refused(engine: Engine) -> None:
    import pytest

    from app.services.authoring.bulk import UploadRefused

    user_id = add_user(engine)
    with (
        session_scope(engine, write=True) as s,
        pytest.raises(UploadRefused, match="no review history"),
    ):
        import_history(s, user_id, package())


def test_a_bare_collection_file_is_accepted(engine: Engine) -> None:
    import io
    import zipfile

    add_anki_cards(engine)
    user_id = add_user(engine)
    apkg = with_reviews(package(), [Review("g-sgd", 0, int(START.timestamp() * 1000), 3, kind=0)])
    collection = zipfile.ZipFile(io.BytesIO(apkg)).read("collection.anki2")
    with session_scope(engine, write=True) as s:
        summary = import_history(s, user_id, collection)
    assert summary.added == 1 and summary.matched_cards == 1
