"""Pure parts: learner days, fsrs edges, seeded fuzz, load balancing, the interview cap,
and the vectorised interview model against fsrs' own methods."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pytest
from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.scheduling import grading, interview
from app.services.scheduling.day import day_start, local_day
from app.services.scheduling.fsrs_bridge import MemoryState, SchedulerConfig, as_utc, to_fsrs

ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata",
         "America/Santiago", "Pacific/Chatham", "Europe/Paris"]  # fmt: skip
CTX = grading.GradingContext(SchedulerConfig())


@settings(max_examples=300, deadline=None)
@given(
    instant=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)),
    tz=st.sampled_from(ZONES),
    hour=st.integers(0, 23),
)
def test_every_instant_lies_in_its_day(instant, tz, hour):
    instant = instant.replace(tzinfo=UTC)
    day = local_day(instant, tz, hour)
    start, end = day_start(day, tz, hour), day_start(day + timedelta(days=1), tz, hour)
    assert start <= instant < end
    assert timedelta(hours=22) <= end - start <= timedelta(hours=26)  # DST: 23 or 25 h too


def test_fsrs_edges():
    naive = datetime(2026, 1, 1, 12)
    with pytest.raises(ValueError):
        Scheduler().review_card(FsrsCard(card_id=1), Rating.Good, naive)
    with pytest.raises(ValueError):
        as_utc(naive)
    # Another UTC-equivalent tzinfo is refused by fsrs; as_utc makes it timezone.utc.
    other = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(0), "Z"))
    assert as_utc(other).tzinfo is UTC
    card = to_fsrs(None, datetime(2026, 1, 1, 12, tzinfo=UTC))  # no 1 ms sleep: card_id given
    assert card.card_id == 0 and card.stability is None and card.step == 0


def _review_state(days: int, due: datetime) -> MemoryState:
    return MemoryState(2, None, 30.0, 5.0, due, due - timedelta(days=days), reps=3)


def test_fuzz_is_reproducible_per_card_and_review():
    now = datetime(2026, 1, 10, 12, tzinfo=UTC)
    prev = _review_state(30, now)
    a = grading.review(prev, 3, now, CTX, seed=grading.review_seed(1, "x", 3))
    b = grading.review(prev, 3, now, CTX, seed=grading.review_seed(1, "x", 3))
    assert a == b
    dues = {grading.review(prev, 3, now, CTX, seed=grading.review_seed(1, c, 3)).state.due
            for c in "abcdefghij"}  # fmt: skip
    assert len(dues) > 1  # but it does fuzz


def test_load_balancing_prefers_lighter_days():
    today = date(2026, 1, 10)
    lo, hi = grading.fuzz_range(30, 36500)
    heavy = {today + timedelta(days=d): 100 for d in range(lo, hi + 1)}
    light_day = today + timedelta(days=lo + 1)
    heavy[light_day] = 1
    picks = [
        grading.choose_interval(
            30, today=today, seed=s, maximum_interval_d=36500, load=lambda a, b: heavy, cap_d=None
        )  # fmt: skip
        for s in range(200)
    ]
    assert picks.count(lo + 1) > 190
    assert all(lo <= p <= hi for p in picks)


def test_interview_cap_brings_the_card_back_before_the_day():
    now = datetime(2026, 1, 10, 12, tzinfo=UTC)
    ctx = grading.GradingContext(SchedulerConfig(), interview_on=date(2026, 1, 20))
    prev = _review_state(60, now)
    for seed in range(50):
        out = grading.review(prev, 4, now, ctx, seed=seed)
        assert out.state.due <= day_start(date(2026, 1, 19), "UTC", 4)
    # Without the interview the same card would go much further.
    assert grading.review(prev, 4, now, CTX, seed=1).state.due > datetime(2026, 2, 1, tzinfo=UTC)


def test_preview_matches_the_grade():
    now = datetime(2026, 1, 10, 12, tzinfo=UTC)
    prev = _review_state(10, now)
    shown = grading.preview(prev, now, CTX)
    for rating, name in grading.RATING_NAMES.items():
        assert shown[name] == grading.review(prev, rating, now, CTX, seed=0, fuzz=False).interval


def test_vectorised_model_matches_fsrs():
    sched = Scheduler(enable_fuzzing=False)
    w = sched.parameters
    rng = np.random.default_rng(0)
    s = rng.uniform(0.5, 200, 50)
    d = rng.uniform(1, 10, 50)
    r = rng.uniform(0.3, 0.99, 50)
    good = interview.stability_after_good(np.array(w), d, s, r)
    again = interview.stability_after_again(np.array(w), d, s, r)
    for i in range(50):
        kw = dict(difficulty=d[i], stability=s[i], retrievability=r[i])
        assert good[i] == pytest.approx(sched._next_stability(**kw, rating=Rating.Good), rel=1e-12)
        assert again[i] == pytest.approx(
            sched._next_stability(**kw, rating=Rating.Again), rel=1e-12
        )
    last = datetime(2026, 1, 1, tzinfo=UTC)
    card = FsrsCard(card_id=1, state=2, stability=12.0, difficulty=5.0, due=last, last_review=last)
    at = last + timedelta(days=17, hours=5)
    assert interview.recall(np.array(w), np.array([17.0]), np.array([12.0]))[0] == pytest.approx(
        sched.get_card_retrievability(card, at), rel=1e-12
    )


def test_interview_gain_ranks_weak_cards_first():
    w = Scheduler().parameters
    g = interview.gains(w, np.array([2.0, 200.0]), np.array([5.0, 5.0]), np.array([2.0, 2.0]), 14.0)
    assert g[0] > g[1] > -1e-9
