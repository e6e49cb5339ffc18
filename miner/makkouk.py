"""Load the per-issue metadata of Makkouk et al. (ICSME 2022) into the study database.

The study published, for 34,177 TensorFlow and PyTorch bug reports, the author, open and last
close dates, comment counts, commenters with their comment counts and label names, split into
performance and non-performance bugs; and a root-cause taxonomy of 143 performance bugs. It has
no texts and no GitHub ids, so:

- ids are synthetic, stable and negative (`synthetic_id`): the sign marks them as not GitHub's,
  and a hash of the source and natural key keeps re-imports idempotent;
- an issue already stored (e.g. from ../shared/corpus or a crawl) keeps its row and id; only its
  participants are added;
- titles are empty and bodies NULL; "Not found" close dates mean the issue is open;
- `raw_json` holds the untouched CSV row plus the file and subset (perf / non_perf);
- commenters become `issue_participants` rows (login, number of comments), not invented comments;
- root causes become annotations by annotator `makkouk-icsme2022` only where they map plainly
  onto this project's taxonomy (`ROOT_CAUSE_CODES`); the others stay without a category.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from tqdm import tqdm

from db import schema, upsert
from db.cli import db_option, open_for_cli, progress_enabled, user_errors
from miner.store import ensure_repository, save_users, utcnow

SOURCE = "makkouk-icsme2022"
# How the study writes a missing value: no close date (open), no comment, no label.
MISSING = frozenset({"Not found", "No comments", "No labels", ""})
TAXONOMY_FILE = "perf_bugs_taxonomy.csv"
FILES = {
    "tensorflow_perf_bugs_information.csv": ("tensorflow/tensorflow", "perf"),
    "tensorflow_non_perf_bugs_information.csv": ("tensorflow/tensorflow", "non_perf"),
    "pytorch_perf_bugs_information.csv": ("pytorch/pytorch", "perf"),
    "pytorch_non_perf_bugs_information.csv": ("pytorch/pytorch", "non_perf"),
}
FRAMEWORKS = {"tensorflow": "tensorflow/tensorflow", "pytorch": "pytorch/pytorch"}
COMMENTERS = "Commentators..username.alongside.the.number.of.comments.posted."
COLUMNS = (
    "Issue.ID", "Author", "Date.Opened", "Date.of.last.time.closed", "Date.of.first.comment",
    "Number.of.Comment.s.", "Issue.labels", COMMENTERS,
)  # fmt: skip
TAXONOMY_COLUMNS = ("Framework", "Category", "Issue.ID")

# The study's root causes that name one of our categories without stretching it (see
# ../shared/CODEBOOK.md). Computational inefficiencies (matrix computation, caching, algorithm,
# data types, unnecessary computation, SE inefficiency, C/C++ abstraction, other, lack of
# parallelization) have no category of ours and stay unlabeled.
ROOT_CAUSE_CODES = {
    "Memory inefficiency (Unreleased memory resources)": "MLEAK",
    "Memory inefficiency (Unnecessary memory allocation)": "MA",
    "Threading inefficiency (Excessive usage of multithreading)": "MT",
    "Threading inefficiency (Thread not returning on time)": "MT",
    "Threading inefficiency (Excessive usage of thread-local variables)": "MT",
    "Threading inefficiency (Challenges in fine-tuning the optimum number of threads)": "CONFIG",
    "Hardware component communication overhead (Local communication overhead)": "SYNC",
    "Hardware component communication overhead (Remote communication overhead)": "SYNC",
    "Inefficient hardware optimization (Lack of support for hardware optimization libraries)": (
        "HA"
    ),
    "Inefficient hardware optimization (Wrong device placement)": "RU",
}


class StudyDataError(ValueError):
    """The study folder is not the Makkouk et al. metadata this loader knows."""


@dataclass(frozen=True)
class StudyIssue:
    """One CSV row, parsed; `row` is the untouched CSV record."""

    full_name: str
    subset: str
    file: str
    row: dict[str, str]
    line: int = 0  # where the record ends in its file, for messages

    @property
    def number(self) -> int:
        return int(self.row["Issue.ID"])


def synthetic_id(*parts: object) -> int:
    """A stable negative 48-bit id from the source name and a natural key."""
    digest = hashlib.sha256(":".join(map(str, (SOURCE, *parts))).encode()).hexdigest()
    return -int(digest[:12], 16)


def parse_date(value: str) -> datetime | None:
    """'2018-07-30 14:42' (UTC, minutes) or a missing marker as a naive UTC datetime or None."""
    value = value.strip()
    if value in MISSING:
        return None
    return datetime.strptime(value, "%Y-%m-%d %H:%M")


def parse_commenters(value: str) -> dict[str, int]:
    """ "{'login': 2, ...}" (a Python dict literal in the CSV) as a dict."""
    value = value.strip()
    if value in MISSING:
        return {}
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        parsed = None
    if not isinstance(parsed, dict):
        raise StudyDataError(f"commenters {value[:60]!r} are not a dict literal")
    return {str(login): int(count) for login, count in parsed.items()}


def parse_labels(value: str) -> list[str]:
    if value.strip() in MISSING:
        return []
    return [name.strip() for name in value.split(",") if name.strip()]


def check_folder(folder: Path) -> None:
    missing = [name for name in FILES if not (folder / name).exists()]
    if missing:
        raise StudyDataError(
            f"{folder} lacks {', '.join(missing)}; point at ../shared/studies/makkouk-icsme2022"
        )


def _study_rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) of a study CSV; StudyDataError names the file and line of what is wrong."""
    reader = None
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or ())]
            if missing:
                raise StudyDataError(f"{path} lacks the column(s) {', '.join(missing)}")
            for row in reader:
                # a short row has None for its missing fields: they read as empty
                yield reader.line_num, {k: v or "" for k, v in row.items() if k is not None}
    except (UnicodeDecodeError, csv.Error) as error:
        line = reader.line_num + 1 if reader is not None else 1
        raise StudyDataError(f"{path}, line {line}: {error}") from None


def iter_study_issues(folder: str | Path) -> Iterator[StudyIssue]:
    """Every row of the four metadata files, file by file."""
    folder = Path(folder)
    check_folder(folder)
    for name, (full_name, subset) in FILES.items():
        for line, row in _study_rows(folder / name, COLUMNS):
            yield StudyIssue(full_name, subset, name, row, line)


# --- rows -----------------------------------------------------------------------------------


def _issue_row(item: StudyIssue, repository_id: int, fetched_at: datetime, url: str) -> dict:
    row = item.row
    created = parse_date(row["Date.Opened"])
    closed = parse_date(row["Date.of.last.time.closed"])
    first_comment = parse_date(row["Date.of.first.comment"])
    if created is None:
        raise StudyDataError("Date.Opened is empty")
    return {
        "id": synthetic_id(item.full_name, "issue", item.number),
        "repository_id": repository_id,
        "number": item.number,
        "title": "",
        "body": None,
        "state": "closed" if closed else "open",
        "state_reason": None,
        "is_pull_request": False,
        "locked": None,
        "user_id": synthetic_id("user", row["Author"]),
        "user_login": row["Author"],
        "author_association": None,
        "closed_by_id": None,
        "comments_count": int(row["Number.of.Comment.s."]),
        "reactions_total": None,
        "created_at": created,
        # The study has no update time: the latest date it gives is the best lower bound.
        "updated_at": max(d for d in (created, closed, first_comment) if d),
        "closed_at": closed,
        "raw_json": json.dumps(
            {"file": item.file, "subset": item.subset, "row": row}, ensure_ascii=False
        ),
        "fetched_at": fetched_at,
        "source_url": url,
        "tool_version": SOURCE,
    }


def _label_rows(item: StudyIssue, repository_id: int, issue_id: int) -> tuple[list, list]:
    labels, links = [], []
    for name in parse_labels(item.row["Issue.labels"]):
        label_id = synthetic_id(item.full_name, "label", name)
        labels.append({"id": label_id, "repository_id": repository_id, "name": name})
        links.append({"issue_id": issue_id, "label_id": label_id})
    return labels, links


def _participant_rows(item: StudyIssue, issue_id: int) -> list[dict]:
    commenters = parse_commenters(item.row[COMMENTERS])
    return [
        {"issue_id": issue_id, "login": login, "source": SOURCE, "comments": count}
        for login, count in sorted(commenters.items())
    ]


def _existing_ids(connection: Connection, repository_id: int) -> dict[int, int]:
    rows = connection.execute(
        select(schema.issues.c.number, schema.issues.c.id).where(
            schema.issues.c.repository_id == repository_id
        )
    )
    return dict(rows.all())


def save_page(connection: Connection, page: list[StudyIssue], folder: Path) -> None:
    """Upsert one page of study rows: new issues with users and labels; participants for all."""
    repository_ids: dict[str, int] = {}
    existing: dict[str, dict[int, int]] = {}
    issues, labels, links, participants = [], [], [], []
    fetched_at = utcnow()
    for item in page:
        if item.full_name not in repository_ids:
            url = f"https://api.github.com/repos/{item.full_name}"
            repository_ids[item.full_name] = ensure_repository(connection, item.full_name, url)
            existing[item.full_name] = _existing_ids(connection, repository_ids[item.full_name])
        repository_id = repository_ids[item.full_name]
        issue_id = existing[item.full_name].get(item.number)
        try:
            if issue_id is None:
                source_url = (folder / item.file).resolve().as_uri()
                row = _issue_row(item, repository_id, fetched_at, source_url)
                issue_id = row["id"]
                issues.append(row)
                item_labels, item_links = _label_rows(item, repository_id, issue_id)
                labels += item_labels
                links += item_links
            participants += _participant_rows(item, issue_id)
        except (ValueError, TypeError) as error:  # StudyDataError is a ValueError too
            raise StudyDataError(f"{folder / item.file}, line {item.line}: {error}") from None
    save_users(connection, [{"id": r["user_id"], "login": r["user_login"]} for r in issues])
    upsert(connection, schema.issues, issues, key=["id"])
    upsert(connection, schema.labels, labels, key=["id"])
    upsert(connection, schema.issue_labels, links, key=["issue_id", "label_id"], update=())
    upsert(connection, schema.issue_participants, participants, key=["issue_id", "login", "source"])


# --- root causes ----------------------------------------------------------------------------


def iter_root_causes(folder: str | Path) -> Iterator[tuple[str, int, str]]:
    """(full_name, issue number, root cause) for each row of the 143-issue taxonomy file."""
    path = Path(folder) / TAXONOMY_FILE
    if not path.exists():
        return
    for line, row in _study_rows(path, TAXONOMY_COLUMNS):
        # A few ids carry a note, e.g. "19385  (2 bugs)": the number is what comes first.
        number = re.match(r"\s*(\d+)", row["Issue.ID"] or "")
        framework = FRAMEWORKS.get((row["Framework"] or "").strip().lower())
        if number and framework is None:
            raise StudyDataError(f"{path}, line {line}: unknown framework {row['Framework']!r}")
        if number:
            yield framework, int(number.group(1)), (row["Category"] or "").strip()


def save_root_causes(engine: Engine, folder: str | Path) -> int:
    """Store the mappable root causes as annotations; returns how many issues got one."""
    rows: dict[int, dict] = {}
    with engine.begin() as connection:
        for full_name, number, cause in iter_root_causes(folder):
            code = ROOT_CAUSE_CODES.get(cause)
            issue_id = connection.execute(
                select(schema.issues.c.id)
                .join(schema.repositories)
                .where(schema.repositories.c.full_name == full_name)
                .where(schema.issues.c.number == number)
            ).scalar()
            if code is None or issue_id is None:
                continue
            rows[issue_id] = {
                "issue_id": issue_id,
                "annotator": SOURCE,
                "kind": "label",
                "category": code,
                "status": "labeled",
                "note": f"mapped from the study's root cause: {cause}",
                "created_at": datetime(2022, 10, 3),  # ICSME 2022, when the labels were published
            }
        upsert(
            connection, schema.annotations, list(rows.values()), ["issue_id", "annotator", "kind"]
        )
    return len(rows)


def import_study(
    engine: Engine, folder: str | Path, page_size: int = 2000, root_causes: bool = True
) -> tuple[int, int]:
    """Load the study folder page by page; returns (issues read, issues given a category)."""
    folder = Path(folder)
    check_folder(folder)  # before the progress bar: a wrong folder is one clean error line
    read = 0
    page: list[StudyIssue] = []
    rows = iter_study_issues(folder)
    for item in tqdm(rows, desc=SOURCE, unit=" issues", disable=not progress_enabled()):
        page.append(item)
        if len(page) == page_size:
            read += _commit(engine, page, folder)
            page = []
    read += _commit(engine, page, folder)
    labeled = save_root_causes(engine, folder) if root_causes else 0
    return read, labeled


def _commit(engine: Engine, page: list[StudyIssue], folder: Path) -> int:
    if page:
        with engine.begin() as connection:
            save_page(connection, page, folder)
    return len(page)


# --- command line ---------------------------------------------------------------------------


@click.group("import-study")
def import_study_group() -> None:
    """Load a published study's issue metadata (no texts) into the database."""


@import_study_group.command("makkouk")
@db_option
@click.option(
    "--root-causes/--no-root-causes",
    default=True,
    show_default=True,
    help="Also store the study's performance root causes that map onto our taxonomy.",
)
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_makkouk(db_url: str, root_causes: bool, folder: Path) -> None:
    """Makkouk et al. (ICSME 2022): 34,177 TensorFlow/PyTorch bug reports from FOLDER."""
    engine = open_for_cli(db_url, create=True)
    with user_errors(StudyDataError):
        read, labeled = import_study(engine, folder, root_causes=root_causes)
    click.echo(f"{read} study issues read; {labeled} given a category from their root cause")
