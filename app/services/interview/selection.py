"""Which cards a mock interview asks: filtered by deck and difficulty, decks covered in
proportion to their share of the candidates, no card twice, and in "weakest areas"
mode the weakest cards of each deck first.

Weakness of a card is the mean of what is known about it: its predicted recall now
(0 for a card never studied: it is not known yet) and its score in each earlier mock
interview. Lower is weaker.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlmodel import Session

from app.models.card import Card
from app.models.interview import MockInterview, MockQuestion
from app.models.review import ReviewState
from app.services.scheduling import service as scheduler

DEFAULT_BUDGET_S = 120
DIFFICULTIES = ("easy", "medium", "hard")


@dataclass(frozen=True)
class Candidate:
    card_id: str
    deck: str
    difficulty: str
    budget_s: int
    weakness: float  # lower: weaker


def in_decks(deck: str, prefixes: Sequence[str]) -> bool:
    """True when `deck` is one of `prefixes` or below one (no prefixes: every deck)."""
    return not prefixes or any(deck == p or deck.startswith(p.rstrip("/") + "/") for p in prefixes)


def candidates(
    session: Session,
    user_id: int,
    *,
    decks: Sequence[str] = (),
    difficulties: Sequence[str] = (),
    now: datetime,
) -> list[Candidate]:
    """Active, unsuspended cards in the chosen decks and difficulties, with weakness."""
    settings = scheduler.load_settings(session, user_id)
    # The scheduler's own recall curve for this learner's parameters.
    recall = scheduler.recall_fn(scheduler.config_for(settings))
    rows = session.execute(
        select(
            Card.id,
            Card.deck,
            Card.difficulty,
            Card.answer_time_s,
            ReviewState.stability,
            ReviewState.last_review_at,
            ReviewState.suspended,
        )
        .select_from(Card)
        .outerjoin(
            ReviewState,
            and_(ReviewState.card_id == Card.id, ReviewState.user_id == user_id),  # type: ignore[arg-type]
        )
        .where(
            Card.status == "active",
            or_(ReviewState.suspended.is_(None), ReviewState.suspended.is_(False)),  # type: ignore[attr-defined]
        )
    ).all()
    past: dict[str, list[float]] = defaultdict(list)
    for card_id, score in session.execute(
        select(MockQuestion.card_id, MockQuestion.score)
        .join(MockInterview, MockInterview.id == MockQuestion.interview_id)
        .where(
            MockInterview.user_id == user_id,
            MockInterview.status == "finished",
            MockQuestion.score.is_not(None),  # type: ignore[union-attr]
            MockQuestion.card_id.is_not(None),  # type: ignore[union-attr]
        )
    ).all():
        past[card_id].append(float(score))
    out = []
    for card_id, deck, difficulty, budget, stability, last, _suspended in rows:
        if not in_decks(deck, decks) or (difficulties and difficulty not in difficulties):
            continue
        signals = [recall(stability, last, now) if stability else 0.0, *past.get(card_id, [])]
        out.append(
            Candidate(
                card_id, deck, difficulty, budget or DEFAULT_BUDGET_S, sum(signals) / len(signals)
            )
        )
    return out


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Questions per deck, proportional to `sizes` (largest remainder), never more
    than a deck holds; `n` is capped at the total."""
    total = sum(sizes.values())
    n = min(n, total)
    if n <= 0:
        return {deck: 0 for deck in sizes}
    quotas = {deck: n * size / total for deck, size in sizes.items()}
    counts = {deck: int(q) for deck, q in quotas.items()}
    by_remainder = sorted(sizes, key=lambda d: (-(quotas[d] - counts[d]), -sizes[d], d))
    for deck in by_remainder[: n - sum(counts.values())]:
        counts[deck] += 1
    return counts


def questions_for_minutes(minutes: int, pool: Sequence[Candidate], follow_ups: bool) -> int:
    """How many main questions fit in `minutes`: each takes its budget, half again for
    a follow-up, and about 30 s to check the key points."""
    if not pool:
        return 0
    budget = sum(c.budget_s for c in pool) / len(pool)
    per_question = budget * (1.5 if follow_ups else 1.0) + 30 * (2 if follow_ups else 1)
    return max(1, int(minutes * 60 // per_question))


def choose(pool: Sequence[Candidate], n: int, *, weakest: bool, rng: random.Random) -> list[str]:
    """`n` distinct cards: per deck its proportional share, the weakest first (or at
    random), then interleaved so that consecutive questions come from different decks."""
    by_deck: dict[str, list[Candidate]] = defaultdict(list)
    for cand in pool:
        by_deck[cand.deck].append(cand)
    counts = allocate({deck: len(cards) for deck, cards in by_deck.items()}, n)
    picked: dict[str, list[Candidate]] = {}
    for deck, cards in by_deck.items():
        shuffled = list(cards)
        rng.shuffle(shuffled)  # ties (and the random mode) in a seeded order
        if weakest:
            shuffled.sort(key=lambda c: c.weakness)
        picked[deck] = shuffled[: counts[deck]]
    # Decks with the weakest first pick lead; then round-robin.
    order = sorted(
        (d for d in picked if picked[d]),
        key=lambda d: (picked[d][0].weakness if weakest else rng.random(), d),
    )
    plan: list[str] = []
    while any(picked[d] for d in order):
        for deck in order:
            if picked[deck]:
                plan.append(picked[deck].pop(0).card_id)
    return plan
