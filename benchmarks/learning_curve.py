"""Learning curve: macro-F1 by number of random training labels, for each small-sample rule.

How good is the classifier after n labels, and which way of getting probabilities from few
examples works best? The seed-labeled issues are split as in benchmarks/active_learning.py
(corpus_db.seed_split: 30% held out, stratified, seed 0); from the rest, nested random subsets
of growing size are drawn per seed, the features are fitted once per subset and every variant
is trained on them:

- structure: joint (all categories at once) or gated (system-related first, then category);
- calibration rule: sigmoid-calibrated linear SVM once the rarest class has at least k labels
  (k = 2, 3, 5), else class-balanced logistic regression; "never" always uses the latter;
- decision: prior-corrected argmax with power 0, 0.5, 1 (see classifier.model.prior_corrected).

    .venv/bin/python benchmarks/learning_curve.py [--seeds 10] [--jobs 2]

Writes reports/learning_curve/{curve.csv,summary.md,curve.png}.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.base import clone

from benchmarks.corpus_db import REPO_ROOT, held_out_macro_f1, seed_split
from classifier.model import CalibratedLinear, GatedClassifier, feature_union, prior_corrected
from taxonomy import default_taxonomy

OUT = REPO_ROOT / "reports" / "learning_curve"
SIZES = (30, 50, 70, 110, 150, 190, 230, 270, 310, 350, 446)
RULES = {"k=2": 2, "k=3": 3, "k=5": 5, "never": None}
STRUCTURES = ("joint", "gated")
POWERS = (0.0, 0.5, 1.0)

log = logging.getLogger("learning_curve")


def variant(structure: str, rule: int | None, default_code: str):
    linear = CalibratedLinear(calibrate=rule is not None, min_calibration_count=rule or 2)
    if structure == "joint":
        return linear
    return GatedClassifier(linear, clone(linear), default_code)


def one_seed(seed: int, pool: pd.DataFrame, test: pd.DataFrame, sizes, default_code) -> list:
    """Rows (seed, labels, structure, rule, power, macro_f1) for nested subsets of one order."""
    order = pool.sample(frac=1.0, random_state=seed)
    rows = []
    for size in sizes:
        train = order.iloc[:size]
        y = train["category"].to_numpy()
        features = feature_union(memoize_text=True)
        x_train, x_test = features.fit_transform(train), features.transform(test)
        for structure in STRUCTURES:
            for rule_name, rule in RULES.items():
                model = variant(structure, rule, default_code).fit(x_train, y)
                proba = model.predict_proba(x_test)
                for power in POWERS:
                    predicted = model.classes_[prior_corrected(proba, model.class_prior_, power)]
                    score = held_out_macro_f1(test["category"].to_numpy(), predicted)
                    rows.append((seed, size, structure, rule_name, power, score))
        log.info("seed %d, %d labels done", seed, size)
    return rows


def _run(arguments: tuple) -> list:
    return one_seed(*arguments)


def summary_table(curve: pd.DataFrame) -> pd.DataFrame:
    """Mean macro-F1 over seeds: one row per labels, one column per variant."""
    curve = curve.assign(variant=curve["structure"] + " " + curve["rule"]
                         + " p" + curve["power"].map("{:g}".format))  # fmt: skip
    return curve.pivot_table(index="labels", columns="variant", values="macro_f1", aggfunc="mean")


def plot(curve: pd.DataFrame, path: Path) -> None:
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for axis, structure in zip(axes, STRUCTURES, strict=True):
        rows = curve[(curve.structure == structure) & (curve.power == 0.5)]
        means = rows.groupby(["rule", "labels"])["macro_f1"].mean().reset_index()
        for rule, line in means.groupby("rule"):
            axis.plot(line["labels"], line["macro_f1"], marker="o", label=f"calibrate at {rule}")
        axis.set_title(f"{structure}, prior power 0.5")
        axis.set_xlabel("random training labels")
    axes[0].set_ylabel("macro-F1 on held-out issues (mean over seeds)")
    axes[0].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--test-size", type=float, default=0.3)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    began = time.perf_counter()
    pool, test = seed_split(args.test_size)
    sizes = [size for size in SIZES if size <= len(pool)]
    code = default_taxonomy().default_code
    runs = [(seed, pool, test, sizes, code) for seed in range(args.seeds)]
    with ProcessPoolExecutor(max_workers=args.jobs) as executor:
        rows = [row for part in executor.map(_run, runs) for row in part]
    curve = pd.DataFrame(rows, columns=["seed", "labels", "structure", "rule", "power", "macro_f1"])
    args.out.mkdir(parents=True, exist_ok=True)
    curve.to_csv(args.out / "curve.csv", index=False)
    plot(curve, args.out / "curve.png")
    table = summary_table(curve).round(3)
    header = (f"pool {len(pool)}, held out {len(test)}, {args.seeds} seeds, "
              f"{time.perf_counter() - began:.0f} s\n\n")  # fmt: skip
    (args.out / "summary.md").write_text(header + table.to_markdown() + "\n")
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(header + table.T.to_string())
    print(f"wrote {args.out}/curve.csv, summary.md, curve.png")


if __name__ == "__main__":
    main()
