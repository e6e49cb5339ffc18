"""Scale test: `mlissues figures` and `mlissues export` for the 34,177 issues of Makkouk et al.

Loads the study metadata into a fresh SQLite database (mlissues import-study makkouk), then
runs `mlissues figures` (read, statistics, the figure files with the replication of the study
itself, tables.md, tests.csv, index.html) and `mlissues export` (CSV files, data dictionary,
datasheet, datapackage.json, validation) as a user runs them, each in a process of its own,
timed with its peak resident memory, --repeat times. Target (issue 11): figures + export under
30 seconds. Writes reports/benchmarks/figures.json and prints a table.

Categories: the study's issues have no text, so neither the classifier nor our annotators can
label them. Only the study's own root causes are used, and only the ones that map plainly onto
our taxonomy (miner/makkouk.py ROOT_CAUSE_CODES and plain_category: 46 of the 135 performance
bugs with a root cause).
The other issues keep no category; the figures that need none (time to close, debate and
trends per framework) use all 34,177.

    .venv/bin/python benchmarks/figures.py [--study DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.measure import ROOT, load_average, machine, run_mlissues, write_result
from benchmarks.study_db import STUDY, imported_study

TARGET_SECONDS = 30.0


def runs(db: Path, out: Path, repeat: int) -> list[dict]:
    """`repeat` runs of figures then export, each with its seconds, peak memory and load."""
    measured = []
    for _ in range(repeat):
        load = load_average()
        figures = run_mlissues("figures", "--db", str(db), "--out", str(out / "report"))
        export = run_mlissues("export", "--db", str(db), "--out", str(out / "dataset"))
        measured.append(
            {
                "load_before": load,
                "figures": figures.as_dict(),
                "export": export.as_dict(),
                "total_seconds": round(figures.seconds + export.seconds, 1),
                "peak_rss_mb": round(max(figures.peak_mb, export.peak_mb)),
            }
        )
    return measured


def table(result: dict) -> str:
    lines = [f"import: {result['issues']:,} issues in {result['import_seconds']} s (not counted)"]
    for run in result["runs"]:
        figures, export = run["figures"], run["export"]
        lines.append(
            f"figures {figures['seconds']} s ({figures['peak_rss_mb']:,} MB) + export "
            f"{export['seconds']} s ({export['peak_rss_mb']:,} MB) = {run['total_seconds']} s "
            f"at load {run['load_before']}"
        )
    median = result["median_total_seconds"]
    verdict = "OK" if median < TARGET_SECONDS else "TOO SLOW"
    target = f"target < {TARGET_SECONDS:.0f} s"
    lines.append(f"median figures + export: {median} s ({target}): {verdict}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, default=STUDY)
    parser.add_argument("--repeat", type=int, default=3, help="runs (timings are noisy)")
    parser.add_argument("--out", type=Path, help="keep the report and dataset here")
    parser.add_argument("--json", type=Path, default=ROOT / "reports/benchmarks/figures.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlissues-bench-") as scratch:
        engine, summary, loaded = imported_study(Path(scratch), args.study)
        engine.dispose()
        measured = runs(Path(scratch) / "makkouk.db", args.out or Path(scratch), args.repeat)
    result = {
        "issues": summary.read,
        "import_seconds": round(loaded, 1),
        "runs": measured,
        "median_total_seconds": round(statistics.median(r["total_seconds"] for r in measured), 1),
        "machine": machine(),
    }
    write_result(result, args.json, table(result))


if __name__ == "__main__":
    main()
