"""Regenerate the README's two figures (docs/images/*.png) from ../shared/corpus.

Imports every corpus folder into a fresh SQLite database, imports the human seed labels
(classifier/data/labels.csv through `mlissues label import`), classifies every issue with
the shipped model (`mlissues classify`; figures prefer the human label where there is one), and
copies two aggregate charts (no issue text) into docs/images/.

    .venv/bin/python scripts/readme_figures.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from click.testing import CliRunner

from analysis.report import build_report
from db import open_database
from miner.corpus import import_folder, repo_dirs
from mlissues.cli import main

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
SEED_LABELS = ROOT / "classifier" / "data" / "labels.csv"
README_FIGURES = ("rq1_frequency", "rq2_time")


def run(*args: str) -> str:
    result = CliRunner().invoke(main, ["-q", *args], catch_exceptions=False)
    if result.exit_code:
        raise SystemExit(f"mlissues {' '.join(args)} failed: {result.output}")
    return result.output.strip()


def categorize(db: str) -> str:
    """Human seed labels first; the shipped classifier for every other issue."""
    return "\n".join(
        (
            "seed labels: " + run("label", "import", "--db", db, str(SEED_LABELS)),
            "classifier: " + run("classify", "--db", db),
        )
    )


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="keep the database and report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlissues-readme-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        db = f"sqlite:///{folder / 'corpus.db'}"
        engine = open_database(db, create=True)
        for full_name, path in repo_dirs(CORPUS).items():
            print(full_name, "issues, comments:", import_folder(engine, path, full_name))
        print(categorize(db))
        report = build_report(engine, folder / "reports")
        images = ROOT / "docs" / "images"
        images.mkdir(parents=True, exist_ok=True)
        for name in README_FIGURES:
            shutil.copyfile(report.out_dir / f"{name}.png", images / f"{name}.png")
            print("wrote", images / f"{name}.png")


if __name__ == "__main__":
    main_()
