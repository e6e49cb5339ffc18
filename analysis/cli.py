"""Commands of the analysis: `mlissues figures` and `mlissues export`."""

from __future__ import annotations

from pathlib import Path

import click

from db.cli import db_option, open_for_cli, user_errors

model_option = click.option(
    "--model",
    "model_version",
    metavar="VERSION",
    help="Use this model's decisions (default: the model that classified the most issues). "
    "Every output names the model it used.",
)
ESTIMATORS = ("PACC", "ACC", "EMQ", "PCC", "CC")  # analysis.shares.ESTIMATORS, without importing it
CORRECTIONS = ("holm", "fdr_bh")  # analysis.stats.CORRECTIONS, without importing it


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


def choice_option(flag: str, choices: tuple[str, ...], help: str):
    """An option that takes one of `choices`, the first by default."""
    return click.option(
        flag, type=click.Choice(choices), default=choices[0], show_default=True, help=help
    )


@click.command("figures")
@db_option
@model_option
@choice_option(
    "--estimator",
    ESTIMATORS,
    "How category shares are estimated from the model's probabilities and its measured "
    "error (see analysis/shares.py).",
)
@choice_option(
    "--correction",
    CORRECTIONS,
    "Multiple-comparison correction over every test of the report: holm (family-wise "
    "error) or fdr_bh (Benjamini–Hochberg false discovery rate).",
)
@out_option("reports", "the figures (PDF, PNG), tables.md, tests.csv and index.html")
def figures(
    db_url: str, model_version: str | None, estimator: str, correction: str, out_dir: Path
) -> None:
    """Regenerate every study figure, tables.md, tests.csv and an HTML report from the database."""
    from analysis.queries import EmptyStudyError, UnknownModelError
    from analysis.report import build_report

    engine = open_for_cli(db_url)
    with user_errors(EmptyStudyError, UnknownModelError):
        report = build_report(engine, out_dir, model_version, estimator, correction)
    click.echo(
        f"{len(report.figures)} figure files, {report.tables.name}, {report.tests.name} "
        f"and {report.index}"
    )


@click.command("export")
@db_option
@model_option
@click.option(
    "--pseudonymize-logins",
    is_flag=True,
    help="Replace every GitHub login with its keyed hash (HMAC-SHA256), the same in every table.",
)
@click.option(
    "--login-key",
    metavar="KEY",
    help="Secret key of --pseudonymize-logins (default: $MLISSUES_LOGIN_KEY); written nowhere.",
)
@out_option("dataset", "the CSV files, data dictionary, datasheet and datapackage.json")
def export(
    db_url: str,
    model_version: str | None,
    pseudonymize_logins: bool,
    login_key: str | None,
    out_dir: Path,
) -> None:
    """Write the dataset as CSV with a data dictionary, a datasheet and datapackage.json."""
    from analysis.export import (
        ExportError,
        MissingLoginKeyError,
        export_dataset,
        read_login_key,
    )
    from analysis.queries import EmptyStudyError, UnknownModelError

    with user_errors(MissingLoginKeyError):
        key = read_login_key(login_key) if pseudonymize_logins else None
    engine = open_for_cli(db_url)
    with user_errors(EmptyStudyError, ExportError, UnknownModelError):
        written = export_dataset(engine, out_dir, model_version, key)
    click.echo(f"{len(written)} files written to {out_dir}")
