"""study design: each issue's study subset, its fixing commits and every root cause

Published studies group their issues (Makkouk et al., ICSME 2022: performance vs
non-performance bugs), list the commits that fixed them (fixed is not the same as closed) and
may give an issue more than one root cause. Before this revision the subset lived only in
raw_json, the commits were dropped and a second root cause overwrote the first.

Revision ID: 0005_study_fixes
Revises: 0004
Create Date: 2026-11-24 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_study_fixes"
down_revision = "0004"
branch_labels = None
depends_on = None

ISSUE_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _issue_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["issue_id"], ["issues.id"], name=op.f(f"fk_{table}_issue_id_issues"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "study_issues",
        sa.Column("issue_id", ISSUE_ID, nullable=False),
        sa.Column(
            "study",
            sa.String(length=80),
            nullable=False,
            comment="data set, e.g. makkouk-icsme2022",
        ),
        sa.Column(
            "subset",
            sa.String(length=40),
            nullable=False,
            comment="the study's group, e.g. perf, non_perf",
        ),
        sa.Column(
            "raw_json",
            sa.Text(),
            nullable=True,
            comment="the study's untouched rows for this issue, with their files",
        ),
        _issue_fk("study_issues"),
        sa.PrimaryKeyConstraint("issue_id", "study", name=op.f("pk_study_issues")),
    )
    op.create_index(
        op.f("ix_study_issues_study_subset"), "study_issues", ["study", "subset"], unique=False
    )
    op.create_table(
        "fixes",
        sa.Column("issue_id", ISSUE_ID, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False, comment="commit SHA"),
        sa.Column("committed_at", sa.DateTime(), nullable=True, comment="commit date"),
        sa.Column(
            "author",
            sa.String(length=200),
            nullable=True,
            comment="commit author name (not a GitHub login)",
        ),
        sa.Column("additions", sa.Integer(), nullable=True),
        sa.Column("deletions", sa.Integer(), nullable=True),
        sa.Column(
            "changes", sa.Integer(), nullable=True, comment="lines changed: additions + deletions"
        ),
        sa.Column(
            "approach",
            sa.String(length=40),
            nullable=True,
            comment="how the commit was found, e.g. LINK, REGEX",
        ),
        sa.Column(
            "source", sa.String(length=80), nullable=False, comment="data set the row comes from"
        ),
        _issue_fk("fixes"),
        sa.PrimaryKeyConstraint("issue_id", "hash", name=op.f("pk_fixes")),
    )
    op.create_index(op.f("ix_fixes_author"), "fixes", ["author"], unique=False)
    op.create_table(
        "root_causes",
        sa.Column("issue_id", ISSUE_ID, nullable=False),
        sa.Column("study", sa.String(length=80), nullable=False),
        sa.Column(
            "root_cause",
            sa.String(length=300),
            nullable=False,
            comment="the study's own category",
        ),
        sa.Column(
            "category",
            sa.String(length=20),
            nullable=True,
            comment="our taxonomy code when it maps plainly, else NULL",
        ),
        sa.Column(
            "bugs", sa.Integer(), nullable=False, comment="the study's rows giving this cause"
        ),
        _issue_fk("root_causes"),
        sa.PrimaryKeyConstraint("issue_id", "study", "root_cause", name=op.f("pk_root_causes")),
    )


def downgrade() -> None:
    op.drop_table("root_causes")
    op.drop_index(op.f("ix_fixes_author"), table_name="fixes")
    op.drop_table("fixes")
    op.drop_index(op.f("ix_study_issues_study_subset"), table_name="study_issues")
    op.drop_table("study_issues")
