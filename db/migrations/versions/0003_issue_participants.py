"""issue participants: who took part in an issue's thread, when only logins and counts are known

Study data sets (e.g. Makkouk et al., ICSME 2022) give each issue's commenters as logins with
comment counts but no comment texts or dates; this table keeps exactly that, instead of
inventing comment rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issue_participants",
        sa.Column("issue_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("login", sa.String(length=100), nullable=False),
        sa.Column(
            "source", sa.String(length=80), nullable=False, comment="data set the row comes from"
        ),
        sa.Column("comments", sa.Integer(), nullable=False, comment="comments this login posted"),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issues.id"],
            name=op.f("fk_issue_participants_issue_id_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("issue_id", "login", "source", name=op.f("pk_issue_participants")),
    )
    op.create_index(
        op.f("ix_issue_participants_login"), "issue_participants", ["login"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_issue_participants_login"), table_name="issue_participants")
    op.drop_table("issue_participants")
