"""Cross-validate the classifier on the seed labels and write reports/evaluation/.

    .venv/bin/python benchmarks/evaluate.py            # report only
    .venv/bin/python benchmarks/evaluate.py --ship     # and retrain the shipped default model

Builds a database from ../shared/corpus (the repositories that have seed labels), evaluates
every candidate and the baselines with repeated stratified cross-validation, writes the report
(JSON, Markdown, confusion matrix and reliability figures) and, with --ship, fits the chosen
model on all seed labels and saves it to classifier/models/default/.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.corpus_db import LABELS, REPO_ROOT, corpus_database
from classifier.evaluation import DEFAULT_REPEATS, DEFAULT_SPLITS, write_report
from classifier.labels import final_labels, read_labels_csv
from classifier.model import DEFAULT_MODEL_DIR
from classifier.training import evaluate_candidates, fit_model, labeled_set
from taxonomy import default_taxonomy

REPORT_DIR = REPO_ROOT / "reports" / "evaluation"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--folds", type=int, default=DEFAULT_SPLITS)
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS)
    parser.add_argument("--report", type=Path, default=REPORT_DIR)
    parser.add_argument("--ship", action="store_true", help="save the default model too")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    taxonomy = default_taxonomy()
    labels = final_labels(read_labels_csv(args.labels, taxonomy))
    with tempfile.TemporaryDirectory() as scratch:
        engine = corpus_database(Path(scratch) / "issues.db", set(labels["repository"]))
        data = labeled_set(engine, labels, source=str(args.labels.relative_to(REPO_ROOT)))
        engine.dispose()
    report = evaluate_candidates(data, taxonomy, n_splits=args.folds, n_repeats=args.repeats)
    report["missing_issues"] = len(data.missing)
    print(f"report: {write_report(report, args.report)}")
    for name, result in report["results"].items():
        s = result["summary"]
        print(
            f"{'*' if name == report['chosen'] else ' '} {name:18s} macro-F1 {s['macro_f1']:.3f} "
            f"± {s['macro_f1_std']:.3f}  system-F1 {s['system_f1']:.3f} ± {s['system_f1_std']:.3f}"
            f"  accuracy {s['accuracy']:.3f}  Brier {s['brier']:.3f}  ECE {s['ece']:.3f}"
        )
    print(f"held out ({report['selection']}), chosen {report['chosen']}:")
    for split, s in report["held_out"].items():
        print(
            f"  {split:32s} n {s['n']:5d}  system-F1 {s['system_f1']:.3f}  "
            f"macro-F1 {s['macro_f1']:.3f} ({s['categories']} categories)  "
            f"accuracy {s['accuracy']:.3f}"
        )
    kept = [r for r in report["results"][report["chosen"]]["abstention"]]
    at = next(r for r in kept if r["threshold"] == report["threshold"])
    print(
        f"abstention threshold {report['threshold']}: coverage {at['coverage']:.3f}, "
        f"precision of committed decisions {at['accuracy']:.3f} (out of fold)"
    )
    if args.ship:
        model = fit_model(data, taxonomy, report)
        artifact = model.save(DEFAULT_MODEL_DIR)
        size = artifact.stat().st_size / 1e6
        print(f"shipped {model.version} to {artifact} ({size:.2f} MB)")


if __name__ == "__main__":
    main()
