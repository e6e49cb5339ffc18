"""crawl jobs: repositories queued for team workers, with leases and heartbeats

Revision ID: 0007_crawl_jobs
Revises: 0006_study_metadata
Create Date: 2026-11-30 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_crawl_jobs"
down_revision = "0006_study_metadata"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crawl_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "full_name",
            sa.String(length=200),
            nullable=False,
            comment="owner/name as the study names it",
        ),
        sa.Column("group_name", sa.String(length=100), nullable=True),
        sa.Column(
            "status",
            sa.String(length=20),
            nullable=False,
            comment="queued, running, done or failed",
        ),
        sa.Column(
            "worker",
            sa.String(length=200),
            nullable=True,
            comment="who holds (or last held) the job",
        ),
        sa.Column(
            "lease_until",
            sa.DateTime(),
            nullable=True,
            comment="a running job whose lease passed is claimable",
        ),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_jobs")),
        sa.UniqueConstraint("full_name", name=op.f("uq_crawl_jobs_full_name")),
    )
    op.create_index(
        op.f("ix_crawl_jobs_status_lease_until"), "crawl_jobs", ["status", "lease_until"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_crawl_jobs_status_lease_until"), table_name="crawl_jobs")
    op.drop_table("crawl_jobs")
