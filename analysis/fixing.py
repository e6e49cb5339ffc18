"""Fixed is not closed: when an issue counts as fixed, when, and by whom.

The one rule every analysis uses. An issue is *fixed* when a fixing commit is known:

- a `fixes` row: a study's list of the commits that fixed the issue (Makkouk et al. found them
  through links on the issue and a regular expression over commit messages); or
- for a crawled repository, a `closed` issue event that carries a commit id: GitHub's record
  of "closed this in <commit>".

An issue closed as a duplicate, as stale, or by its author without a commit is closed, not
fixed; an open issue with a fixing commit is fixed.

Event commits are read as fixes here, at analysis time, and not copied into `fixes`: the events
table is the record GitHub gave us, a copy would go stale when a re-crawl adds or changes an
event, and the analysis never writes to the database. A commit known both ways counts once, with
the study's details (date, author, lines changed).

*When* (`fixed_at`): the issue's last close, if it is closed. That is what Makkouk et al. time
("time before issue last closed"), and commit dates are a poor clock for the issue: a linked
commit may predate the issue or follow its close. An open issue with a fix is fixed at its
latest commit.

*By whom* (`fixers`): the fixing commits' authors. For study rows these are commit author
names, for events the GitHub login of the event's actor (who closed the issue with a commit):
the two are not the same namespace, so `source` says which is which.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Integer, cast, literal, null, select, union_all
from sqlalchemy.engine import Engine

from db import schema

EVENTS = "events"
FIX_COLUMNS = [
    "issue_id",
    "hash",
    "committed_at",
    "author",
    "additions",
    "deletions",
    "changes",
    "approach",
    "source",
]


def read_fixes(engine: Engine) -> pd.DataFrame:
    """Every fixing commit: the `fixes` rows, then closing events' commits (source 'events')."""
    f, i, e = schema.fixes, schema.issues, schema.issue_events
    stored = select(*(f.c[name] for name in FIX_COLUMNS), literal(0).label("rank"))
    from_events = (
        select(
            i.c.id.label("issue_id"),
            e.c.commit_id.label("hash"),
            e.c.created_at.label("committed_at"),
            e.c.actor_login.label("author"),
            cast(null(), Integer).label("additions"),
            cast(null(), Integer).label("deletions"),
            cast(null(), Integer).label("changes"),
            literal("closed-event").label("approach"),
            literal(EVENTS).label("source"),
            literal(1).label("rank"),
        )
        .join(e, (e.c.repository_id == i.c.repository_id) & (e.c.issue_number == i.c.number))
        .where(e.c.event == "closed", e.c.commit_id.is_not(None))
    )
    with engine.connect() as connection:
        frame = pd.read_sql(union_all(stored, from_events), connection)
    frame = frame.sort_values(["issue_id", "hash", "rank"], kind="stable")
    frame = frame.drop_duplicates(["issue_id", "hash"]).drop(columns="rank")
    frame["committed_at"] = pd.to_datetime(frame["committed_at"])
    for column in ("additions", "deletions", "changes"):
        frame[column] = pd.to_numeric(frame[column]).astype("Float64")
    return frame.reset_index(drop=True)


def fix_status(issues: pd.DataFrame, fixes: pd.DataFrame) -> pd.DataFrame:
    """Per issue (`issue_id`, `state`, `closed_at`): fixed, fixed_at, fix_commits, fix_lines.

    fix_lines is the lines changed by all fixing commits, NaN when a commit's count is unknown
    (an event's commit) or the issue is not fixed.
    """
    by_issue = fixes.groupby("issue_id")
    commits = by_issue.size()
    unknown = fixes["changes"].isna().groupby(fixes["issue_id"]).any()
    lines = by_issue["changes"].sum().astype(float).mask(unknown)
    latest = by_issue["committed_at"].max()
    ids = issues["issue_id"]
    fixed = ids.isin(commits.index)
    closed = issues["state"].eq("closed") & issues["closed_at"].notna()
    fixed_at = issues["closed_at"].where(closed, ids.map(latest)).where(fixed)
    return pd.DataFrame(
        {
            "issue_id": ids,
            "fixed": fixed,
            "fixed_at": pd.to_datetime(fixed_at),
            "fix_commits": ids.map(commits).fillna(0).astype(int),
            "fix_lines": ids.map(lines),
        },
        index=issues.index,
    )


def fixers(fixes: pd.DataFrame) -> pd.DataFrame:
    """Who fixed what: one row per (issue, fixer, source) with the number of fixing commits."""
    known = fixes[fixes["author"].notna()]
    table = known.groupby(["issue_id", "author", "source"]).size().rename("commits")
    return table.reset_index().rename(columns={"author": "fixer"})
