"""predictions.category is the model's prior-corrected decision, not always the argmax

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 19:25:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _set_comment(comment: str, existing: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # SQLite keeps no column comments
    op.alter_column(
        "predictions",
        "category",
        existing_type=sa.String(length=20),
        existing_nullable=False,
        comment=comment,
        existing_comment=existing,
    )


def upgrade() -> None:
    _set_comment(
        "the model's decision (prior-corrected), even when abstaining",
        "argmax category, even when abstaining",
    )


def downgrade() -> None:
    _set_comment(
        "argmax category, even when abstaining",
        "the model's decision (prior-corrected), even when abstaining",
    )
