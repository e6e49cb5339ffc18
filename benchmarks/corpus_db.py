"""Build a study database from ../shared/corpus for the benchmark and evaluation scripts."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from db import open_database
from miner.corpus import import_folder, repo_dirs

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("MLISSUES_CORPUS", REPO_ROOT.parent / "shared" / "corpus"))
SEED_LABELS = REPO_ROOT / "classifier" / "data" / "seed_labels.csv"


def corpus_database(path: Path, repositories: set[str] | None = None):
    """A fresh SQLite database at `path` holding the corpus (or only `repositories`)."""
    if path.exists():
        path.unlink()
    engine = open_database(f"sqlite:///{path}", create=True)
    for full_name, folder in repo_dirs(CORPUS).items():
        if repositories is None or full_name in repositories:
            issues, comments = import_folder(engine, folder, full_name)
            log.info("imported %s: %d issues, %d comments", full_name, issues, comments)
    return engine
