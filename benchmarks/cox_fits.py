"""Cox models: lifelines' CoxPHFitter against analysis/cox.py, on the report's own kind of fit.

Two workloads:
- the 34,177 Makkouk et al. bugs (imported into a fresh SQLite database): time to close by
  repository, one covariate, the hazard ratio the report fits over every issue; times rarely
  tie, so lifelines takes its row-by-row "single" mode;
- --rows synthetic issues (default 1,000,000) in 16 categories, 15 covariates, distinct
  times: the by-category hazard ratios of a million-issue study (lifelines is not run here:
  its single mode would take many minutes).

Each fit includes the proportional-hazards check the report adds to every hazard ratio. The
largest relative difference between the two fits' coefficients, standard errors and check
statistics is printed with the timings. Writes reports/benchmarks/cox_fits.json.

    .venv/bin/python benchmarks/cox_fits.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lifelines import CoxPHFitter
from lifelines.statistics import proportional_hazard_test

from analysis import cox
from analysis.queries import load_study
from benchmarks.measure import ROOT, aligned, load_average, machine, write_result
from benchmarks.study_db import imported_study


def study_frame() -> pd.DataFrame:
    """Duration, close and repository of every Makkouk et al. bug, as the report reads them."""
    with tempfile.TemporaryDirectory() as folder:
        engine, _, _ = imported_study(Path(folder))
        issues = load_study(engine).issues
        engine.dispose()
    issues = issues.dropna(subset=["duration_days"])
    return pd.DataFrame(
        {
            "duration": issues["duration_days"].to_numpy(float),
            "event": issues["closed"].to_numpy(bool),
            "pytorch": issues["repository"].eq("pytorch/pytorch").to_numpy(float),
        }
    )


def timed(function) -> tuple[object, float]:
    started = time.perf_counter()
    value = function()
    return value, time.perf_counter() - started


def with_lifelines(frame: pd.DataFrame) -> tuple[np.ndarray, float]:
    def fit():
        fitter = CoxPHFitter().fit(frame, "duration", "event")
        check = proportional_hazard_test(fitter, frame, time_transform="rank").summary
        return np.r_[fitter.params_, fitter.standard_errors_, check["test_statistic"]]

    return timed(fit)


def with_numpy(frame: pd.DataFrame) -> tuple[np.ndarray, float]:
    covariates = frame.drop(columns=["duration", "event"])

    def fit():
        fitted = cox.fit(frame["duration"], frame["event"], covariates)
        return np.r_[fitted.coef, fitted.se, fitted.ph_statistic]

    return timed(fit)


def synthetic_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    category = rng.integers(0, 16, rows)
    durations = rng.exponential(np.exp(-0.05 * category)) * 100
    covariates = {f"c{i}": (category == i).astype(float) for i in range(1, 16)}
    return pd.DataFrame({"duration": durations, "event": rng.random(rows) < 0.7, **covariates})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    load = load_average()
    study = study_frame()
    reference, lifelines_seconds = with_lifelines(study)
    ours, numpy_seconds = with_numpy(study)
    difference = float(np.max(np.abs(ours / reference - 1)))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    _, large_seconds = with_numpy(synthetic_frame(args.rows))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "study_rows": len(study),
        "lifelines_seconds": round(lifelines_seconds, 2),
        "numpy_seconds": round(numpy_seconds, 3),
        "largest_relative_difference": difference,
        "synthetic_rows": args.rows,
        "synthetic_covariates": 15,
        "synthetic_seconds": round(large_seconds, 1),
        "peak_rss_mb_before_synthetic": round(before),
        "peak_rss_mb": round(peak),
        "load_before": load,
        "machine": machine(),
    }
    rows = [
        ("Makkouk bugs, 1 covariate", f"{len(study):,} rows"),
        ("lifelines CoxPHFitter + PH check", f"{lifelines_seconds:.2f} s"),
        ("analysis/cox.py + PH check", f"{numpy_seconds:.3f} s"),
        ("largest relative difference", f"{difference:.1e} (coefficient, SE, PH statistic)"),
        (f"synthetic, {args.rows:,} rows, 15 covariates", f"{large_seconds:.1f} s"),
        ("peak memory before / after it", f"{before:,.0f} / {peak:,.0f} MB"),
        ("load average before", load),
        ("machine", machine()),
    ]
    write_result(result, ROOT / "reports" / "benchmarks" / "cox_fits.json", aligned(rows))


if __name__ == "__main__":
    main()
