"""`mlissues label ...`: the labeling workflow for people without Jupyter."""

from __future__ import annotations

import math
import sys

import click

from classifier.labeling import agreement, transfer
from classifier.labeling.store import AnnotationError
from db.cli import db_option, open_for_cli, user_errors
from taxonomy import UnknownCategoryError


@click.group("label")
def label() -> None:
    """Share annotations as CSV, measure agreement, settle disagreements."""


@label.command("export")
@db_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    show_default="standard output",
    help="CSV file to write (references only: repository, number, category, annotator...).",
)
def export(db_url: str, out: str) -> None:
    """Write every annotation as CSV, without any issue text."""
    engine = open_for_cli(db_url)
    if out == "-":
        count = transfer.export_annotations(engine, sys.stdout)
    else:
        with open(out, "w", encoding="utf-8", newline="") as handle:
            count = transfer.export_annotations(engine, handle)
    click.echo(f"exported {count} annotations to {out}", err=True)


@label.command("import")
@db_option
@click.option(
    "--skip-unknown",
    is_flag=True,
    help="Leave out rows naming a repository or issue not in the database (and count them).",
)
@click.argument("csv_file", type=click.Path(dir_okay=False))
def import_(db_url: str, skip_unknown: bool, csv_file: str) -> None:
    """Import annotations from CSV; all rows or none (errors name the line)."""
    engine = open_for_cli(db_url)
    with user_errors(transfer.AnnotationImportError):
        result = transfer.import_annotations(engine, csv_file, skip_unknown=skip_unknown)
    if result.stored:
        click.echo(
            f"imported {result.stored} annotations from {csv_file} ({result.new} new, "
            f"{result.changed} changed; {result.unchanged} already stored as they are)"
        )
    else:
        click.echo(f"nothing to import: all {result.unchanged} annotations are already stored")
    if result.skipped:
        click.echo(
            f"skipped {result.skipped} rows naming a repository or issue not in the database"
        )


def _number(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.3f}"


def _annotator_list(value: str | None) -> list[str] | None:
    return [name.strip() for name in value.split(",") if name.strip()] if value else None


@label.command("agreement")
@db_option
@click.option(
    "--annotators",
    metavar="A,B[,...]",
    help="Compare only these annotators (default: everyone with labels).",
)
@click.option("--sure-only", is_flag=True, help="Leave out labels marked unsure.")
@click.option("--show", is_flag=True, help="List the disagreements side by side.")
def agreement_command(db_url: str, annotators: str | None, sure_only: bool, show: bool) -> None:
    """Cohen's kappa and Krippendorff's alpha, per category and overall."""
    engine = open_for_cli(db_url)
    with user_errors(agreement.AgreementError):
        report = agreement.agreement_report(
            engine, _annotator_list(annotators), include_unsure=not sure_only
        )
    click.echo(f"annotators: {', '.join(report.annotators)}")
    click.echo(f"issues labeled by at least two: {report.units}")
    click.echo(f"{'category':<10}{'ratings':>8}{'kappa':>8}{'alpha':>8}")
    for row in report.per_category.itertuples():
        click.echo(
            f"{row.category:<10}{row.ratings:>8}{_number(row.kappa):>8}{_number(row.alpha):>8}"
        )
    click.echo(f"{'overall':<10}{'':>8}{_number(report.kappa):>8}{_number(report.alpha):>8}")
    if len(report.annotators) > 2:
        for pair in report.pairwise[report.pairwise.units > 0].itertuples():
            click.echo(
                f"kappa {pair.first} vs {pair.second}: {_number(pair.kappa)} ({pair.units} issues)"
            )
    click.echo(f"disagreements: {len(report.disagreements)}")
    if show and len(report.disagreements):
        shown = report.disagreements.drop(columns=["issue_id", "title"]).fillna("")
        click.echo(shown.to_string(index=False))


@label.command("adjudicate")
@db_option
@click.argument("repository")
@click.argument("number", type=int)
@click.argument("category")
@click.option("--by", "adjudicator", required=True, help="Who settles the label.")
@click.option("--note", default="", help="Why this category.")
def adjudicate(
    db_url: str, repository: str, number: int, category: str, adjudicator: str, note: str
) -> None:
    """Record the settled category of one issue (OWNER/NAME NUMBER CATEGORY)."""
    engine = open_for_cli(db_url)
    with user_errors(LookupError, UnknownCategoryError, AnnotationError):
        issue_id = transfer.resolve_issue(engine, repository, number)
        settled = agreement.adjudicate(engine, issue_id, category, adjudicator, note)
    click.echo(f"{repository}#{number}: adjudicated {settled.category} by {adjudicator}")
