"""Benchmark the classifier: classify throughput over the whole corpus, training time, size.

    .venv/bin/python benchmarks/classify.py [--model DIR] [--out reports/benchmarks/classify.json]

Loads all of ../shared/corpus into a scratch SQLite database (not timed), then times
`classify_database` with the model (reading documents, spaCy preprocessing, features,
prediction and writing the predictions) with 1 and 2 worker processes, a fit of the same
configuration on the seed labels, and reports the artifact size on disk.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.corpus_db import LABELS, REPO_ROOT, corpus_database
from classifier.labels import final_labels, read_labels_csv
from classifier.model import ARTIFACT_NAME, DEFAULT_MODEL_DIR, build_pipeline, load_model
from classifier.predict import classify_database
from classifier.text import clear_memo
from classifier.training import labeled_set
from db.schema import predictions

OUT = REPO_ROOT / "reports" / "benchmarks" / "classify.json"


def time_training(engine, params: dict) -> dict:
    labels = final_labels(read_labels_csv(LABELS))
    data = labeled_set(engine, labels, source="seed labels")
    clear_memo()
    start = time.perf_counter()
    build_pipeline(**params).fit(data.documents, data.y)
    return {"issues": len(data.y), "seconds": round(time.perf_counter() - start, 2)}


def time_classify(engine, model, workers: int) -> dict:
    """Classify every issue from scratch; wall time, and CPU time of this process and workers."""
    with engine.begin() as connection:
        connection.execute(predictions.delete())
    clear_memo()
    load_before = os.getloadavg()[0]
    cpu_before = _cpu_seconds()
    start = time.perf_counter()
    result = classify_database(engine, model, workers=workers)
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu_before
    return {
        "workers": workers,
        "issues": result.classified,
        "abstained": result.abstained,
        "seconds": round(seconds, 2),
        "issues_per_second": round(result.classified / seconds, 1),
        "cpu_seconds": round(cpu, 2),
        "issues_per_cpu_second": round(result.classified / cpu, 1),
        # Other jobs on the machine slow the wall clock; the load average says how busy it was.
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory() as scratch:
        engine = corpus_database(Path(scratch) / "issues.db")
        start = time.perf_counter()
        model = load_model(args.model)
        load_seconds = time.perf_counter() - start
        runs = [time_classify(engine, model, workers) for workers in args.workers]
        params = {
            key: model.card[key]
            for key in ("structure", "learner", "prior_power")
            if key in model.card
        }
        training = time_training(engine, params)
        engine.dispose()

    artifact = args.model / ARTIFACT_NAME if args.model.is_dir() else args.model
    report = {
        "model": model.version,
        "classify": runs,
        "model_load_seconds": round(load_seconds, 2),
        "training": training,
        "model_size_mb": round(artifact.stat().st_size / 1e6, 2),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
