"""How well does FSRS predict this learner's recall? The srs-benchmark way.

Replays ../shared/data/fsrs_review_log_sample.csv (one real learner, 12,580 reviews):
time-ordered 5-fold split (sklearn TimeSeriesSplit), fit on the earlier part, predict
recall before each later review that is not on the same day as the card's previous
one, and print log loss, RMSE(bins) and AUC for a constant (training mean), the
default parameters and the parameters fitted per fold by fsrs-rs-python (what
`backprop optimize` uses). --py-fsrs also fits py-fsrs' torch optimizer on the last
fold, for the accuracy/speed comparison that chose the engine.

    .venv/bin/python bench/recall_bench.py [--py-fsrs]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fsrs import Card, Rating, Scheduler  # noqa: E402
from fsrs.scheduler import DEFAULT_PARAMETERS  # noqa: E402
from fsrs_rs_python import FSRSItem, FSRSReview  # noqa: E402

from app.services.scheduling.day import local_day  # noqa: E402
from app.services.scheduling.optimizer import answers_from_csv, fit  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "fsrs_review_log_sample.csv"
FOLDS = 5


def build(rows):
    """Per review: card, day, rating, the card's history so far and whether it is scored."""
    history: dict[str, list[tuple[int, int]]] = defaultdict(list)  # (rating, day ordinal)
    out = []
    for card, rating, at in rows:
        day = local_day(at, "UTC", 4).toordinal()
        past = history[card]
        scored = bool(past) and day > past[-1][1]
        out.append((card, rating, day, list(past), scored))
        past.append((rating, day))
    return out


def item_of(past, rating, day):
    reviews, prev = [], past[0][1] if past else day
    for r, d in past:
        reviews.append(FSRSReview(r, d - prev))
        prev = d
    reviews.append(FSRSReview(rating, day - prev))
    return FSRSItem(reviews=reviews)


def predict(params, rows, lo, hi):
    """Recall predicted by py-fsrs (the model the app schedules with) before each review
    in rows[lo:hi] that comes a day or more after the card's previous one (py-fsrs'
    own criterion). Returns outcomes, predictions and (days, reviews, lapses) per review."""
    scheduler = Scheduler(parameters=list(params), enable_fuzzing=False)
    cards: dict[str, tuple[Card, int, int]] = {}
    y, p, keys = [], [], []
    for i, (card_id, rating, at) in enumerate(rows[:hi]):
        card, n, lapses = cards.get(card_id) or (Card(card_id=1, due=at), 0, 0)
        if i >= lo and card.last_review and (at - card.last_review).days > 0:
            p.append(scheduler.get_card_retrievability(card, at))
            y.append(1.0 if rating > 1 else 0.0)
            keys.append(((at - card.last_review).days, n, lapses))
        card, _ = scheduler.review_card(card, Rating(rating), at)
        cards[card_id] = (card, n + 1, lapses + (rating == 1))
    return np.array(y), np.clip(np.array(p), 1e-4, 1 - 1e-4), keys


def log_loss(y, p):
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def rmse_bins(y, p, keys):
    """srs-benchmark style: group by (interval, review count, lapses) on log scales."""
    groups: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for i, (t, n, lapses) in enumerate(keys):
        key = (
            round(math.log(t) / math.log(3.62)),
            round(math.log(n) / math.log(1.89)),
            min(lapses, 4),
        )
        groups[key].append(i)
    se = sum(len(ix) * (p[ix].mean() - y[ix].mean()) ** 2 for ix in map(np.array, groups.values()))
    return float(math.sqrt(se / len(y)))


def auc(y, p):
    order = np.argsort(p)
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    pos = y == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    if not n_pos or not n_neg:
        return float("nan")
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def train_items(records):
    return [item_of(past, rating, day) for _, rating, day, past, scored in records if scored]


def fit_py_fsrs(rows):
    from datetime import timedelta  # noqa: F401

    from fsrs import Optimizer, Rating, ReviewLog

    logs = [
        ReviewLog(card_id=int(c), rating=Rating(r), review_datetime=t, review_duration=None)
        for c, r, t in rows
    ]
    return Optimizer(logs).compute_optimal_parameters()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--py-fsrs", action="store_true", help="also time py-fsrs' optimizer (~40 s)"
    )
    parser.add_argument("--csv", default=str(DATA))
    parser.add_argument("--quick", action="store_true", help="smoke run (CI): first 1,500 answers")
    args = parser.parse_args()

    rows = answers_from_csv(args.csv)
    if args.quick:
        rows = rows[:1500]
    records = build(rows)
    n = len(rows)
    test_size = n // (FOLDS + 1)
    metrics: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    fit_seconds, scored_total = [], 0
    for fold in range(FOLDS):
        test_start = n - (FOLDS - fold) * test_size
        test_end = test_start + test_size
        y_train, _, _ = predict(DEFAULT_PARAMETERS, rows, 0, test_start)
        t0 = time.perf_counter()
        fitted = fit(train_items(records[:test_start]))
        fit_seconds.append(time.perf_counter() - t0)
        y, p_default, keys = predict(DEFAULT_PARAMETERS, rows, test_start, test_end)
        _, p_fitted, _ = predict(fitted, rows, test_start, test_end)
        scored_total += len(y)
        for name, p in (
            ("constant", np.full(len(y), y_train.mean())),
            ("FSRS-6 default", p_default),
            ("FSRS-6 fitted (fsrs-rs)", p_fitted),
        ):
            metrics[name].append((log_loss(y, p), rmse_bins(y, p, keys), auc(y, p)))
        if args.py_fsrs and fold == FOLDS - 1:
            t0 = time.perf_counter()
            py_params = fit_py_fsrs(rows[:test_start])
            py_seconds = time.perf_counter() - t0
            _, p_py, _ = predict(py_params, rows, test_start, test_end)
            print(f"last fold, {test_start} training reviews, {len(y)} scored:")
            for label, secs, p in (
                ("py-fsrs optimizer", py_seconds, p_py),
                ("fsrs-rs-python", fit_seconds[-1], p_fitted),
            ):
                print(
                    f"  {label:18s} {secs:8.3f} s  log loss {log_loss(y, p):.4f}"
                    f"  RMSE(bins) {rmse_bins(y, p, keys):.4f}  AUC {auc(y, p):.4f}"
                )
            print(f"  fsrs-rs-python fits {py_seconds / fit_seconds[-1]:.0f}x faster\n")

    print(
        f"{n} reviews, {scored_total} scored (a day or more after the card's previous review), "
        f"{FOLDS} time-ordered folds; fsrs-rs fit {np.mean(fit_seconds):.3f} s per fold"
    )
    print(f"{'model':26s} {'log loss':>9s} {'RMSE(bins)':>11s} {'AUC':>7s}")
    summary = {}
    for name, values in metrics.items():
        ll, rm, au = np.mean(np.array(values), axis=0)
        summary[name] = (ll, rm)
        print(f"{name:26s} {ll:9.4f} {rm:11.4f} {au:7.4f}")
    c, d, f = summary["constant"], summary["FSRS-6 default"], summary["FSRS-6 fitted (fsrs-rs)"]
    ok = f[0] < d[0] < c[0] and f[1] < d[1] < c[1]
    print(
        f"fitted beats default beats constant on log loss and RMSE(bins): {'yes' if ok else 'NO'}"
    )
    if args.quick:
        print("(a smoke run on the first answers only: the verdict needs the whole log)")
        return
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
