"""Simulated annotation on the seed labels: does active learning need fewer labels than random?

The seed-labeled issues are loaded from ../shared/corpus into a fresh database; a stratified
share is held out for evaluation, the rest is the pool an oracle "annotates" from. Starting from
the same small random seed set, each strategy adds batches (random, least-confident, margin,
balanced-margin: the functions the labeling session uses), the classifier's pipeline
(classifier.model.build_pipeline) is trained every round and scored by macro-F1 on the held-out
split. Repeated over seeds; the summary compares each strategy with random sampling paired by
seed (mean macro-F1 after the start, t-interval, Wilcoxon test). balanced-margin: half of each
batch random, half margin sampling spread over the predicted classes, rarest first
(classifier.labeling.active). Uncertainty uses the model's decision weights, as the session.

    .venv/bin/python benchmarks/active_learning.py [--seeds 30] [--start 30] [--target F1]

Writes reports/active_learning/{curve.csv,summary.json,curve.png}.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from benchmarks.corpus_db import REPO_ROOT, held_out_macro_f1, seed_split
from classifier.labeling.active import BALANCED, balanced_order
from classifier.labeling.sampling import most_uncertain
from classifier.model import build_pipeline, decision_weights

OUT = REPO_ROOT / "reports" / "active_learning"
STRATEGIES = ("random", "least-confident", "margin", BALANCED)

log = logging.getLogger("active_learning")


def next_batch(
    strategy: str, model, pool: pd.DataFrame, size: int, rng, labeled: pd.DataFrame
) -> list[int]:
    """Positions in `pool` to annotate next."""
    if strategy == "random":
        return rng.choice(len(pool), size=min(size, len(pool)), replace=False).tolist()
    proba = decision_weights(model, model.predict_proba(pool))  # as the session ranks
    if strategy == BALANCED:
        positions = list(range(len(pool)))
        return balanced_order(
            proba,
            positions,
            list(model.classes_),
            labeled["category"].value_counts().to_dict(),
            rng.permutation(len(pool)).tolist(),
        )[:size]
    ranked = most_uncertain(proba, list(range(len(pool))), strategy)
    return ranked[:size]


def simulate(strategy: str, seed: int, data: dict, start: int, batch: int, budget: int) -> list:
    """One annotation run: (labels, macro-F1) after each round."""
    train, test = data["pool"], data["test"]
    rng = np.random.default_rng(seed)
    labeled = train.sample(n=start, random_state=seed)
    pool = train.drop(labeled.index)
    curve = []
    while True:
        model = build_pipeline(memoize_text=True)  # rounds repeat the same texts
        model.fit(labeled, labeled["category"].to_numpy())
        score = held_out_macro_f1(test["category"].to_numpy(), model.predict(test))
        curve.append((strategy, seed, len(labeled), score))
        log.info("%s seed %d: %d labels, macro-F1 %.3f", *curve[-1])
        if len(labeled) >= budget or pool.empty:
            return curve
        size = min(batch, budget - len(labeled))
        chosen = pool.iloc[next_batch(strategy, model, pool, size, rng, labeled)]
        labeled, pool = pd.concat([labeled, chosen]), pool.drop(chosen.index)


def labels_to_reach(curve: pd.DataFrame, target: float) -> dict[str, dict[str, int | None]]:
    """Per strategy, on the mean macro-F1 over seeds: the fewest labels at which it first
    reaches `target`, and from which on it stays at or above it (None: never)."""
    mean = curve.groupby(["strategy", "labels"])["macro_f1"].mean().reset_index()
    reached = {}
    for strategy, rows in mean.groupby("strategy"):
        above = rows.sort_values("labels").set_index("labels")["macro_f1"] >= target
        first = above[above].index.min() if above.any() else None
        below = above[~above].index
        later = above.index[above.index > below.max()] if len(below) else above.index
        reached[strategy] = {
            "first": None if first is None else int(first),
            "stays": int(later.min()) if len(later) else None,
        }
    return reached


def paired_gains(curve: pd.DataFrame, baseline: str = "random") -> dict[str, dict]:
    """Per strategy, its mean macro-F1 over the rounds after the shared start (the normalized
    area under its curve) minus the baseline's, paired by seed: mean, 95% t-interval, the
    seeds it wins, and the Wilcoxon signed-rank p-value (two-sided)."""
    after_start = curve[curve["labels"] > curve["labels"].min()]
    area = after_start.groupby(["strategy", "seed"])["macro_f1"].mean().unstack("strategy")
    gains = {}
    for strategy in area.columns.drop(baseline):
        difference = (area[strategy] - area[baseline]).dropna()
        mean = float(difference.mean())
        half_width = stats.t.ppf(0.975, len(difference) - 1) * stats.sem(difference)
        gains[strategy] = {
            "mean_gain": round(mean, 4),
            "ci95": [round(mean - half_width, 4), round(mean + half_width, 4)],
            "seeds_won": f"{int((difference > 0).sum())}/{len(difference)}",
            "wilcoxon_p": round(float(stats.wilcoxon(difference).pvalue), 4),
        }
    return gains


def plot(curve: pd.DataFrame, target: float, path: Path) -> None:
    summary = curve.groupby(["strategy", "labels"])["macro_f1"].agg(["mean", "sem"]).reset_index()
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for strategy, rows in summary.groupby("strategy"):
        axes.plot(rows["labels"], rows["mean"], marker="o", label=strategy)
        axes.fill_between(
            rows["labels"], rows["mean"] - rows["sem"], rows["mean"] + rows["sem"], alpha=0.15
        )
    axes.axhline(target, color="grey", linestyle="--", linewidth=1, label=f"target {target:.3f}")
    axes.set_xlabel("labeled issues")
    axes.set_ylabel("macro-F1 on held-out issues")
    seeds = curve["seed"].nunique()
    axes.set_title(f"Simulated annotation on the seed labels (mean ± s.e., {seeds} seeds)")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _default_target(curve: pd.DataFrame) -> float:
    """95% of the best mean macro-F1 random sampling reaches."""
    random_best = curve[curve.strategy == "random"].groupby("labels")["macro_f1"].mean().max()
    return round(0.95 * random_best, 3)


def _run(arguments: tuple) -> list:
    return simulate(*arguments)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--start", type=int, default=30, help="random seed set size")
    parser.add_argument("--batch", type=int, default=40, help="labels added per round")
    parser.add_argument("--budget", type=int, default=350, help="stop at this many labels")
    parser.add_argument("--test-size", type=float, default=0.3, help="held-out share")
    parser.add_argument("--target", type=float, help="macro-F1 to reach (default: 0.95 x the "
                        "best mean macro-F1 of random sampling)")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=2, help="parallel runs")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--from-csv", type=Path, help="only re-plot and re-summarize a curve.csv")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    began = time.perf_counter()
    if args.from_csv:
        curve = pd.read_csv(args.from_csv)
        previous = json.loads((args.from_csv.parent / "summary.json").read_text())
        target = args.target if args.target is not None else _default_target(curve)
        report(curve, target, args, previous["pool"], previous["held_out"], previous["seconds"])
        return
    pool, test = seed_split(args.test_size)
    data = {"pool": pool, "test": test}
    runs = [
        (strategy, seed, data, args.start, args.batch, args.budget)
        for seed in range(args.seeds)
        for strategy in STRATEGIES
    ]
    with ProcessPoolExecutor(max_workers=args.jobs) as executor:
        rows = [row for curve in executor.map(_run, runs) for row in curve]
    curve = pd.DataFrame(rows, columns=["strategy", "seed", "labels", "macro_f1"])
    target = args.target if args.target is not None else _default_target(curve)
    report(curve, target, args, len(pool), len(test), time.perf_counter() - began)


def report(curve: pd.DataFrame, target: float, args, pool: int, test: int, seconds: float):
    args.out.mkdir(parents=True, exist_ok=True)
    curve.to_csv(args.out / "curve.csv", index=False)
    plot(curve, target, args.out / "curve.png")
    mean = curve.groupby(["strategy", "labels"])["macro_f1"].mean().unstack("strategy")
    reached = labels_to_reach(curve, target)
    gains = paired_gains(curve)
    summary = {
        "pool": pool,
        "held_out": test,
        "seeds": int(curve["seed"].nunique()),  # from the curve: also right with --from-csv
        "start": int(curve["labels"].min()),
        "batch": int(np.diff(sorted(set(curve["labels"])))[0]),
        "target_macro_f1": target,
        "labels_to_reach_target": reached,
        "area_gain_over_random": gains,
        "mean_macro_f1": {s: mean[s].round(4).dropna().to_dict() for s in mean.columns},
        "seconds": round(seconds),
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"pool {pool} issues, held out {test}, {summary['seeds']} seeds, "
          f"start {summary['start']}, batch {summary['batch']}")  # fmt: skip
    print("mean macro-F1 by number of labels:")
    print(mean.round(3).to_string())
    print(f"labels needed to reach macro-F1 {target:.3f} (mean over seeds): first / for good")
    for strategy in STRATEGIES:
        first, stays = reached[strategy]["first"], reached[strategy]["stays"]
        print(f"  {strategy:<16}{first or 'never':>6} / {stays or 'never'}")
    print("mean macro-F1 after the start, minus random's (paired by seed):")
    for strategy, gain in gains.items():
        low, high = gain["ci95"]
        print(f"  {strategy:<16}{gain['mean_gain']:+.3f} [{low:+.3f}, {high:+.3f}], "
              f"wins {gain['seeds_won']} seeds, Wilcoxon p {gain['wilcoxon_p']:.3f}")  # fmt: skip
    print(f"wrote {args.out}/curve.csv, summary.json, curve.png ({seconds:.0f} s)")


if __name__ == "__main__":
    main()
