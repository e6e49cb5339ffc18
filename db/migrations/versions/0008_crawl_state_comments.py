"""crawl_state.next_url and etag comments: what a finished keyset listing stores since the last
page of a listing ends it without a confirming request

Revision ID: 0008_crawl_state_comments
Revises: 0007_crawl_jobs
Create Date: 2026-11-30 14:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_crawl_state_comments"
down_revision = "0007_crawl_jobs"
branch_labels = None
depends_on = None

OLD = {
    "next_url": (sa.Text(), "Link rel=next of an unfinished window, for resuming"),
    "etag": (sa.String(length=200), "ETag of the first page of the last finished window"),
}
NEW = {
    "next_url": "events: the rest of an unfinished window; issues/comments, once done: the "
    "request that ended the run, asked again with etag",
    "etag": "ETag of the page that ended the last finished run",
}


def _set_comments(comments: dict[str, str], existing: dict[str, str]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # SQLite keeps no column comments
    for column, (kind, _) in OLD.items():
        op.alter_column(
            "crawl_state",
            column,
            existing_type=kind,
            comment=comments[column],
            existing_comment=existing[column],
        )


def upgrade() -> None:
    _set_comments(NEW, {column: comment for column, (_, comment) in OLD.items()})


def downgrade() -> None:
    _set_comments({column: comment for column, (_, comment) in OLD.items()}, NEW)
