"""Size of the group contrast's category-mix test: how often it rejects when the mixes are equal.

    .venv/bin/python benchmarks/group_mix_size.py [--model DIR] [--trials 200] [--size 250]

Uses the model's out-of-fold record (labels and probabilities of issues it was not trained on):
half measures its error, the other half gives, per trial, two groups of `size` model-classified
issues drawn from one category mix (shifted at random per trial, as in
analysis.shares.interval_coverage). The test is analysis.groups' bootstrap Wald test on the
difference of the two groups' PACC shares (analysis.shares.joint_draws); at alpha = 0.05 it
should reject about 5% of the trials.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis import shares, stats
from classifier.model import load_model


def rejections(error: shares.ModelError, trials: int, size: int, seed: int = 0) -> np.ndarray:
    """The p-value of each trial's test under equal mixes."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(error.labels))
    half = len(order) // 2
    calibration = shares.ModelError(
        error.classes, error.labels[order[:half]], error.probabilities[order[:half]]
    )
    pool = order[half:]
    k = len(error.classes)
    p_values = []
    for trial in range(trials):
        weights = rng.dirichlet(np.full(k, 2.0))[error.labels[pool]]
        weights /= weights.sum()
        parts = {
            name: shares.Part(
                np.zeros(k), error.probabilities[rng.choice(pool, size, p=weights)], error.classes
            )
            for name in ("a", "b")
        }
        points, draws = shares.joint_draws(parts, calibration, "PACC", seed=trial)
        test = stats.bootstrap_wald(
            points[0] - points[1],
            draws[:, 0] - draws[:, 1],
            lambda d: 0.5 * np.abs(d).sum(axis=-1),
            "total variation distance",
            2 * size,
            effect_interval=False,
        )
        p_values.append(test.p_value)
    return np.array(p_values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model directory (default: the shipped one)")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--size", type=int, default=250, help="issues per group")
    args = parser.parse_args()
    model = load_model(args.model)
    error = shares.ModelError.from_record(model.out_of_fold)
    print(f"model {model.version}: {len(error.labels)} out-of-fold issues")
    started = time.perf_counter()
    p_values = rejections(error, args.trials, args.size)
    seconds = time.perf_counter() - started
    for alpha in (0.05, 0.10):
        print(f"rejected at alpha {alpha:.2f}: {np.mean(p_values < alpha):.3f}")
    print(f"{args.trials} trials of 2 x {args.size} issues in {seconds:.0f} s")


if __name__ == "__main__":
    main()
