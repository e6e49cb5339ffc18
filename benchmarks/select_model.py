"""Choose the classifier's configuration on splits that cannot fool themselves.

    .venv/bin/python benchmarks/select_model.py                 # every candidate, ~1 h
    .venv/bin/python benchmarks/select_model.py --only shipped-1.0 no-repo-labels   # ~25 min

Each candidate is scored three ways on the committed labels (classifier/data/labels.csv):
pooled 5-fold cross-validation, leave-one-repository-out (train on the other repositories, test
on one with >= 50 labeled issues) and a time split (train on older issues, test on the newest
20%). Decisions at prior powers 0, 0.5 and 1 come from the same fitted models. The choice is the
best mean macro-F1 over the held-out splits (repositories and time), ties broken by system F1;
pooled CV is reported beside it, not used to choose. Writes reports/selection/selection.json
and selection.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.corpus_db import LABELS, REPO_ROOT, corpus_database
from classifier.evaluation import cross_validate, evaluate_held_out, held_out_scores
from classifier.labels import final_labels, read_labels_csv
from classifier.model import build_pipeline
from classifier.training import labeled_set

REPORT_DIR = REPO_ROOT / "reports" / "selection"
POWERS = (0.0, 0.5, 1.0)
SHIPPED_BEFORE = {"repo_labels": True, "raw_view": None, "title_words": False, "signals": "basic"}
CANDIDATES: dict[str, dict] = {
    "shipped-1.0": SHIPPED_BEFORE,
    "no-repo-labels": {**SHIPPED_BEFORE, "repo_labels": False},
    "+title-words": {"title_words": True},
    "+title-words+log-signals": {"title_words": True, "signals": "extended"},
    "+title-words+log-signals+raw-words": {
        "title_words": True,
        "signals": "extended",
        "raw_view": "words",
    },
    "+title-words+log-signals+raw-chars": {
        "title_words": True,
        "signals": "extended",
        "raw_view": "chars",
    },
    "logreg": {"learner": "logreg", "C": 4.0},
    "joint": {"structure": "joint"},
}


def score_candidate(name: str, params: dict, documents, y) -> dict:
    started = time.perf_counter()
    estimator = build_pipeline(memoize_text=True, **params)
    pooled = cross_validate(name, estimator, documents, y, n_splits=5, n_repeats=1)
    held_out = evaluate_held_out(estimator, documents, y, prior_powers=POWERS)
    rows = {}
    for power in POWERS:
        predicted = pooled.predictions(power)[0]
        splits = {"pooled CV": held_out_scores(y, predicted), **held_out[power]}
        held = [s for split, s in splits.items() if split != "pooled CV"]
        rows[f"{power:g}"] = {
            "splits": splits,
            "held_out_macro_f1": float(np.nanmean([s["macro_f1"] for s in held])),
            "held_out_system_f1": float(np.mean([s["system_f1"] for s in held])),
        }
    return {
        "name": name,
        "params": params,
        "powers": rows,
        "seconds": time.perf_counter() - started,
    }


def markdown(results: list[dict], chosen: tuple[str, str], n: int) -> str:
    lines = [
        "# Model selection on held-out repositories and time",
        "",
        f"{n} labeled issues. Chosen: **{chosen[0]}, prior^{chosen[1]}** (best mean macro-F1 "
        "over the held-out splits). Macro-F1 counts categories with >= 5 test issues.",
        "",
        "| candidate | prior | split | n | system F1 | macro-F1 | accuracy |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for power, row in result["powers"].items():
            for split, s in row["splits"].items():
                lines.append(
                    f"| {result['name']} | {power} | {split} | {s['n']} | {s['system_f1']:.3f} "
                    f"| {s['macro_f1']:.3f} | {s['accuracy']:.3f} |"
                )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--only", nargs="*", help="candidate names (default: all)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--report", type=Path, default=REPORT_DIR)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    labels = final_labels(read_labels_csv(args.labels))
    with tempfile.TemporaryDirectory() as scratch:
        engine = corpus_database(Path(scratch) / "issues.db", set(labels["repository"]))
        data = labeled_set(engine, labels, source=str(args.labels))
        engine.dispose()
    names = args.only or list(CANDIDATES)
    results = Parallel(n_jobs=args.jobs)(
        delayed(score_candidate)(name, CANDIDATES[name], data.documents, data.y) for name in names
    )
    best = max(
        ((r, p) for r in results for p in r["powers"]),
        key=lambda rp: (
            rp[0]["powers"][rp[1]]["held_out_macro_f1"],
            rp[0]["powers"][rp[1]]["held_out_system_f1"],
        ),
    )
    chosen = (best[0]["name"], best[1])
    args.report.mkdir(parents=True, exist_ok=True)
    payload = {"n_issues": len(data.y), "chosen": chosen, "results": results}
    (args.report / "selection.json").write_text(json.dumps(payload, indent=2) + "\n")
    (args.report / "selection.md").write_text(markdown(results, chosen, len(data.y)))
    for result in results:
        for power, row in result["powers"].items():
            pooled = row["splits"]["pooled CV"]
            mark = "*" if (result["name"], power) == chosen else " "
            print(
                f"{mark} {result['name']:36s} prior^{power:3s} held-out macro-F1 "
                f"{row['held_out_macro_f1']:.3f} system-F1 {row['held_out_system_f1']:.3f} | "
                f"pooled macro-F1 {pooled['macro_f1']:.3f} system-F1 {pooled['system_f1']:.3f}"
            )
    print(f"report: {args.report / 'selection.md'}")


if __name__ == "__main__":
    main()
