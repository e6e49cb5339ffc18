"""repository aliases: old names of renamed repositories (GitHub answers 301 for them)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "repository_aliases",
        sa.Column(
            "alias",
            sa.String(length=200),
            nullable=False,
            comment="an old owner/name that redirects",
        ),
        sa.Column("repository_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_repository_aliases_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alias", name=op.f("pk_repository_aliases")),
    )


def downgrade() -> None:
    op.drop_table("repository_aliases")
