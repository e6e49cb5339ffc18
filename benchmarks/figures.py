"""Scale test: every study figure for the 34,177 issues of Makkouk et al. (ICSME 2022).

Loads the study metadata into a fresh SQLite database (mlissues import-study makkouk), then
times `mlissues figures` end to end (read, statistics, the figure files with the replication of
the study itself, tables.md, tests.csv, index.html). Target: under 60 seconds.

Categories: the study's issues have no text, so neither the classifier nor our annotators can
label them. Only the study's own root causes are used, and only the ones that map plainly onto
our taxonomy (miner/makkouk.py ROOT_CAUSE_CODES and plain_category: 46 of the 135 performance
bugs with a root cause).
The other issues keep no category; the figures that need none (time to close, debate and
trends per framework) use all 34,177.

    .venv/bin/python benchmarks/figures.py [--study ../shared/studies/makkouk-icsme2022]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.report import build_report
from benchmarks.study_db import STUDY, imported_study

TARGET_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, default=STUDY)
    parser.add_argument("--out", type=Path, help="keep the report here (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlissues-bench-") as scratch:
        engine, summary, loaded = imported_study(Path(scratch), args.study)
        print(
            f"import: {summary.read} issues ({summary.labeled} with a category) in {loaded:.1f} s"
        )
        started = time.perf_counter()
        report = build_report(engine, args.out or Path(scratch) / "reports")
        elapsed = time.perf_counter() - started
        verdict = "OK" if elapsed < TARGET_SECONDS else "TOO SLOW"
        print(
            f"figures: {len(report.figures)} files + tables.md + tests.csv + index.html "
            f"in {elapsed:.1f} s (target < {TARGET_SECONDS:.0f} s): {verdict}"
        )


if __name__ == "__main__":
    main()
