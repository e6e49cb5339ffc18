"""Replicate Makkouk et al. (ICSME 2022) from its replication data and print our numbers.

Imports ../shared/studies/makkouk-icsme2022 into a fresh SQLite database (mlissues
import-study makkouk), runs analysis/replication.py and prints, per framework side by side:
bug counts (performance / non-performance, closed, fixed in the study's sense), the study's
one-sided Cox–Stuart trend tests on the monthly percentage of performance bugs (among bugs open
at each month's end, and among bugs fixed so far), the autocorrelation-corrected Mann–Kendall
test on the same series, the project's earlier trend test for contrast (Mann–Kendall on raw
monthly counts of all issues), and the performance vs non-performance contrasts. The paper's
values are not in the data: compare these with its tables by hand.

Writes every test as one row to reports/benchmarks/makkouk_replication_tests.csv.

    .venv/bin/python benchmarks/makkouk_replication.py [--study DIR] [--out CSV]
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
