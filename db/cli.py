"""Database commands (init-db, status) and the options every command shares."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import click

from db.engine import DatabaseError, default_db, open_database
from db.summary import repository_summaries

db_option = click.option(
    "--db",
    "db_url",
    default=default_db,
    show_default="sqlite:///data/issues.db or $MLISSUES_DB",
    metavar="PATH|URL",
    help="SQLite file path or SQLAlchemy URL (e.g. postgresql+psycopg://user@host/db).",
)


def progress_enabled() -> bool:
    """Progress bars follow --quiet, which sets the root logger to WARNING."""
    return logging.getLogger().isEnabledFor(logging.INFO)


@contextlib.contextmanager
def user_errors(*error_types: type[Exception]) -> Iterator[None]:
    """Turn the named library errors into one click error line and a non-zero exit."""
    try:
        yield
    except (DatabaseError, *error_types) as error:
        raise click.ClickException(str(error)) from None


def open_for_cli(db_url: str, create: bool = False):
    with user_errors():
        return open_database(db_url, create=create)


@click.command("init-db")
@db_option
def init_db(db_url: str) -> None:
    """Create the database, or upgrade its schema to this version."""
    engine = open_for_cli(db_url, create=True)
    click.echo(f"database ready: {engine.url.render_as_string(hide_password=True)}")


def _format_time(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "never"


@click.command("status")
@db_option
def status(db_url: str) -> None:
    """Show what the database holds: repositories, issues, comments, crawls, labels, predictions."""
    engine = open_for_cli(db_url)
    rows = repository_summaries(engine)
    _show_jobs(engine)
    if not rows:
        click.echo("the database is empty; fill it with: mlissues crawl OWNER/REPO")
        return
    header = (
        "repository",
        "issues",
        "PRs",
        "comments",
        "events",
        "labeled",
        "classified",
        "last crawl",
    )
    table: list[tuple] = [header]
    for row in rows:
        table.append(
            (
                row.full_name,
                row.issues,
                row.pull_requests,
                row.comments,
                row.events,
                row.labeled,
                row.classified,
                _format_time(row.last_crawl) + (" (unfinished)" if row.crawl_unfinished else ""),
            )
        )
    widths = [max(len(str(line[i])) for line in table) for i in range(len(header))]
    for line in table:
        click.echo(
            "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True))
        )
    if any(row.crawl_unfinished for row in rows):
        click.echo(
            "unfinished: a crawl stopped before the end (interrupted or failed); run the same "
            "mlissues crawl command again to finish it"
        )


def _show_jobs(engine) -> None:
    """The crawl jobs of team workers (crawl --enqueue), when there are any."""
    from db.jobs import STATUSES, job_rows

    jobs = job_rows(engine)
    if not jobs:
        return
    counts = ", ".join(f"{sum(j['status'] == s for j in jobs)} {s}" for s in STATUSES)
    click.echo(f"crawl jobs: {counts}")
    for job in jobs:
        if job["status"] in ("running", "failed"):
            detail = (
                f"{job['worker']}, lease until {_format_time(job['lease_until'])} UTC"
                if job["status"] == "running"
                else (job["error"] or "")[:160]
            )
            name, attempt = job["full_name"], job["attempts"]
            click.echo(f"  {job['status']:8} {name}  attempt {attempt}: {detail}")
    click.echo("")
