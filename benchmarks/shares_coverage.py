"""Coverage of the category-share intervals of every estimator, on held-out labeled issues.

    .venv/bin/python benchmarks/shares_coverage.py [--model DIR] [--trials 100]

Uses the model's out-of-fold record (labels and probabilities of issues it was not trained on):
half measures its error, the other half gives samples of 250 issues with randomly shifted
category mixes (analysis.shares.interval_coverage). Nominal coverage is 0.95.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.shares import ESTIMATORS, ModelError, interval_coverage
from classifier.model import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model directory (default: the shipped one)")
    parser.add_argument("--trials", type=int, default=100)
    args = parser.parse_args()
    model = load_model(args.model)
    error = ModelError.from_record(model.out_of_fold)
    print(f"model {model.version}: {len(error.labels)} out-of-fold issues")
    for estimator in ESTIMATORS:
        started = time.perf_counter()
        coverage = interval_coverage(error, estimator, trials=args.trials, seed=0)
        seconds = time.perf_counter() - started
        print(f"{estimator:5s} coverage of 95% intervals {coverage:.3f} ({seconds:.0f} s)")


if __name__ == "__main__":
    main()
