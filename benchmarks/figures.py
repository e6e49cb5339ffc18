"""Scale test: every study figure for the 34,177 issues of Makkouk et al. (ICSME 2022).

Loads the study metadata into a fresh SQLite database (mlissues import-study makkouk), then
times `mlissues figures` end to end (read, statistics, 10 figure files, tables.md, tests.csv,
index.html). Target: under 60 seconds.

Categories: the study's issues have no text, so neither the classifier nor our annotators can
label them. Only the study's own root causes are used, and only the ones that map plainly onto
our taxonomy (miner/makkouk.py ROOT_CAUSE_CODES: 50 of the 143 labeled performance bugs).
The other issues keep no category; the figures that need none (time to close, debate and
trends per framework) use all 34,177.

    .venv/bin/python benchmarks/figures.py [--study ../shared/studies/makkouk-icsme2022]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from analysis.report import build_report
from db import open_database
from miner.makkouk import import_study

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT.parent / "shared" / "studies" / "makkouk-icsme2022"
TARGET_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, default=STUDY)
    parser.add_argument("--out", type=Path, help="keep the report here (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlissues-bench-") as scratch:
        engine = open_database(f"sqlite:///{Path(scratch) / 'makkouk.db'}", create=True)
        started = time.perf_counter()
        read, labeled = import_study(engine, args.study)
        loaded = time.perf_counter() - started
        print(f"import: {read} issues ({labeled} with a category) in {loaded:.1f} s")
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
