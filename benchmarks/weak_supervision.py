"""Do Makkouk et al.'s performance-bug judgments help the system-related gate? (issue 10)

    .venv/bin/python benchmarks/weak_supervision.py [--weight 0.5]

Makkouk et al. (ICSME 2022) judged TensorFlow and PyTorch bug reports as performance bugs or not.
Performance bugs are system-related by our codebook (slowdowns, memory, resource use), so the
corpus issues they marked, where we have no label of our own, can be extra positive examples
for the gate (system-related or not). They carry no category, so only the gate sees them.

On every held-out split of classifier.evaluation (each repository with >= 50 labels left out, and
the newest 20% by creation date), the gate is trained on the labeled training issues with and
without the weak positives (those of the test repository, or newer than the time cut, are never
used) and scored by system-related F1 of the gated model's decisions. The weak examples are kept
in the shipped model only if every split's score rises on average; the script prints the
decision.
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import f1_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import LinearSVC

from benchmarks.corpus_db import LABELS, corpus_database
from classifier.documents import issue_documents
from classifier.evaluation import held_out_splits
from classifier.labels import final_labels, read_labels_csv
from classifier.model import build_pipeline, prior_corrected
from classifier.training import labeled_set

STUDY = Path(__file__).resolve().parents[2] / "shared" / "studies" / "makkouk-icsme2022"
PERFORMANCE_FILES = {
    "tensorflow/tensorflow": "tensorflow_perf_bugs_information.csv",
    "pytorch/pytorch": "pytorch_perf_bugs_information.csv",
}


def performance_references() -> set[tuple[str, int]]:
    refs = set()
    for repository, name in PERFORMANCE_FILES.items():
        with (STUDY / name).open(newline="", encoding="utf-8") as handle:
            refs |= {(repository, int(row["Issue.ID"])) for row in csv.DictReader(handle)}
    return refs


def gated_system_f1(
    documents: pd.DataFrame,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    weak: pd.DataFrame,
    weight: float,
) -> float:
    """System F1 on `test` of the default gated model, its gate given the weak positives."""
    pipeline = build_pipeline()
    features = pipeline.named_steps["features"]
    model = pipeline.named_steps["classifier"]
    both = pd.concat([documents.iloc[train], weak], ignore_index=True)
    X = features.fit_transform(both)
    X_labeled, X_weak = X[: len(train)], X[len(train) :]
    y_train = y[train]
    system = y_train != "NSR"
    gate_X = X_labeled if not len(weak) else _stack(X_labeled, X_weak)
    gate_y = np.concatenate([system, np.ones(len(weak), dtype=bool)])
    weights = np.concatenate([np.ones(len(train)), np.full(len(weak), weight)])
    # The gate as CalibratedLinear builds it once calibrated, fitted with example weights.
    gate = CalibratedClassifierCV(
        LinearSVC(C=model.gate.C, class_weight="balanced"), method="sigmoid", cv=3, ensemble=False
    ).fit(gate_X, gate_y, sample_weight=weights)
    categorizer = clone(model.categorizer).fit(X_labeled[system], y_train[system])
    X_test = features.transform(documents.iloc[test])
    p_system = gate.predict_proba(X_test)[:, list(gate.classes_).index(True)]
    classes = ["NSR", *categorizer.classes_]
    probabilities = np.column_stack(
        [1 - p_system, p_system[:, None] * categorizer.predict_proba(X_test)]
    )
    prior = pd.Series(y_train).value_counts().reindex(classes).fillna(0).to_numpy() / len(train)
    decided = np.asarray(classes)[prior_corrected(probabilities, prior, model.prior_power)]
    return float(f1_score(y[test] != "NSR", decided != "NSR"))


def _stack(a, b):
    import scipy.sparse as sp

    return sp.vstack([a, b]).tocsr()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weight", type=float, default=0.5, help="weight of a weak example")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    labels = final_labels(read_labels_csv(LABELS))
    with tempfile.TemporaryDirectory() as scratch:
        engine = corpus_database(Path(scratch) / "issues.db")
        data = labeled_set(engine, labels, source=str(LABELS))
        everything = issue_documents(engine)
        engine.dispose()
    labeled = set(zip(data.documents["repository"], data.documents["number"], strict=True))
    performance = performance_references() - labeled
    is_weak = [
        (r, n) in performance
        for r, n in zip(everything["repository"], everything["number"], strict=True)
    ]
    weak_all = everything[is_weak].reset_index(drop=True)
    print(f"{len(weak_all)} unlabeled corpus issues that Makkouk et al. judged performance bugs")
    rows = []
    created = pd.to_datetime(data.documents["created_at"])
    for name, (train, test) in held_out_splits(data.documents).items():
        weak = weak_all
        if name.startswith("without "):
            weak = weak[weak["repository"].str.lower() != name.removeprefix("without ")]
        else:
            weak = weak[pd.to_datetime(weak["created_at"]) < created.iloc[test].min()]
        base = gated_system_f1(data.documents, data.y, train, test, weak.iloc[:0], args.weight)
        more = gated_system_f1(data.documents, data.y, train, test, weak, args.weight)
        rows.append({"split": name, "weak": len(weak), "without": base, "with": more})
        print(f"{name:34s} weak {len(weak):5d}  system-F1 {base:.3f} -> {more:.3f}")
    table = pd.DataFrame(rows)
    gain = (table["with"] - table["without"]).mean()
    keep = gain > 0 and (table["with"] >= table["without"]).all()
    print(f"mean gain {gain:+.3f}; keep the weak positives: {'yes' if keep else 'no'}")


if __name__ == "__main__":
    main()
