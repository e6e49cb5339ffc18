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

*Their association with the project* (`with_associations`): the `author_association` GitHub
last gave that login on the repository's issues and comments (OWNER, MEMBER, COLLABORATOR,
CONTRIBUTOR, NONE, ...). It is `unknown` for a commit author's name (not a login), a login that
never wrote there, and a repository whose associations are a source's placeholder.

*Whether it is known at all* (`fix_data_known`): a repository without a single fixing commit was
crawled without events (`mlissues crawl --events`) and imported without fix data: its issues are
closed or open, and whether they were fixed is unknown, not "no".
"""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd
from sqlalchemy import Integer, cast, literal, null, select, union_all
from sqlalchemy.engine import Engine

from db import schema

EVENTS = "events"
UNKNOWN = "unknown"
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


def time_to_fix(issues: pd.DataFrame) -> pd.DataFrame:
    """Per issue (with `created_at`, `closed`, `duration_days` from queries.add_durations and
    `fixed`, `fixed_at` from `fix_status`): fix_days and fix_observed, for survival.

    A fix is observed when the issue is fixed within its observation: closed (its close is its
    fix time), or open with a fixing commit before the end. Every other issue is censored where
    its time to close stops: an open one at the end of observation, one closed without a fix at
    its close (a cause-specific hazard: after that close no fix is observed).
    """
    end_of_open = issues["created_at"] + pd.to_timedelta(issues["duration_days"], unit="D")
    commit_days = (issues["fixed_at"] - issues["created_at"]).dt.total_seconds() / 86_400
    open_fix = issues["fixed"] & ~issues["closed"] & (issues["fixed_at"] <= end_of_open)
    observed = (issues["fixed"] & issues["closed"]) | open_fix
    # A commit may predate its issue (fixed before it was reported): a time of zero.
    days = issues["duration_days"].where(~open_fix, commit_days.clip(lower=0))
    return pd.DataFrame({"fix_days": days, "fix_observed": observed}, index=issues.index)


def fix_data_known(issues: pd.DataFrame, fixes: pd.DataFrame) -> pd.Series:
    """Per issue: whether its repository has any fixing commit (else fixed is unknown)."""
    with_fixes = issues.loc[issues["issue_id"].isin(fixes["issue_id"]), "repository"]
    return issues["repository"].isin(set(with_fixes))


def read_associations(engine: Engine) -> pd.DataFrame:
    """(repository, login, association): the latest author_association GitHub gave each login
    that closed an issue with a commit, on the repository's issues and comments."""
    i, c, e, r = schema.issues, schema.comments, schema.issue_events, schema.repositories
    fixers = select(e.c.actor_login).where(
        e.c.event == "closed", e.c.commit_id.is_not(None), e.c.actor_login.is_not(None)
    )
    written = [
        select(
            r.c.full_name.label("repository"),
            table.c.user_login.label("login"),
            table.c.author_association.label("association"),
            table.c.created_at,
        )
        .join(r, r.c.id == table.c.repository_id)
        .where(table.c.user_login.in_(fixers), table.c.author_association.is_not(None))
        for table in (i, c)
    ]
    with engine.connect() as connection:
        frame = pd.read_sql(union_all(*written), connection)
    frame = frame.sort_values(["repository", "login", "created_at"], kind="stable")
    latest = frame.drop_duplicates(["repository", "login"], keep="last")
    return latest[["repository", "login", "association"]].reset_index(drop=True)


def with_associations(
    fixer_rows: pd.DataFrame,
    issues: pd.DataFrame,
    associations: pd.DataFrame,
    placeholders: Collection[str] = (),
) -> pd.DataFrame:
    """`fixers` rows with the repository of their issue and the fixer's `association`;
    UNKNOWN for commit author names, logins never seen writing there, and repositories in
    `placeholders` (whose author_association is a source's filler, not GitHub's)."""
    repository = fixer_rows["issue_id"].map(issues.set_index("issue_id")["repository"])
    out = fixer_rows.assign(repository=repository)
    known = associations[~associations["repository"].isin(list(placeholders))]
    key = known.set_index(["repository", "login"])["association"]
    logins = pd.MultiIndex.from_arrays([out["repository"], out["fixer"]])
    found = pd.Series(key.reindex(logins).to_numpy(), index=out.index)
    association = found.where(out["source"] == EVENTS)
    return out.assign(association=association.fillna(UNKNOWN))
