"""Find likely label errors with cleanlab, and pick the next issues to label (active learning).

    python scripts/label_review.py flags --out data/labeling/cleanlab/refs.csv
    python scripts/label_review.py targets IO PR RACE --per-category 100

`flags`: out-of-fold probabilities of the default pipeline (5-fold cross-validation over the
committed labels) go to cleanlab's find_label_issues (Northcutt et al., confident learning); the
issues it flags, ranked by self-confidence, are written with the model's suggestion for a person
to re-read. The labels are not changed here.

`targets`: the default pipeline, fitted on every committed label, ranks the unlabeled corpus
issues by the probability of each named category; the top ones per category are written for
labeling (a documented, model-based search for categories still short of examples).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.corpus_db import LABELS, corpus_database
from classifier.documents import issue_documents
from classifier.evaluation import cross_validate
from classifier.labels import final_labels, read_labels_csv
from classifier.model import build_pipeline
from classifier.training import labeled_set


def _labeled(scratch: Path):
    labels = final_labels(read_labels_csv(LABELS))
    engine = corpus_database(scratch / "issues.db")
    return engine, labeled_set(engine, labels, source=str(LABELS))


def flags(out: Path) -> None:
    from cleanlab.filter import find_label_issues

    with tempfile.TemporaryDirectory() as scratch:
        engine, data = _labeled(Path(scratch))
        engine.dispose()
    result = cross_validate("default", build_pipeline(memoize_text=True), data.documents, data.y)
    classes = np.asarray(result.classes)
    given = np.searchsorted(classes, data.y)
    probabilities = result.probabilities[0]
    ranked = find_label_issues(
        given, probabilities, return_indices_ranked_by="self_confidence", n_jobs=1
    )
    documents = data.documents.iloc[ranked]
    frame = pd.DataFrame(
        {
            "repository": documents["repository"].to_numpy(),
            "number": documents["number"].to_numpy(),
            "category": data.y[ranked],
            "suggested": classes[probabilities[ranked].argmax(axis=1)],
            "self_confidence": probabilities[ranked, given[ranked]].round(4),
        }
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    print(f"cleanlab flags {len(frame)} of {len(data.y)} labels -> {out}")


def targets(categories: list[str], per_category: int, out: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        engine, data = _labeled(Path(scratch))
        labeled = set(data.documents["issue_id"])
        pool = issue_documents(engine)
        engine.dispose()
    pool = pool[~pool["issue_id"].isin(labeled)].reset_index(drop=True)
    model = build_pipeline().fit(data.documents, data.y)
    probabilities = model.predict_proba(pool)
    classes = list(model.classes_)
    chosen: dict[int, str] = {}
    for code in categories:
        order = np.argsort(-probabilities[:, classes.index(code)], kind="stable")
        fresh = [i for i in order if i not in chosen][:per_category]
        chosen.update(dict.fromkeys(fresh, code))
    rows = pool.iloc[list(chosen)][["repository", "number"]].assign(stratum=list(chosen.values()))
    out.parent.mkdir(parents=True, exist_ok=True)
    rows.sample(frac=1, random_state=0).to_csv(out, index=False)
    print(f"{len(rows)} unlabeled issues ranked by the model for {', '.join(categories)} -> {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    flag = commands.add_parser("flags")
    flag.add_argument("--out", type=Path, default=Path("data/labeling/cleanlab/refs.csv"))
    target = commands.add_parser("targets")
    target.add_argument("categories", nargs="+")
    target.add_argument("--per-category", type=int, default=100)
    target.add_argument("--out", type=Path, default=Path("data/labeling/round3/refs.csv"))
    args = parser.parse_args()
    if args.command == "flags":
        flags(args.out)
    else:
        targets(args.categories, args.per_category, args.out)


if __name__ == "__main__":
    main()
