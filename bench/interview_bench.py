"""Interview-date mode against plain FSRS, same number of reviews (docs/interview-date.md).

A simulated learner knows N cards (FSRS states drawn at random: some fresh, some
old, some weak) and has an interview in H days. The FSRS model is the ground
truth: each review succeeds with the predicted recall. Policies:
  plain FSRS        reviews what is due each day (lowest recall first); no cap;
  FSRS + cap        the same, with intervals capped at the interview's eve;
  interview mode    the same number of reviews as plain FSRS, spread evenly over
                    the days, given each day to the largest expected gains in recall
                    on the interview day (due or not), intervals capped.
Prints the expected recall on the interview day (mean over cards, exact given the
final states) averaged over seeds, and the reviews each policy used.

    .venv/bin/python bench/interview_bench.py [--cards 400 --days 21 --seeds 20]
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fsrs import Card, Rating, Scheduler, State  # noqa: E402

from app.services.scheduling import interview  # noqa: E402

START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def deck(n: int, rng: random.Random, sched: Scheduler) -> list[Card]:
    """n cards in Review state with varied stability and age, due per FSRS."""
    cards = []
    for i in range(n):
        s = rng.lognormvariate(2.0, 1.0)
        last = START - timedelta(days=rng.randint(0, max(1, int(s * 1.2))))
        ivl = max(1, sched._next_interval(stability=s))
        cards.append(
            Card(
                card_id=i + 1,
                state=State.Review,
                stability=s,
                difficulty=rng.uniform(2, 9),
                due=last + timedelta(days=ivl),
                last_review=last,
            )
        )
    return cards


def answer(sched: Scheduler, card: Card, when: datetime, rng: random.Random, cap: datetime | None):
    recalled = rng.random() < sched.get_card_retrievability(card, when)
    card, _ = sched.review_card(card, Rating.Good if recalled else Rating.Again, when)
    if card.state == State.Relearning:  # relearn the same session
        card, _ = sched.review_card(card, Rating.Good, when + timedelta(minutes=10))
    if cap is not None and card.due > cap:
        card.due = cap
    return card


def recall_at(sched: Scheduler, cards: list[Card], t: datetime) -> float:
    return float(np.mean([sched.get_card_retrievability(c, t) for c in cards]))


def run_plain(cards, sched, days, rng, capped):
    t = START + timedelta(days=days)
    cap = t - timedelta(days=1) if capped else None
    reviews = 0
    for d in range(days):
        now = START + timedelta(days=d)
        due = [i for i, c in enumerate(cards) if c.due <= now + timedelta(hours=12)]
        due.sort(key=lambda i: sched.get_card_retrievability(cards[i], now))
        for i in due:
            cards[i] = answer(sched, cards[i], now, rng, cap)
            reviews += 1
    return recall_at(sched, cards, t), reviews


def run_interview(cards, sched, days, rng, total):
    t = START + timedelta(days=days)
    cap = t - timedelta(days=1)
    w = sched.parameters
    reviews = 0
    for d in range(days):
        now = START + timedelta(days=d)
        budget = total // days + (1 if d < total % days else 0)
        s = np.array([c.stability for c in cards])
        dif = np.array([c.difficulty for c in cards])
        since = np.array([(now - c.last_review).days for c in cards], dtype=float)
        gain = interview.gains(w, s, dif, since, float((t - now).days))
        gain[since < 1] = -1  # reviewed today already
        for i in np.argsort(-gain)[:budget]:
            cards[i] = answer(sched, cards[i], now, rng, cap)
            reviews += 1
    return recall_at(sched, cards, t), reviews


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=400)
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument(
        "--quick", action="store_true", help="smoke run (CI): 40 cards, 3 days, 2 seeds"
    )
    args = parser.parse_args()
    if args.quick:
        args.cards, args.days, args.seeds = 40, 3, 2
    sched = Scheduler(enable_fuzzing=False)
    results: dict[str, list[tuple[float, int]]] = {
        "plain FSRS": [],
        "FSRS + cap": [],
        "interview mode": [],
    }
    for seed in range(args.seeds):
        base = deck(args.cards, random.Random(seed), sched)
        r0 = recall_at(sched, base, START + timedelta(days=args.days))
        plain = run_plain(list(base), sched, args.days, random.Random(1000 + seed), False)
        capped = run_plain(list(base), sched, args.days, random.Random(1000 + seed), True)
        mode = run_interview(list(base), sched, args.days, random.Random(1000 + seed), plain[1])
        results["plain FSRS"].append(plain)
        results["FSRS + cap"].append(capped)
        results["interview mode"].append(mode)
    print(
        f"{args.cards} cards, interview in {args.days} days, {args.seeds} seeds; "
        f"recall on the day with no reviews at all: {r0:.3f} (last seed)"
    )
    print(f"{'policy':16s} {'E[recall] on the day':>21s} {'reviews':>9s}")
    for name, values in results.items():
        rec = np.array([v[0] for v in values])
        n = np.mean([v[1] for v in values])
        print(f"{name:16s} {rec.mean():14.4f} ± {rec.std(ddof=1) / np.sqrt(len(rec)):.4f} {n:9.0f}")
    diff = np.array(
        [m[0] - p[0] for m, p in zip(results["interview mode"], results["plain FSRS"], strict=True)]
    )
    print(
        f"interview mode - plain FSRS, same reviews: {diff.mean():+.4f} "
        f"(wins {int((diff > 0).sum())} of {len(diff)} seeds)"
    )


if __name__ == "__main__":
    main()
