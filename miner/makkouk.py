"""Load the replication data of Makkouk et al. (ICSME 2022) into the study database.

The study published, for 34,177 TensorFlow and PyTorch bug reports, the author, open and last
close dates, comment counts, commenters with their comment counts and label names, split into
performance and non-performance bugs; the commits it found fixing them; and a root-cause
taxonomy of 143 performance bugs. It has no texts and no GitHub ids, so:

- ids are synthetic, stable and negative (`synthetic_id`): the sign marks them as not GitHub's,
  and a hash of the source and natural key keeps re-imports idempotent;
- an issue already stored (e.g. from ../shared/corpus or a crawl) keeps its row and id; only its
  participants and the study's rows below are added;
- titles are empty and bodies NULL; "Not found" close dates mean the issue is open;
- `raw_json` holds the untouched CSV row plus the file and subset (perf / non_perf);
- the subset (the study's central variable) is a `study_issues` row; the untouched rows of both
  files stay in its `raw_json`;
- each fixing commit is a `fixes` row: the study calls a bug *fixed* when a commit was found,
  which is not the same as closed (see analysis/fixing.py);
- commenters become `issue_participants` rows (login, number of comments), not invented comments;
- every root cause is a `root_causes` row, with our taxonomy code where it maps plainly
  (`ROOT_CAUSE_CODES`); an issue whose causes all map to one code also gets that code as an
  annotation by annotator `makkouk-icsme2022`.

Every file is read and checked before anything is written, and everything is written in one
transaction: a malformed file is one error naming its file and line, and imports nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, Engine
from tqdm import tqdm

from db import schema, upsert
from db.cli import db_option, open_for_cli, progress_enabled, user_errors
from miner.store import ensure_repository, save_study_metadata, save_users, utcnow

SOURCE = "makkouk-icsme2022"
# What the datasheet says of an imported study unless a study file said it first. Creators,
# version and license are left unstated: the replication data names none for our export.
STUDY_METADATA = {
    "title": "Performance and other bugs of TensorFlow and PyTorch (Makkouk et al., ICSME 2022)",
    "description": (
        'Bug-report metadata, without texts, from the public replication data of "An Empirical '
        'Study on Performance Bugs in Deep Learning Frameworks" (Makkouk, Kim and Chen, ICSME '
        "2022; repository dlframeworkperfbugs/performance-bugs-in-dl-frameworks), imported with "
        "mlissues import-study makkouk."
    ),
}
# How the study writes a missing value: no close date (open), no comment, no label.
MISSING = frozenset({"Not found", "No comments", "No labels", ""})
COMMENTER_PAIR = re.compile(r"'([^'\\]+)': (\d+)")
COMMENTERS_LITERAL = re.compile(
    rf"\{{(?:{COMMENTER_PAIR.pattern}(?:, {COMMENTER_PAIR.pattern})*)?\}}"
)
STUDY_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d{1,2}):(\d\d)")
TAXONOMY_FILE = "perf_bugs_taxonomy.csv"
FILES = {
    "tensorflow_perf_bugs_information.csv": ("tensorflow/tensorflow", "perf"),
    "tensorflow_non_perf_bugs_information.csv": ("tensorflow/tensorflow", "non_perf"),
    "pytorch_perf_bugs_information.csv": ("pytorch/pytorch", "perf"),
    "pytorch_non_perf_bugs_information.csv": ("pytorch/pytorch", "non_perf"),
}
# Each bugs file has a fixes file of the same framework and subset.
FIX_FILES = {name.replace("_bugs_", "_fixes_"): name for name in FILES}
FRAMEWORKS = {"tensorflow": "tensorflow/tensorflow", "pytorch": "pytorch/pytorch"}
COMMITS_COLUMN = (
    "Commits..commit.hashcode..date.of.commit..commit.s.author..number.of.additions.made.by."
    "the.commit..number.of.deletions.made.by.the.commit..number.of.total.changes.made.by.the."
    "commit..approach.used.to.find.the.commit."
)
COMMENTERS = "Commentators..username.alongside.the.number.of.comments.posted."
COLUMNS = (
    "Issue.ID",
    "Author",
    "Date.Opened",
    "Date.of.last.time.closed",
    "Date.of.first.comment",
    "Number.of.Comment.s.",
    "Issue.labels",
    COMMENTERS,
)
FIX_COLUMNS = ("Issue.ID", "Number.of.issue.solving.commits.found", COMMITS_COLUMN)
TAXONOMY_COLUMNS = ("Framework", "Category", "Issue.ID")
# The study's approach names: found through a link on the issue, or by a regular expression.
APPROACHES = "LINK|REGEX"
PUBLISHED = datetime(2022, 10, 3)  # ICSME 2022, when the root causes were published

# One commit of the fixes files: (hash, date, author, additions, deletions, changes, approach).
# The author is matched lazily up to the three counts and the approach, so a name holding a
# comma or a parenthesis still parses, but never across the start of the next commit (a broken
# tuple must not vanish into an author's name); each tuple is followed by ", (" or the end.
_NEXT_COMMIT = r"\), \([0-9a-f]{7,40}, "
COMMIT = re.compile(
    r"\((?P<hash>[0-9a-f]{7,40}), (?P<date>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}), "
    rf"(?P<author>(?:(?!{_NEXT_COMMIT}).)*?), (?P<additions>\d+), (?P<deletions>\d+), "
    rf"(?P<changes>\d+), (?P<approach>{APPROACHES})\)(?=, \(|\s*$)"
)

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
    """The study folder is not the Makkouk et al. data this loader knows."""


@dataclass(frozen=True)
class Commit:
    """One fixing commit as the study lists it; `committed_at` is naive UTC."""

    hash: str
    committed_at: datetime
    author: str
    additions: int
    deletions: int
    changes: int
    approach: str


@dataclass(frozen=True)
class StudyIssue:
    """One bug row, parsed and checked; `row` is the untouched CSV record."""

    full_name: str
    subset: str
    file: str
    row: dict[str, str]
    created: datetime
    closed: datetime | None
    first_comment: datetime | None
    comments: int
    commenters: dict[str, int]
    labels: list[str]
    commits: tuple[Commit, ...] = ()
    fixes_row: dict[str, str] | None = None

    @property
    def number(self) -> int:
        return int(self.row["Issue.ID"])


@dataclass(frozen=True)
class RootCause:
    full_name: str
    number: int
    cause: str


@dataclass
class ImportSummary:
    """What one import stored: bugs, fixed bugs and commits per (repository, subset)."""

    bugs: Counter = field(default_factory=Counter)
    fixed: Counter = field(default_factory=Counter)
    commits: Counter = field(default_factory=Counter)
    root_causes: int = 0
    root_cause_issues: int = 0
    unknown_root_cause_rows: int = 0
    labeled: int = 0

    @property
    def read(self) -> int:
        return sum(self.bugs.values())

    def lines(self) -> list[str]:
        rows = [
            f"{name} {subset}: {count} bugs, {self.fixed[name, subset]} fixed "
            f"({self.commits[name, subset]} commits)"
            for (name, subset), count in self.bugs.items()
        ]
        skipped = (
            f"; {self.unknown_root_cause_rows} root-cause rows name no imported issue"
            if self.unknown_root_cause_rows
            else ""
        )
        return [
            *rows,
            f"{self.read} study issues read; {self.root_causes} root causes on "
            f"{self.root_cause_issues} issues{skipped}; "
            f"{self.labeled} given a category from their root cause",
        ]


def synthetic_id(*parts: object) -> int:
    """A stable negative 48-bit id from the source name and a natural key."""
    digest = hashlib.sha256(":".join(map(str, (SOURCE, *parts))).encode()).hexdigest()
    return -int(digest[:12], 16)


def parse_date(value: str) -> datetime | None:
    """'2018-07-30 14:42' (UTC, minutes) or a missing marker as a naive UTC datetime or None."""
    value = value.strip()
    if value in MISSING:
        return None
    # A regular expression, not strptime: 100,000 dates, and strptime is 10 times slower.
    match = STUDY_DATE.fullmatch(value)
    if match is None:
        raise StudyDataError(f"{value[:40]!r} is not a date like 2018-07-30 14:42")
    return datetime(*map(int, match.groups()))  # which checks the ranges


def parse_commenters(value: str) -> dict[str, int]:
    """ "{'login': 2, ...}" (a Python dict literal in the CSV) as a dict.

    Read with a regular expression rather than ast.literal_eval, which compiles each of the
    34,177 values (a third of the import's parsing time): GitHub logins hold no quotes or
    backslashes, so every real value has this plain shape, and anything else is refused.
    """
    value = value.strip()
    if value in MISSING:
        return {}
    if not COMMENTERS_LITERAL.fullmatch(value):
        raise StudyDataError(f"commenters {value[:60]!r} are not a dict literal of logins")
    return {login: int(count) for login, count in COMMENTER_PAIR.findall(value)}


def parse_labels(value: str) -> list[str]:
    if value.strip() in MISSING:
        return []
    return [name.strip() for name in value.split(",") if name.strip()]


def parse_commits(value: str) -> list[Commit]:
    """The fixes files' "(hash, date, author, additions, deletions, changes, approach), ..."."""
    commits, position, value = [], 0, value.strip()
    while position < len(value):
        match = COMMIT.match(value, position)
        if match is None:
            raise StudyDataError(
                f"cannot read a commit at {value[position : position + 60]!r}: expected "
                "(hash, date, author, additions, deletions, changes, LINK or REGEX)"
            )
        date = datetime.strptime(match["date"], "%Y-%m-%d %H:%M:%S %z")
        commits.append(
            Commit(
                hash=match["hash"],
                committed_at=date.astimezone(UTC).replace(tzinfo=None),
                author=match["author"],
                additions=int(match["additions"]),
                deletions=int(match["deletions"]),
                changes=int(match["changes"]),
                approach=match["approach"],
            )
        )
        position = match.end()
        if value.startswith(", ", position):
            position += 2
    return commits


def merge_commits(commits: list[Commit]) -> tuple[Commit, ...]:
    """One commit per hash: the study lists a commit twice when both approaches found it."""
    merged: dict[str, Commit] = {}
    for commit in commits:
        seen = merged.get(commit.hash)
        if seen is None:
            merged[commit.hash] = commit
        elif commit.approach not in seen.approach.split("+"):
            merged[commit.hash] = replace(seen, approach=f"{seen.approach}+{commit.approach}")
    return tuple(merged.values())


# --- reading and checking -------------------------------------------------------------------


def check_folder(folder: Path) -> None:
    missing = [name for name in (*FILES, *FIX_FILES) if not (folder / name).exists()]
    if missing:
        raise StudyDataError(
            f"{folder} lacks {', '.join(missing)}; point at ../shared/studies/makkouk-icsme2022"
        )


def _records(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV file whose header has `columns`."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        try:
            missing = [c for c in columns if c not in (reader.fieldnames or ())]
            if missing:
                raise StudyDataError(
                    f"{path.name} line 1: lacks the column(s) {', '.join(missing)}"
                )
            for row in reader:
                if None in row or None in row.values():
                    raise StudyDataError(
                        f"{path.name} line {reader.line_num}: wrong number of fields"
                    )
                yield reader.line_num, row
        except csv.Error as error:
            raise StudyDataError(f"{path.name} line {reader.line_num}: {error}") from None
        except UnicodeDecodeError as error:
            # Text is decoded a block ahead of the CSV reader: find the line by reading again.
            line = _undecodable_line(path)
            raise StudyDataError(f"{path.name} line {line}: not UTF-8 ({error.reason})") from None


def _undecodable_line(path: Path) -> int:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 0


def _checked(path: Path, line: int, parse, *args):
    """parse(*args), with any failure reported as one error naming the file and line."""
    try:
        return parse(*args)
    except ValueError as error:
        raise StudyDataError(f"{path.name} line {line}: {error}") from None


def _read_fixes(folder: Path) -> dict[tuple[str, int], tuple[Path, int, dict, tuple[Commit, ...]]]:
    """(bugs file, issue number) -> (fixes file, line, row, commits)."""
    fixes = {}
    for name, bugs_file in FIX_FILES.items():
        path = folder / name
        for line, row in _records(path, FIX_COLUMNS):
            number = _checked(path, line, int, row["Issue.ID"])
            commits = _checked(path, line, parse_commits, row[COMMITS_COLUMN])
            expected = _checked(path, line, int, row["Number.of.issue.solving.commits.found"])
            if len(commits) != expected:
                raise StudyDataError(
                    f"{name} line {line}: {len(commits)} commits listed, "
                    f"{expected} announced in Number.of.issue.solving.commits.found"
                )
            if (bugs_file, number) in fixes:
                raise StudyDataError(f"{name} line {line}: issue {number} is listed twice")
            fixes[bugs_file, number] = (path, line, row, merge_commits(commits))
    return fixes


def _parse_issue(full_name: str, subset: str, file: str, row: dict[str, str]) -> StudyIssue:
    created = parse_date(row["Date.Opened"])
    if created is None:
        raise StudyDataError("no Date.Opened")
    int(row["Issue.ID"])  # a non-number is reported here, with its line
    return StudyIssue(
        full_name,
        subset,
        file,
        row,
        created=created,
        closed=parse_date(row["Date.of.last.time.closed"]),
        first_comment=parse_date(row["Date.of.first.comment"]),
        comments=int(row["Number.of.Comment.s."]),
        commenters=parse_commenters(row[COMMENTERS]),
        labels=parse_labels(row["Issue.labels"]),
    )


def read_study_issues(folder: str | Path) -> list[StudyIssue]:
    """Every bug of the four bugs files with its fixing commits, parsed and checked."""
    folder = Path(folder)
    check_folder(folder)
    fixes = _read_fixes(folder)
    issues: list[StudyIssue] = []
    # One subset per bug: a bug in two files (or twice in one) would have no clear subset.
    seen: dict[tuple[str, int], str] = {}
    for name, (full_name, subset) in FILES.items():
        path = folder / name
        for line, row in _records(path, COLUMNS):
            item = _checked(path, line, _parse_issue, full_name, subset, name, row)
            key = (full_name, item.number)
            if key in seen:
                raise StudyDataError(f"{name} line {line}: issue {item.number} is also {seen[key]}")
            seen[key] = f"in {name} line {line}"
            fix = fixes.pop((name, item.number), None)
            if fix is not None:
                _, _, fixes_row, commits = fix
                item = replace(item, commits=commits, fixes_row=fixes_row)
            issues.append(item)
    for (bugs, number), (path, line, _, _) in fixes.items():
        raise StudyDataError(f"{path.name} line {line}: issue {number} is not in {bugs}")
    return issues


def read_root_causes(folder: str | Path) -> list[RootCause]:
    """Every row of the 143-issue taxonomy file (an issue may have several rows)."""
    path = Path(folder) / TAXONOMY_FILE
    if not path.exists():
        return []
    causes = []
    for line, row in _records(path, TAXONOMY_COLUMNS):
        framework = FRAMEWORKS.get(row["Framework"].strip().lower())
        # A few ids carry a note, e.g. "19385  (2 bugs)": the number is what comes first.
        number = re.match(r"\s*(\d+)", row["Issue.ID"])
        if framework is None or number is None or not row["Category"].strip():
            raise StudyDataError(
                f"{TAXONOMY_FILE} line {line}: expected a framework ({', '.join(FRAMEWORKS)}), "
                f"a category and an issue number, got {row['Framework']!r}, "
                f"{row['Category']!r}, {row['Issue.ID']!r}"
            )
        causes.append(RootCause(framework, int(number.group(1)), row["Category"].strip()))
    return causes


def plain_category(causes: list[str]) -> str | None:
    """Our category for an issue with these root causes, when they all map to one code.

    Two causes that map to different codes (23580: an allocation and a leak) cannot both be
    the issue's single category, and picking one would hide the other; a cause without a code
    of ours means part of the issue is something we cannot name. Either way, no category: the
    causes themselves stay in `root_causes`.
    """
    codes = {ROOT_CAUSE_CODES.get(cause) for cause in causes}
    return codes.pop() if len(codes) == 1 else None


# --- rows -----------------------------------------------------------------------------------


def _issue_row(item: StudyIssue, repository_id: int, fetched_at: datetime, url: str) -> dict:
    return {
        "id": synthetic_id(item.full_name, "issue", item.number),
        "repository_id": repository_id,
        "number": item.number,
        "title": "",
        "body": None,
        "state": "closed" if item.closed else "open",
        "state_reason": None,
        "is_pull_request": False,
        "locked": None,
        "user_id": synthetic_id("user", item.row["Author"]),
        "user_login": item.row["Author"],
        "author_association": None,
        "closed_by_id": None,
        "comments_count": item.comments,
        "reactions_total": None,
        "created_at": item.created,
        # The study has no update time: the latest date it gives is the best lower bound.
        "updated_at": max(d for d in (item.created, item.closed, item.first_comment) if d),
        "closed_at": item.closed,
        "raw_json": json.dumps(
            {"file": item.file, "subset": item.subset, "row": item.row}, ensure_ascii=False
        ),
        "fetched_at": fetched_at,
        "source_url": url,
        "tool_version": SOURCE,
    }


def _label_rows(item: StudyIssue, repository_id: int, issue_id: int) -> tuple[list, list]:
    labels, links = [], []
    for name in item.labels:
        label_id = synthetic_id(item.full_name, "label", name)
        labels.append({"id": label_id, "repository_id": repository_id, "name": name})
        links.append({"issue_id": issue_id, "label_id": label_id})
    return labels, links


def _participant_rows(item: StudyIssue, issue_id: int) -> list[dict]:
    return [
        {"issue_id": issue_id, "login": login, "source": SOURCE, "comments": count}
        for login, count in sorted(item.commenters.items())
    ]


def _study_issue_row(item: StudyIssue, issue_id: int) -> dict:
    raw = {"file": item.file, "row": item.row}
    if item.fixes_row is not None:
        raw["fixes"] = {"file": item.file.replace("_bugs_", "_fixes_"), "row": item.fixes_row}
    return {
        "issue_id": issue_id,
        "study": SOURCE,
        "subset": item.subset,
        "raw_json": json.dumps(raw, ensure_ascii=False),
    }


def _fix_rows(item: StudyIssue, issue_id: int) -> list[dict]:
    return [{"issue_id": issue_id, **vars(commit), "source": SOURCE} for commit in item.commits]


def _existing_ids(connection: Connection, repository_id: int) -> dict[int, int]:
    rows = connection.execute(
        select(schema.issues.c.number, schema.issues.c.id).where(
            schema.issues.c.repository_id == repository_id
        )
    )
    return dict(rows.all())


def save_page(
    connection: Connection, page: list[StudyIssue], folder: Path
) -> dict[tuple[str, int], int]:
    """Upsert one page of study rows; returns the issue id of each (repository, number).

    New issues come with users and labels; every issue gets its participants, study subset and
    fixing commits.
    """
    repository_ids: dict[str, int] = {}
    existing: dict[str, dict[int, int]] = {}
    ids: dict[tuple[str, int], int] = {}
    issues, labels, links, participants, subsets, fixes = [], [], [], [], [], []
    fetched_at = utcnow()
    urls = {name: (folder / name).resolve().as_uri() for name in FILES}
    for item in page:
        if item.full_name not in repository_ids:
            url = f"https://api.github.com/repos/{item.full_name}"
            repository_ids[item.full_name] = ensure_repository(connection, item.full_name, url)
            existing[item.full_name] = _existing_ids(connection, repository_ids[item.full_name])
        repository_id = repository_ids[item.full_name]
        issue_id = existing[item.full_name].get(item.number)
        if issue_id is None:
            row = _issue_row(item, repository_id, fetched_at, urls[item.file])
            issue_id = row["id"]
            issues.append(row)
            item_labels, item_links = _label_rows(item, repository_id, issue_id)
            labels += item_labels
            links += item_links
        ids[item.full_name, item.number] = issue_id
        participants += _participant_rows(item, issue_id)
        subsets.append(_study_issue_row(item, issue_id))
        fixes += _fix_rows(item, issue_id)
    save_users(connection, [{"id": r["user_id"], "login": r["user_login"]} for r in issues])
    upsert(connection, schema.issues, issues, key=["id"])
    upsert(connection, schema.labels, labels, key=["id"])
    upsert(connection, schema.issue_labels, links, key=["issue_id", "label_id"], update=())
    upsert(connection, schema.issue_participants, participants, key=["issue_id", "login", "source"])
    upsert(connection, schema.study_issues, subsets, key=["issue_id", "study"])
    upsert(connection, schema.fixes, fixes, key=["issue_id", "hash"])
    return ids


# --- root causes ----------------------------------------------------------------------------


def save_root_causes(
    connection: Connection, causes: list[RootCause], ids: dict[tuple[str, int], int]
) -> ImportSummary:
    """Every (issue, cause) as a root_causes row; plainly mapped issues as annotations."""
    per_issue: dict[int, Counter] = {}
    summary = ImportSummary()
    for cause in causes:
        issue_id = ids.get((cause.full_name, cause.number))
        if issue_id is None:
            summary.unknown_root_cause_rows += 1
            continue
        per_issue.setdefault(issue_id, Counter())[cause.cause] += 1
    rows, annotations = [], []
    for issue_id, counts in per_issue.items():
        rows += [
            {
                "issue_id": issue_id,
                "study": SOURCE,
                "root_cause": cause,
                "category": ROOT_CAUSE_CODES.get(cause),
                "bugs": bugs,
            }
            for cause, bugs in counts.items()
        ]
        code = plain_category(list(counts))
        if code is not None:
            annotations.append(_annotation(issue_id, code, list(counts)))
    upsert(connection, schema.root_causes, rows, key=["issue_id", "study", "root_cause"])
    # Upserted, not deleted and inserted: annotation ids are generated, and a re-import must
    # leave them as they are. An annotation whose issue no longer maps plainly goes.
    a = schema.annotations
    connection.execute(
        delete(a).where(
            a.c.annotator == SOURCE,
            a.c.kind == "label",
            a.c.issue_id.not_in([row["issue_id"] for row in annotations]),
        )
    )
    upsert(connection, a, annotations, ["issue_id", "annotator", "kind"])
    summary.root_causes, summary.root_cause_issues = len(rows), len(per_issue)
    summary.labeled = len(annotations)
    return summary


def _annotation(issue_id: int, code: str, causes: list[str]) -> dict:
    return {
        "issue_id": issue_id,
        "annotator": SOURCE,
        "kind": "label",
        "category": code,
        "status": "labeled",
        "note": f"mapped from the study's root cause: {'; '.join(causes)}",
        "created_at": PUBLISHED,
    }


def _forget_previous_import(connection: Connection) -> None:
    """Remove this study's subsets, commits and causes, so a re-import mirrors the files (a
    commit or cause dropped from them disappears here too). Issues, labels and participants
    stay: upserts keep them current, and a crawl may share them."""
    connection.execute(delete(schema.fixes).where(schema.fixes.c.source == SOURCE))
    connection.execute(delete(schema.root_causes).where(schema.root_causes.c.study == SOURCE))
    connection.execute(delete(schema.study_issues).where(schema.study_issues.c.study == SOURCE))


def _describe_study(connection: Connection) -> None:
    """Title and description of the study, where no study file has given them."""
    stated = set(connection.execute(select(schema.study_metadata.c.key)).scalars())
    missing = {key: value for key, value in STUDY_METADATA.items() if key not in stated}
    save_study_metadata(connection, missing)


def import_study(
    engine: Engine, folder: str | Path, page_size: int = 2000, root_causes: bool = True
) -> ImportSummary:
    """Check every file of the study folder, then store it all in one transaction."""
    folder = Path(folder)
    issues = read_study_issues(folder)
    causes = read_root_causes(folder) if root_causes else []
    ids: dict[tuple[str, int], int] = {}
    starts = range(0, len(issues), page_size)
    with engine.begin() as connection:
        _forget_previous_import(connection)
        for start in tqdm(starts, desc=SOURCE, unit=" pages", disable=not progress_enabled()):
            ids |= save_page(connection, issues[start : start + page_size], folder)
        summary = save_root_causes(connection, causes, ids)
        _describe_study(connection)
    for item in issues:
        key = (item.full_name, item.subset)
        summary.bugs[key] += 1
        summary.fixed[key] += bool(item.commits)
        summary.commits[key] += len(item.commits)
    return summary


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
    help="Also store the study's performance root causes (and the categories they map to).",
)
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_makkouk(db_url: str, root_causes: bool, folder: Path) -> None:
    """Makkouk et al. (ICSME 2022): 34,177 TensorFlow/PyTorch bug reports from FOLDER."""
    engine = open_for_cli(db_url, create=True)
    with user_errors(StudyDataError):
        summary = import_study(engine, folder, root_causes=root_causes)
    for line in summary.lines():
        click.echo(line)
