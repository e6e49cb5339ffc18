"""Replicate Makkouk et al. (ICSME 2022) from its replication data and print our numbers.

Imports ../shared/studies/makkouk-icsme2022 into a fresh SQLite database (mlissues
import-study makkouk), runs analysis/replication.py and prints, per framework side by side:
bug counts (performance / non-performance, closed, fixed in the study's sense), the study's
one-sided Cox–Stuart trend tests on the monthly percentage of performance bugs (among bugs open
at the start of each month, and among bugs fixed before it), the autocorrelation-corrected
Mann–Kendall test on the same series, the project's earlier trend test for contrast
(Mann–Kendall on raw monthly counts of all issues), and the performance vs non-performance
contrasts. The study's
four published Cox–Stuart p-values (StudyDesign.published) are printed beside ours.

With --published-trends DIR, a checkout of the study's replication repository
(github.com/dlframeworkperfbugs/performance-bugs-in-dl-frameworks, whose
*_{open,fixed}_perf_trend_analysis.csv hold its monthly series; not copied here), it also counts
the months where our series has the study's exact counts.

Writes every test as one row to reports/benchmarks/makkouk_replication_tests.csv.

    .venv/bin/python benchmarks/makkouk_replication.py [--study DIR] [--out CSV]
        [--published-trends DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis import replication, results
from analysis.queries import load_study
from benchmarks.study_db import STUDY, imported_study

OUT = Path(__file__).resolve().parent.parent / "reports/benchmarks/makkouk_replication_tests.csv"
NAMES = {"tensorflow/tensorflow": "TensorFlow", "pytorch/pytorch": "PyTorch"}
# our monthly columns (part, whole) per series of the study's *_trend_analysis.csv files
SERIES = {"open": ("open_perf", "open_all"), "fixed": ("fixed_perf", "fixed_all")}


def _p(value: float) -> str:
    return f"{value:.3g}"


def count_rows(counts: pd.DataFrame) -> list[tuple[str, dict]]:
    table = counts.set_index(["repository", "subset"])
    rows = []
    for subset, label in (("perf", "performance"), ("non_perf", "non-performance")):
        part = table.xs(subset, level="subset")
        rows += [
            (f"{label} bugs", part["bugs"].to_dict()),
            (f"{label} bugs closed", part["closed"].to_dict()),
            (
                f"{label} bugs fixed (a fixing commit is known)",
                {r: f"{v.fixed:.0f} ({v.fixed_share:.1%})" for r, v in part.iterrows()},
            ),
            (f"{label} fixing commits", part["fix_commits"].to_dict()),
        ]
    return rows


def test_rows(tests: pd.DataFrame) -> list[tuple[str, dict]]:
    """One printed row per (quantity, test), the frameworks side by side."""
    rows = []
    for (question, quantity, test), part in tests.groupby(
        ["question", "quantity", "test"], sort=False
    ):
        cells = {}
        for row in part.itertuples():
            cell = f"p = {_p(row.p_value)}"
            if test.startswith("Cox–Stuart"):
                cell = f"{row.statistic:.0f}/{row.n} pairs up, {cell}"
            elif pd.notna(row.effect):
                interval = f" [{row.ci_low:.3g}, {row.ci_high:.3g}]" if pd.notna(row.ci_low) else ""
                cell += f", {row.effect_name} {row.effect:.3g}{interval}"
            cells[row.group] = cell
        rows.append((f"{question}: {quantity} — {test}", cells))
    return rows


def published_rows(published: pd.DataFrame) -> list[tuple[str, dict]]:
    rows = []
    for quantity, part in published.groupby("quantity", sort=False):
        cells = {
            row.repository: f"p = {row.published_p:.4g} ({'same' if row.same else 'differs'})"
            for row in part.itertuples()
        }
        rows.append((f"published: {quantity} — Cox–Stuart", cells))
    return rows


def matching_months(monthly: pd.DataFrame, folder: Path) -> list[tuple[str, dict]]:
    """Per series, the months where our (perf, all) counts equal the study's published ones."""
    rows = []
    for series, (part, whole) in SERIES.items():
        cells = {}
        for repository in NAMES:
            path = folder / f"{repository.split('/')[0]}_{series}_perf_trend_analysis.csv"
            if not path.is_file():
                continue
            theirs = pd.read_csv(path).set_index("Time period").iloc[:, :2]
            ours = monthly[monthly["repository"] == repository].set_index("month")[[part, whole]]
            joined = theirs.join(ours, how="inner")
            same = (joined.iloc[:, 0] == joined[part]) & (joined.iloc[:, 1] == joined[whole])
            cells[repository] = f"{int(same.sum())} of {len(theirs)} months"
        rows.append((f"published monthly counts ({series} bugs) matched exactly", cells))
    return rows


def _days(value: float) -> str:
    return "not reached" if value == float("inf") else f"{value:.4g}"


def median_rows(medians: pd.DataFrame, time_to_fix: pd.DataFrame) -> list[tuple[str, dict]]:
    rows = []
    for quantity, part in medians.groupby("quantity", sort=False):
        table = part.pivot(index="repository", columns="subset", values="median")
        rows.append(
            (
                f"median {quantity} (perf / non-perf)",
                {r: f"{v['perf']:.4g} / {v['non_perf']:.4g}" for r, v in table.iterrows()},
            )
        )
    km = time_to_fix.pivot(index="repository", columns="subset", values="km_median_days")
    rows.append(
        (
            "Kaplan–Meier median days to fix (perf / non-perf)",
            {r: f"{_days(v['perf'])} / {_days(v['non_perf'])}" for r, v in km.iterrows()},
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, default=STUDY)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--published-trends", type=Path, help="checkout of the study's replication repository"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlissues-makkouk-") as scratch:
        engine, summary, imported = imported_study(Path(scratch), args.study)
        started = time.perf_counter()
        data = load_study(engine)
        result = replication.replicate(replication.load_replication(engine, data))
        before = results.trends(data)  # the project's earlier trend test, for contrast
        analysed = time.perf_counter() - started
    print("\n".join(summary.lines()))
    print(f"import {imported:.1f} s, analysis {analysed:.1f} s\n")
    tests = replication.tests_table(result)
    earlier = [
        (
            "earlier test: Mann–Kendall on raw monthly counts of all issues",
            {r: f"p = {_p(before.tests[f'issues per month, {r}'].p_value)}" for r in NAMES},
        )
    ]
    rows = [
        *count_rows(result.tables["counts"]),
        *test_rows(tests),
        *published_rows(result.tables["published"]),
        *(
            matching_months(result.tables["monthly"], args.published_trends)
            if args.published_trends
            else []
        ),
        *earlier,
        *median_rows(result.tables["medians"], result.tables["time_to_fix"]),
    ]
    table = [[label, *(cells.get(r, "") for r in NAMES)] for label, cells in rows]
    print(tabulate(table, headers=["", *NAMES.values()], tablefmt="github"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tests.to_csv(args.out, index=False)
    print(f"\nevery test: {args.out}")


if __name__ == "__main__":
    main()
