"""Scale benchmark: `mlissues figures` and `mlissues export` on a synthetic 1,000,000-issue study.

The study is ../shared/corpus (15,183 issues of TensorFlow, PyTorch, MXNet and Keras, 43,820
comments) with the committed labels imported and every issue classified by the shipped model,
replicated under new repository names until it holds --issues issues (benchmarks/synthetic_db.py
says what is copied and what is not: predictions are copied with their issues rather than
computed, human labels stay the corpus's 4,723 issues). Both databases are cached under
data/scale/ (git-ignored), so a rerun skips the build; --rebuild builds them again.

Each command runs as a user runs it (`python -m mlissues figures|export`, a process of its own)
and is timed with its peak resident memory. Targets (issue 11): figures + export under 10
minutes, under 8 GB. Writes reports/benchmarks/scale_figures.json and prints a table.

    .venv/bin/python benchmarks/scale_figures.py [--issues 1000000] [--rebuild]
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.corpus_db import LABELS, corpus_database
from benchmarks.measure import (
    ROOT,
    aligned,
    load_average,
    machine,
    run_mlissues,
    write_result,
)
from benchmarks.synthetic_db import replicate

CACHE = ROOT / "data" / "scale"
OUT = ROOT / "reports" / "benchmarks"
TARGET_SECONDS = 600.0
TARGET_MB = 8 * 1024


def build_base(path: Path) -> float:
    """The corpus as a study database: imported, labeled, classified. Returns seconds."""
    started = time.perf_counter()
    partial = path.with_name(path.name + ".partial")
    corpus_database(partial).dispose()
    db = ["--db", str(partial)]
    cli = [sys.executable, "-m", "mlissues", "-q"]
    subprocess.run([*cli, "label", "import", *db, "--skip-unknown", str(LABELS)], check=True)
    subprocess.run([*cli, "classify", *db], check=True)
    partial.replace(path)
    return time.perf_counter() - started


def issue_count(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM issues").fetchone()[0]


def build(issues: int, rebuild: bool) -> dict:
    """The cached synthetic database of `issues` issues (built when missing or `rebuild`),
    and how long each step took (null when taken from the cache)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    base, target = CACHE / "corpus-base.db", CACHE / f"issues-{issues}.db"
    steps = {"base_seconds": None, "replicate_seconds": None}
    if rebuild or not base.exists():
        steps["base_seconds"] = round(build_base(base), 1)
    if rebuild or not target.exists() or steps["base_seconds"] is not None:
        started = time.perf_counter()
        replicate(base, target, issues, lambda done, total: print(f"  {done:,}/{total:,} issues"))
        steps["replicate_seconds"] = round(time.perf_counter() - started, 1)
    return {"path": str(target.relative_to(ROOT)), "issues": issue_count(target), **steps}


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def _seconds(value: float | None) -> str:
    return "cached" if value is None else f"{value} s"


def table(result: dict) -> str:
    database, figures, export = result["database"], result["figures"], result["export"]
    total, peak = result["total_seconds"], result["peak_rss_mb"]
    rows = [
        ("issues", f"{database['issues']:,} ({database['path']})"),
        ("build: corpus base", _seconds(database["base_seconds"])),
        ("build: replication", _seconds(database["replicate_seconds"])),
        ("figures", f"{figures['seconds']} s, peak {figures['peak_rss_mb']:,} MB"),
        ("export", f"{export['seconds']} s, peak {export['peak_rss_mb']:,} MB"),
        ("figures + export", f"{total} s (target < {TARGET_SECONDS:.0f} s): "
                             f"{verdict(total < TARGET_SECONDS)}"),
        ("peak memory", f"{peak:,} MB (target < {TARGET_MB:,} MB): {verdict(peak < TARGET_MB)}"),
        ("load average (1 min) before / after", f"{result['load_before']} / "
                                                f"{result['load_after']}"),
        ("machine", result["machine"]),
    ]  # fmt: skip
    return aligned(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true", help="build the databases again")
    parser.add_argument("--out", type=Path, default=OUT / "scale_figures.json")
    args = parser.parse_args()
    database = build(args.issues, args.rebuild)
    db = ["--db", str(ROOT / database["path"])]
    folder = OUT / "scale"
    load_before = load_average()
    figures = run_mlissues("figures", *db, "--out", str(folder / "report"))
    export = run_mlissues("export", *db, "--out", str(folder / "dataset"))
    result = {
        "database": database,
        "figures": figures.as_dict(),
        "export": export.as_dict(),
        "total_seconds": round(figures.seconds + export.seconds, 1),
        "peak_rss_mb": round(max(figures.peak_mb, export.peak_mb)),
        "load_before": load_before,
        "load_after": load_average(),
        "machine": machine(),
    }
    write_result(result, args.out, table(result))


if __name__ == "__main__":
    main()
