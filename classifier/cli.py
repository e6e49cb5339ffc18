"""`mlissues train` and `mlissues classify`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from classifier.evaluation import DEFAULT_REPEATS, DEFAULT_SPLITS, write_report
from classifier.labels import LabelsFileError, annotation_rows, final_labels, read_labels_csv
from classifier.model import ModelError, load_model
from classifier.predict import NothingToClassifyError, classify_database
from classifier.training import TrainingError
from classifier.training import train as train_model
from db.cli import db_option, open_for_cli, progress_enabled, user_errors
from taxonomy import TaxonomyError, UnknownCategoryError, load_taxonomy

DEFAULT_REPORT_DIR = "reports/evaluation"


def _labels(engine, labels_file: Path | None, taxonomy):
    if labels_file is not None:
        return final_labels(read_labels_csv(labels_file, taxonomy)), str(labels_file)
    rows = annotation_rows(engine, taxonomy)
    if rows.empty:
        raise TrainingError(
            "the database has no labeled issues; label some (mlissues label) or pass --labels FILE"
        )
    return final_labels(rows), "annotations table"


@click.command("train")
@db_option
@click.option(
    "--labels",
    "labels_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Labels CSV (repository,number,category[,annotator,kind,note]); default: the "
    "annotations in the database.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Model directory to write (default: data/models/<version>).",
)
@click.option(
    "--taxonomy",
    "taxonomy_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Taxonomy YAML (default: the shipped system-issue taxonomy).",
)
@click.option(
    "--report",
    "report_dir",
    default=DEFAULT_REPORT_DIR,
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the evaluation report goes.",
)
@click.option("--folds", default=DEFAULT_SPLITS, show_default=True, help="Cross-validation folds.")
@click.option("--repeats", default=DEFAULT_REPEATS, show_default=True, help="Repetitions.")
def train(db_url, labels_file, out, taxonomy_file, report_dir, folds, repeats) -> None:
    """Train a classifier on labeled issues, cross-validate it and save a versioned model."""
    engine = open_for_cli(db_url)
    errors = (
        LabelsFileError,
        TaxonomyError,
        UnknownCategoryError,
        TrainingError,
        FileNotFoundError,
    )
    with user_errors(*errors):
        taxonomy = load_taxonomy(taxonomy_file)
        labels, source = _labels(engine, labels_file, taxonomy)
        click.echo(f"training on {len(labels)} labeled issues from {source}", err=True)
        model, artifact, report = train_model(
            engine,
            labels,
            source=source,
            taxonomy=taxonomy,
            out=out,
            n_splits=folds,
            n_repeats=repeats,
            on_report=lambda r: write_report(r, report_dir),
        )
    _echo_summary(report)
    click.echo(f"report: {report_dir / 'evaluation.md'}")
    click.echo(f"model {model.version} saved to {artifact.parent} (threshold {model.threshold})")


def _echo_summary(report: dict) -> None:
    for name, result in report["results"].items():
        s = result["summary"]
        marker = "*" if name == report["chosen"] else " "
        click.echo(
            f"{marker} {name:16s} macro-F1 {s['macro_f1']:.3f}  system-F1 {s['system_f1']:.3f}  "
            f"accuracy {s['accuracy']:.3f}  Brier {s['brier']:.3f}"
        )


@click.command("classify")
@db_option
@click.option(
    "--model",
    "model_path",
    type=click.Path(path_type=Path),
    help="Model directory or model.skops (default: the shipped model).",
)
@click.option("--all", "reclassify", is_flag=True, help="Classify every issue again.")
@click.option(
    "--workers",
    type=click.IntRange(1, 16),
    default=lambda: min(os.cpu_count() or 1, 4),
    show_default="CPU cores, at most 4",
    help="Processes that predict in parallel (2 workers: ~1,000 issues/s on 2 cores, "
    "1 worker: ~670; see benchmarks/classify.py).",
)
def classify(db_url, model_path, reclassify, workers) -> None:
    """Classify the issues that this model version has not classified yet."""
    engine = open_for_cli(db_url)
    bars = []

    def advance(done: int, total: int) -> None:
        if not bars:
            from tqdm import tqdm

            bars.append(tqdm(total=total, unit="issue", desc="classifying", leave=False))
        bars[0].update(done)

    with user_errors(ModelError, NothingToClassifyError):
        model = load_model(model_path)
        try:
            result = classify_database(
                engine,
                model,
                reclassify=reclassify,
                workers=workers,
                progress=advance if progress_enabled() else None,
            )
        finally:
            for bar in bars:
                bar.close()
    if result.classified == 0:
        click.echo(
            f"nothing to classify: all {result.already_done} issues already have predictions "
            f"of model {model.version} (use --all to classify them again)"
        )
        return
    click.echo(
        f"classified {result.classified} issues with model {model.version}: "
        f"{result.abstained} below the threshold {model.threshold} need review"
    )
