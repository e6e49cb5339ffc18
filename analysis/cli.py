"""Commands of the analysis: `mlissues figures` and `mlissues export`."""

from __future__ import annotations

from pathlib import Path

import click

from db.cli import db_option, open_for_cli, user_errors

threshold_option = click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Lowest classifier probability that gives an issue a category (humans always do).",
)


def out_option(default: str, what: str):
    """--out, shared by the commands that write a folder."""
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(default),
        show_default=True,
        help=f"Folder for {what}.",
    )


@click.command("figures")
@db_option
@threshold_option
@out_option("reports", "the figures (PDF, PNG), tables.md and index.html")
def figures(db_url: str, threshold: float, out_dir: Path) -> None:
    """Regenerate every study figure, tables.md and an HTML report from the database."""
    from analysis.report import build_report
    from analysis.results import EmptyStudyError

    engine = open_for_cli(db_url)
    with user_errors(EmptyStudyError):
        report = build_report(engine, out_dir, threshold)
    click.echo(f"{len(report.figures)} figure files, {report.tables.name} and {report.index}")


@click.command("export")
@db_option
@threshold_option
@out_option("dataset", "the CSV files, data dictionary, datasheet and datapackage.json")
def export(db_url: str, threshold: float, out_dir: Path) -> None:
    """Write the dataset as CSV with a data dictionary, a datasheet and datapackage.json."""
    from analysis.export import ExportError, export_dataset
    from analysis.results import EmptyStudyError

    engine = open_for_cli(db_url)
    with user_errors(EmptyStudyError, ExportError):
        written = export_dataset(engine, out_dir, threshold)
    click.echo(f"{len(written)} files written to {out_dir}")
