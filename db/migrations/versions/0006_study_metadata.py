"""study metadata: what the study file says about the study (title, creators, license, ...)

The datasheet of the exported dataset and the censoring of open issues (collection_end) read it.

Revision ID: 0006_study_metadata
Revises: 0005_study_fixes
Create Date: 2026-11-30 09:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_study_metadata"
down_revision = "0005_study_fixes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "study_metadata",
        sa.Column(
            "key",
            sa.String(length=40),
            nullable=False,
            comment="title, creators, version, license, collection_end, ... (miner.config)",
        ),
        sa.Column("value", sa.JSON(), nullable=False, comment="as the study file gives it"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_study_metadata")),
    )


def downgrade() -> None:
    op.drop_table("study_metadata")
