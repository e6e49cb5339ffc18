"""Read issues for labeling and write annotations: one row per (issue, annotator, kind).

Every write is its own short transaction, so closing the notebook never loses a label.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import and_, delete, func, select
from sqlalchemy.engine import Connection, Engine

from db import schema, upsert

STATUSES = ("labeled", "unsure", "skipped")
KINDS = ("label", "adjudication")


class AnnotationError(ValueError):
    """An annotation that cannot be stored as asked (bad status, kind or missing category)."""


@dataclass(frozen=True)
class Annotation:
    """One annotator's answer for one issue; category is None only when skipped."""

    issue_id: int
    annotator: str
    category: str | None
    status: str = "labeled"
    kind: str = "label"
    note: str = ""

    def __post_init__(self) -> None:
        if not self.annotator.strip():
            raise AnnotationError("an annotation needs an annotator name")
        if self.status not in STATUSES:
            raise AnnotationError(f"status {self.status!r} is not one of {', '.join(STATUSES)}")
        if self.kind not in KINDS:
            raise AnnotationError(f"kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.category is None and self.status == "labeled":
            raise AnnotationError("a 'labeled' annotation needs a category")
        if self.category is not None and self.status == "skipped":
            raise AnnotationError("a 'skipped' annotation has no category")


@dataclass(frozen=True)
class Comment:
    user_login: str | None
    created_at: datetime
    body: str


@dataclass(frozen=True)
class IssueView:
    """What an annotator sees of one issue (all of it untrusted text from strangers)."""

    issue_id: int
    repository: str
    number: int
    title: str
    body: str
    state: str
    user_login: str | None
    created_at: datetime
    labels: tuple[str, ...] = ()
    comments: tuple[Comment, ...] = field(default=())

    @property
    def url(self) -> str:
        return f"https://github.com/{self.repository}/issues/{self.number}"


def utcnow() -> datetime:
    """Naive UTC, how the database stores time."""
    return datetime.now(UTC).replace(tzinfo=None)


def save_annotations(
    connection: Connection, annotations: Sequence[Annotation], taxonomy_version: str | None
) -> None:
    """Insert or replace the annotations of (issue, annotator, kind), stamped now."""
    now = utcnow()
    rows = [
        {
            "issue_id": annotation.issue_id,
            "annotator": annotation.annotator,
            "category": annotation.category,
            "status": annotation.status,
            "kind": annotation.kind,
            "note": annotation.note or None,
            "taxonomy_version": taxonomy_version,
            "created_at": now,
        }
        for annotation in annotations
    ]
    upsert(connection, schema.annotations, rows, key=["issue_id", "annotator", "kind"])


def answer_key(annotation: Annotation) -> tuple[int, str, str]:
    """What identifies an annotation: one per (issue, annotator, kind)."""
    return annotation.issue_id, annotation.annotator, annotation.kind


def stored_answers(connection: Connection) -> dict[tuple[int, str, str], Annotation]:
    """Every stored annotation by answer_key."""
    a = schema.annotations
    rows = connection.execute(
        select(a.c.issue_id, a.c.annotator, a.c.category, a.c.status, a.c.kind, a.c.note)
    )
    answers = (
        Annotation(row.issue_id, row.annotator, row.category, row.status, row.kind, row.note or "")
        for row in rows
    )
    return {answer_key(answer): answer for answer in answers}


def delete_annotation(
    connection: Connection, issue_id: int, annotator: str, kind: str = "label"
) -> None:
    a = schema.annotations
    connection.execute(
        delete(a).where(a.c.issue_id == issue_id, a.c.annotator == annotator, a.c.kind == kind)
    )


def last_annotation(connection: Connection, annotator: str, kind: str = "label") -> int | None:
    """The issue id this annotator answered most recently (for undo, also after a resume)."""
    a = schema.annotations
    return connection.execute(
        select(a.c.issue_id)
        .where(a.c.annotator == annotator, a.c.kind == kind)
        .order_by(a.c.created_at.desc(), a.c.id.desc())
        .limit(1)
    ).scalar()


def annotated_issue_ids(connection: Connection, annotator: str, kind: str = "label") -> set[int]:
    a = schema.annotations
    rows = connection.execute(
        select(a.c.issue_id).where(a.c.annotator == annotator, a.c.kind == kind)
    )
    return set(rows.scalars())


def count_annotations(connection: Connection, annotator: str, kind: str = "label") -> int:
    a = schema.annotations
    return connection.execute(
        select(func.count()).where(a.c.annotator == annotator, a.c.kind == kind)
    ).scalar_one()


def annotations_frame(
    engine: Engine, annotators: Iterable[str] | None = None, kind: str | None = None
) -> pd.DataFrame:
    """Every annotation with its issue reference (repository, number), oldest first."""
    a, i, r = schema.annotations, schema.issues, schema.repositories
    statement = (
        select(
            r.c.full_name.label("repository"),
            i.c.number,
            a.c.issue_id,
            a.c.category,
            a.c.annotator,
            a.c.kind,
            a.c.status,
            a.c.note,
            a.c.taxonomy_version,
            a.c.created_at,
        )
        .join(i, i.c.id == a.c.issue_id)
        .join(r, r.c.id == i.c.repository_id)
        .order_by(a.c.created_at, a.c.id)
    )
    if annotators is not None:
        statement = statement.where(a.c.annotator.in_(list(annotators)))
    if kind is not None:
        statement = statement.where(a.c.kind == kind)
    with engine.connect() as connection:
        return pd.DataFrame(connection.execute(statement).all(), columns=_COLUMNS)


_COLUMNS = [
    "repository",
    "number",
    "issue_id",
    "category",
    "annotator",
    "kind",
    "status",
    "note",
    "taxonomy_version",
    "created_at",
]


def issue_ids(connection: Connection, repository_id: int) -> dict[int, int]:
    """Issue number to issue id within one repository."""
    i = schema.issues
    rows = connection.execute(select(i.c.number, i.c.id).where(i.c.repository_id == repository_id))
    return dict(rows.all())


def candidate_issues(engine: Engine) -> pd.DataFrame:
    """Every issue (not pull request) that could be labeled: id, repository, number, title, body."""
    i, r = schema.issues, schema.repositories
    statement = (
        select(
            i.c.id.label("issue_id"),
            r.c.full_name.label("repository"),
            i.c.number,
            i.c.title,
            i.c.body,
        )
        .join(r, r.c.id == i.c.repository_id)
        .where(~i.c.is_pull_request)
        .order_by(i.c.id)
    )
    with engine.connect() as connection:
        frame = pd.DataFrame(
            connection.execute(statement).all(),
            columns=["issue_id", "repository", "number", "title", "body"],
        )
    frame["body"] = frame["body"].fillna("")
    return frame


def load_issue(engine: Engine, issue_id: int) -> IssueView:
    """One issue with its labels and comments (oldest first), as the annotator will read it."""
    i, r, c = schema.issues, schema.repositories, schema.comments
    labels_table, il = schema.labels, schema.issue_labels
    with engine.connect() as connection:
        row = connection.execute(
            select(i, r.c.full_name).join(r, r.c.id == i.c.repository_id).where(i.c.id == issue_id)
        ).one()
        labels = connection.execute(
            select(labels_table.c.name)
            .join(il, il.c.label_id == labels_table.c.id)
            .where(il.c.issue_id == issue_id)
            .order_by(labels_table.c.name)
        ).scalars()
        comments = connection.execute(
            select(c.c.user_login, c.c.created_at, c.c.body)
            .where(and_(c.c.repository_id == row.repository_id, c.c.issue_number == row.number))
            .order_by(c.c.created_at, c.c.id)
        ).all()
        return IssueView(
            issue_id=row.id,
            repository=row.full_name,
            number=row.number,
            title=row.title,
            body=row.body or "",
            state=row.state,
            user_login=row.user_login,
            created_at=row.created_at,
            labels=tuple(labels),
            comments=tuple(Comment(c.user_login, c.created_at, c.body or "") for c in comments),
        )
