"""A synthetic study database of any size, made by replicating a real one, for scale benchmarks.

`replicate(base, target, issues)` copies the SQLite study database `base` to `target` and adds
copies of its repositories under new names (`owner/name-copy2`, ...) until `target` holds
`issues` rows in its issues table (pull requests count, as on GitHub; the corpus has none):
each copy with the base's issues, comments, GitHub labels, events, crawl state, participants,
and users (logins suffixed `-copy2`, so people do not repeat across copies), and the base's
predictions of every model. The last copy takes the base's first
issues by id, with their comments and the rest, to reach the count exactly.

What is *not* copied, and why:
- Annotations: people label a sample, not a million issues, so the human labels stay the
  base's own; every copied issue takes its category from the model, as in a real study.
- Predictions are copied, not computed: classifying a million issues would take longer than
  the benchmark itself, and the copy's text is the original's, so its prediction would be too.
- Study tables (study_issues, fixes, root_causes) and repository aliases: they describe
  particular published repositories, not copies of them.

A copy of a repository joins its original's group (`group_name`, else the original's name),
so the study keeps the base's groups however many copies there are. Copies keep their
originals' times, so every time to close occurs once per copy: tied durations that a real
study of a million issues would not have (see the README on what that means for Cox fits).

Rows are copied with INSERT ... SELECT inside SQLite, in one transaction per copy, without
journal or fsync: a scratch database rebuilt from its base when anything goes wrong.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

# Tables with an id of their own that copies shift by the copy's offset.
ID_TABLES = ("issues", "comments", "users", "labels", "issue_events")
# Columns that name a login: suffixed per copy, so each copy has people of its own.
SUFFIX = "'-copy' || :copy"


def _largest_id(connection: sqlite3.Connection) -> int:
    """The largest id of the base in absolute value (ids can be negative): the base's rows
    are those with ids in [-largest, largest], a range its index finds without a scan."""
    return max(
        connection.execute(f"SELECT coalesce(max(abs(id)), 0) FROM {table}").fetchone()[0]
        for table in ID_TABLES
    )


def _copy_repositories(connection: sqlite3.Connection, values: dict) -> None:
    """New repositories for the copy, mapped from the base's in the temp table repo_map."""
    connection.execute(
        """INSERT INTO repositories (github_id, full_name, api_url, group_name, raw_json,
                                     fetched_at)
           SELECT github_id + :offset, full_name || '-copy' || :copy, api_url,
                  coalesce(group_name, full_name), raw_json, fetched_at
           FROM repositories WHERE id IN (SELECT old FROM base_repos)""",
        values,
    )
    connection.execute("DELETE FROM repo_map")
    connection.execute(
        """INSERT INTO repo_map (old, new)
           SELECT b.old, r.id FROM base_repos b
           JOIN repositories o ON o.id = b.old
           JOIN repositories r ON r.full_name = o.full_name || '-copy' || :copy""",
        values,
    )


def _copy_issue_rows(connection: sqlite3.Connection, values: dict) -> None:
    """The first `limit` base issues (by id), under the copy's repositories and ids."""
    connection.execute("DELETE FROM chosen")
    connection.execute(
        "INSERT INTO chosen (id) SELECT id FROM base_issues ORDER BY id LIMIT :limit",
        values,
    )
    connection.execute(
        f"""INSERT INTO issues (id, repository_id, number, title, body, state, state_reason,
                is_pull_request, locked, user_id, user_login, author_association, closed_by_id,
                comments_count, reactions_total, created_at, updated_at, closed_at, raw_json,
                fetched_at, source_url, tool_version)
            SELECT i.id + :offset, m.new, i.number, i.title, i.body, i.state, i.state_reason,
                i.is_pull_request, i.locked, i.user_id + :offset, i.user_login || {SUFFIX},
                i.author_association, i.closed_by_id + :offset, i.comments_count,
                i.reactions_total, i.created_at, i.updated_at, i.closed_at, i.raw_json,
                i.fetched_at, i.source_url, i.tool_version
            FROM issues i JOIN chosen c ON c.id = i.id JOIN repo_map m ON m.old = i.repository_id
        """,
        values,
    )


# Rows hanging off an issue by (repository_id, issue_number), copied only for chosen issues.
THREAD_ROWS = {
    "comments": (
        "id, repository_id, issue_number, user_id, user_login, author_association, body, "
        "created_at, updated_at, raw_json, fetched_at, source_url, tool_version",
        f"t.id + :offset, m.new, t.issue_number, t.user_id + :offset, t.user_login || {SUFFIX}, "
        "t.author_association, t.body, t.created_at, t.updated_at, t.raw_json, t.fetched_at, "
        "t.source_url, t.tool_version",
    ),
    "issue_events": (
        "id, repository_id, issue_number, event, actor_id, actor_login, label_name, commit_id, "
        "created_at, raw_json, fetched_at, source_url, tool_version",
        f"t.id + :offset, m.new, t.issue_number, t.event, t.actor_id + :offset, "
        f"t.actor_login || {SUFFIX}, t.label_name, t.commit_id, t.created_at, t.raw_json, "
        "t.fetched_at, t.source_url, t.tool_version",
    ),
}
# Rows keyed by issue id, copied for chosen issues.
ISSUE_ROWS = {
    "issue_labels": ("issue_id, label_id", "t.issue_id + :offset, t.label_id + :offset"),
    "issue_participants": (
        "issue_id, login, source, comments",
        f"t.issue_id + :offset, t.login || {SUFFIX}, t.source, t.comments",
    ),
    "predictions": (
        "issue_id, model_version, category, probability, abstained, probabilities, created_at",
        "t.issue_id + :offset, t.model_version, t.category, t.probability, t.abstained, "
        "t.probabilities, t.created_at",
    ),
}


# Predictions have ids of their own (autoincrement): the base's are those up to its largest.
BASE_ROWS = {"predictions": "WHERE t.id <= :base_predictions"}


def _copy_related_rows(connection: sqlite3.Connection, values: dict) -> None:
    """Comments, events, labels of issues, participants and predictions of the chosen issues;
    every statement reads only the base's rows (copies are never read again)."""
    for table, (columns, select) in THREAD_ROWS.items():
        connection.execute(
            f"""INSERT INTO {table} ({columns}) SELECT {select}
                FROM {table} t JOIN repo_map m ON m.old = t.repository_id
                JOIN issues i ON i.repository_id = t.repository_id AND i.number = t.issue_number
                JOIN chosen c ON c.id = i.id
                WHERE t.id BETWEEN -:largest AND :largest""",
            values,
        )
    for table, (columns, select) in ISSUE_ROWS.items():
        connection.execute(
            f"INSERT INTO {table} ({columns}) SELECT {select} "
            f"FROM chosen c JOIN {table} t ON t.issue_id = c.id {BASE_ROWS.get(table, '')}",
            values,
        )


def _copy_people_and_labels(connection: sqlite3.Connection, values: dict) -> None:
    """Users and GitHub labels of the copy (every one of the base's: cheap, and a user or a
    label no chosen issue refers to harms nothing), and the copy's crawl state."""
    connection.execute(
        f"""INSERT INTO users (id, login, type, site_admin)
            SELECT id + :offset, login || {SUFFIX}, type, site_admin FROM users
            WHERE id IN (SELECT id FROM base_users)""",
        values,
    )
    connection.execute(
        """INSERT INTO labels (id, repository_id, name, color, description)
           SELECT l.id + :offset, m.new, l.name, l.color, l.description
           FROM labels l JOIN repo_map m ON m.old = l.repository_id
           WHERE l.id BETWEEN -:largest AND :largest""",
        values,
    )
    connection.execute(
        """INSERT INTO crawl_state (repository_id, endpoint, since, next_url, etag, status,
                started_at, finished_at, items, requests)
           SELECT m.new, endpoint, since, next_url, etag, status, started_at, finished_at, items,
                requests
           FROM crawl_state s JOIN repo_map m ON m.old = s.repository_id""",
        values,
    )


def _prepare(connection: sqlite3.Connection) -> None:
    """Speed over safety (a scratch file), and temp tables naming the base's rows."""
    connection.execute("PRAGMA journal_mode = OFF")
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("PRAGMA cache_size = -500000")  # 500 MB of page cache
    connection.execute("CREATE TEMP TABLE base_repos AS SELECT id AS old FROM repositories")
    connection.execute("CREATE TEMP TABLE base_issues (id INTEGER PRIMARY KEY)")
    connection.execute("INSERT INTO base_issues SELECT id FROM issues")
    connection.execute("CREATE TEMP TABLE base_users (id INTEGER PRIMARY KEY)")
    connection.execute("INSERT INTO base_users SELECT id FROM users")
    connection.execute("CREATE TEMP TABLE repo_map (old INTEGER PRIMARY KEY, new INTEGER)")
    connection.execute("CREATE TEMP TABLE chosen (id INTEGER PRIMARY KEY)")


def replicate(
    base: Path,
    target: Path,
    issues: int,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write `target`: the study database `base` with copies of its repositories added until
    it holds `issues` issues (fewer than the base's: the base as it is). Returns the copies
    made; `progress(issues_so_far, issues)` is called after each."""
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(base, partial)
    connection = sqlite3.connect(partial, isolation_level=None)
    try:
        _prepare(connection)
        largest = _largest_id(connection)
        base_predictions = connection.execute("SELECT max(id) FROM predictions").fetchone()[0]
        per_copy = connection.execute("SELECT count(*) FROM base_issues").fetchone()[0]
        have, copy = per_copy, 0
        while have < issues:
            copy += 1
            values = {
                "copy": copy,
                # Copy k's ids lie around k times a stride above twice the largest id, so no
                # two copies share an id (and never the base's negative ones).
                "offset": copy * 10 ** len(str(2 * largest + 1)),
                "limit": min(per_copy, issues - have),
                "largest": largest,
                "base_predictions": base_predictions or 0,
            }
            connection.execute("BEGIN")
            _copy_repositories(connection, values)
            _copy_people_and_labels(connection, values)
            _copy_issue_rows(connection, values)
            _copy_related_rows(connection, values)
            connection.execute("COMMIT")
            have += values["limit"]
            if progress is not None:
                progress(have, issues)
    finally:
        connection.close()
    partial.replace(target)
    log.info("%s: %d copies of %s", target, copy, base)
    return copy
