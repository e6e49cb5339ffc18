"""Build a study database from ../shared/corpus for the benchmark and evaluation scripts, and
the held-out split of the seed labels that the simulations share."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from classifier.labels import final_labels, read_labels_csv
from classifier.training import labeled_set
from db import open_database
from miner.corpus import import_folder, repo_dirs

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("MLISSUES_CORPUS", REPO_ROOT.parent / "shared" / "corpus"))
LABELS = REPO_ROOT / "classifier" / "data" / "labels.csv"


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


def seed_split(test_size: float = 0.3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(pool, held out): documents of the seed-labeled issues with their final `category`,
    ordered by issue id, split stratified by category with seed 0."""
    labels = final_labels(read_labels_csv(LABELS))
    with tempfile.TemporaryDirectory() as scratch:
        engine = corpus_database(Path(scratch) / "issues.db", set(labels["repository"]))
        data = labeled_set(engine, labels, source="seed labels")
        engine.dispose()
    documents = data.documents.assign(category=data.y)
    documents = documents.sort_values("issue_id").reset_index(drop=True)
    return train_test_split(
        documents, test_size=test_size, stratify=documents["category"], random_state=0
    )


def held_out_macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Macro-F1 over the categories present in the held-out split."""
    return float(
        f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)
    )
