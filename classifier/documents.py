"""Read issues from the database as documents for the classifier: one row per issue.

The same frame feeds training, classification and the labeling tools, so that a model sees an
issue exactly as it was shown to the annotators (title, body, repository labels, first comments).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.engine import Engine

from db.repositories import repository_ids_by_name
from db.schema import comments, issue_labels, issues, labels, predictions, repositories

DOCUMENT_COLUMNS = [
    "issue_id",
    "repository",
    "number",
    "created_at",
    "title",
    "body",
    "labels",
    "comments",
]
# Labels and comments are joined with separators that do not occur in GitHub label names.
LABEL_SEPARATOR = "\x1f"
COMMENT_SEPARATOR = "\n\n"
DEFAULT_COMMENTS = 3
# SQLite allows 32,766 bound parameters; a chunk of ids is bound three times.
_ID_CHUNK = 5000


def _labels_per_issue(ids: Sequence[int] | None):
    query = select(
        issue_labels.c.issue_id,
        func.aggregate_strings(labels.c.name, LABEL_SEPARATOR).label("labels"),
    ).join(labels, labels.c.id == issue_labels.c.label_id)
    if ids is not None:
        query = query.where(issue_labels.c.issue_id.in_(ids))
    return query.group_by(issue_labels.c.issue_id).subquery("issue_label_names")


def _first_comments(count: int, ids: Sequence[int] | None):
    """The first `count` comments of every issue (of `ids`), joined in one string per issue.

    The id filter sits inside the subquery: the database would otherwise rank and join the
    comments of every issue for each batch of a few.
    """
    ranked = select(
        comments.c.repository_id,
        comments.c.issue_number,
        comments.c.body,
        func.row_number()
        .over(
            partition_by=(comments.c.repository_id, comments.c.issue_number),
            order_by=(comments.c.created_at, comments.c.id),
        )
        .label("position"),
    )
    if ids is not None:
        ranked = ranked.join(
            issues,
            and_(
                issues.c.repository_id == comments.c.repository_id,
                issues.c.number == comments.c.issue_number,
            ),
        ).where(issues.c.id.in_(ids))
    ranked = ranked.subquery("ranked_comments")
    return (
        select(
            ranked.c.repository_id,
            ranked.c.issue_number,
            func.aggregate_strings(func.coalesce(ranked.c.body, ""), COMMENT_SEPARATOR).label(
                "comments"
            ),
        )
        .where(ranked.c.position <= count)
        .group_by(ranked.c.repository_id, ranked.c.issue_number)
        .subquery("first_comments")
    )


def documents_query(
    comment_count: int = DEFAULT_COMMENTS,
    pull_requests: bool = False,
    ids: Sequence[int] | None = None,
):
    """One SELECT giving every issue (of `ids`) with its repository, labels and first comments."""
    label_names = _labels_per_issue(ids)
    columns = [
        issues.c.id.label("issue_id"),
        repositories.c.full_name.label("repository"),
        issues.c.number,
        issues.c.created_at,
        issues.c.title,
        issues.c.body,
        label_names.c.labels,
    ]
    query = (
        select(*columns)
        .join(repositories, repositories.c.id == issues.c.repository_id)
        .outerjoin(label_names, label_names.c.issue_id == issues.c.id)
    )
    if comment_count > 0:
        first = _first_comments(comment_count, ids)
        query = query.add_columns(first.c.comments).outerjoin(
            first,
            and_(
                first.c.repository_id == issues.c.repository_id,
                first.c.issue_number == issues.c.number,
            ),
        )
    if not pull_requests:
        query = query.where(issues.c.is_pull_request.is_(False))
    if ids is not None:
        query = query.where(issues.c.id.in_(ids))
    return query.order_by(issues.c.id)


def _frame(rows: Sequence) -> pd.DataFrame:
    frame = pd.DataFrame([{str(k): v for k, v in row._mapping.items()} for row in rows])
    if frame.empty:
        return empty_documents()
    if "comments" not in frame:
        frame["comments"] = ""
    frame["body"] = frame["body"].fillna("")
    frame["comments"] = frame["comments"].fillna("")
    frame["labels"] = [
        tuple(sorted(value.split(LABEL_SEPARATOR))) if value else () for value in frame["labels"]
    ]
    return frame[DOCUMENT_COLUMNS].reset_index(drop=True)


def empty_documents() -> pd.DataFrame:
    """A documents frame with no rows and the usual columns."""
    return pd.DataFrame({column: pd.Series(dtype=object) for column in DOCUMENT_COLUMNS})


def _chunks(values: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def issue_documents(
    engine: Engine,
    issue_ids: Iterable[int] | None = None,
    *,
    comment_count: int = DEFAULT_COMMENTS,
    pull_requests: bool = False,
) -> pd.DataFrame:
    """Issues as a DataFrame: issue_id, repository, number, title, body, labels, comments.

    `labels` holds a sorted tuple of repository label names; `comments` the first
    `comment_count` comment bodies joined by blank lines ("" when there are none). Without
    `issue_ids`, every issue (pull requests only when asked). Rows are ordered by issue_id.
    """
    with engine.connect() as connection:
        if issue_ids is None:
            return _frame(connection.execute(documents_query(comment_count, pull_requests)).all())
        ids = sorted(set(int(i) for i in issue_ids))
        rows = []
        for chunk in _chunks(ids, _ID_CHUNK):
            query = documents_query(comment_count, pull_requests, list(chunk))
            rows.extend(connection.execute(query).all())
    return _frame(rows)


def unclassified_issue_ids(engine: Engine, model_version: str | None = None) -> list[int]:
    """Ids of issues (not pull requests) without a prediction of `model_version` (None: all)."""
    query = select(issues.c.id).where(issues.c.is_pull_request.is_(False)).order_by(issues.c.id)
    if model_version is not None:
        done = select(predictions.c.issue_id).where(predictions.c.model_version == model_version)
        query = query.where(issues.c.id.not_in(done))
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())


def issue_ids_by_reference(engine: Engine, references: Iterable[tuple[str, int]]) -> dict:
    """Map (repository name as given, lower-cased, issue number) to issue id, for the references
    present. A repository may be named by its canonical name or an old name (alias), as
    everywhere else (db.repositories)."""
    wanted = {(repository.lower(), int(number)) for repository, number in references}
    with engine.connect() as connection:
        repository_ids = repository_ids_by_name(connection)
        query = select(issues.c.repository_id, issues.c.number, issues.c.id)
        by_key = {(r, n): i for r, n, i in connection.execute(query)}
    found = {}
    for name, number in wanted:
        issue_id = by_key.get((repository_ids.get(name), number))
        if issue_id is not None:
            found[(name, number)] = issue_id
    return found
