"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 17:58:31.692351
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column("trained_at", sa.DateTime(), nullable=False),
        sa.Column("taxonomy_version", sa.String(length=20), nullable=True),
        sa.Column("artifact_path", sa.Text(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("card", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_models")),
    )
    op.create_table(
        "repositories",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "github_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column(
            "api_url",
            sa.Text(),
            nullable=False,
            comment="API base URL the repository was crawled from",
        ),
        sa.Column(
            "group_name",
            sa.String(length=100),
            nullable=True,
            comment="study group, e.g. 'ml' or 'traditional'",
        ),
        sa.Column("raw_json", sa.Text(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repositories")),
        sa.UniqueConstraint("full_name", name=op.f("uq_repositories_full_name")),
        sa.UniqueConstraint("github_id", name=op.f("uq_repositories_github_id")),
    )
    op.create_table(
        "users",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("login", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=30), nullable=True),
        sa.Column("site_admin", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_login"), ["login"], unique=False)

    op.create_table(
        "comments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("repository_id", sa.Integer(), nullable=False),
        sa.Column("issue_number", sa.Integer(), nullable=False),
        sa.Column(
            "user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("user_login", sa.String(length=100), nullable=True),
        sa.Column("author_association", sa.String(length=30), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("raw_json", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("tool_version", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_comments_repository_id_repositories"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_comments_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_comments_repository_id_issue_number"),
            ["repository_id", "issue_number"],
            unique=False,
        )

    op.create_table(
        "crawl_state",
        sa.Column("repository_id", sa.Integer(), nullable=False),
        sa.Column(
            "endpoint",
            sa.String(length=20),
            nullable=False,
            comment="issues, comments or events",
        ),
        sa.Column(
            "since",
            sa.String(length=40),
            nullable=True,
            comment="updated_at cursor: everything up to it is stored",
        ),
        sa.Column(
            "next_url",
            sa.Text(),
            nullable=True,
            comment="Link rel=next of an unfinished window, for resuming",
        ),
        sa.Column(
            "etag",
            sa.String(length=200),
            nullable=True,
            comment="ETag of the first page of the last finished window",
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_crawl_state_repository_id_repositories"),
        ),
        sa.PrimaryKeyConstraint("repository_id", "endpoint", name=op.f("pk_crawl_state")),
    )
    op.create_table(
        "issue_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("repository_id", sa.Integer(), nullable=False),
        sa.Column("issue_number", sa.Integer(), nullable=False),
        sa.Column(
            "event",
            sa.String(length=40),
            nullable=False,
            comment="closed, reopened, labeled, unlabeled, ...",
        ),
        sa.Column(
            "actor_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("actor_login", sa.String(length=100), nullable=True),
        sa.Column("label_name", sa.String(length=200), nullable=True),
        sa.Column("commit_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("raw_json", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("tool_version", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_issue_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_issue_events_repository_id_repositories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue_events")),
    )
    with op.batch_alter_table("issue_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issue_events_event"), ["event"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_issue_events_repository_id_issue_number"),
            ["repository_id", "issue_number"],
            unique=False,
        )

    op.create_table(
        "issues",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("repository_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("state_reason", sa.String(length=30), nullable=True),
        sa.Column("is_pull_request", sa.Boolean(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=True),
        sa.Column(
            "user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "user_login",
            sa.String(length=100),
            nullable=True,
            comment="author login as shown on the issue",
        ),
        sa.Column("author_association", sa.String(length=30), nullable=True),
        sa.Column(
            "closed_by_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "comments_count",
            sa.Integer(),
            nullable=False,
            comment="GitHub's count, may exceed stored comments",
        ),
        sa.Column("reactions_total", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("raw_json", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("tool_version", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_issues_closed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_issues_repository_id_repositories"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_issues_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issues")),
        sa.UniqueConstraint("repository_id", "number", name=op.f("uq_issues_repository_id_number")),
    )
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_issues_repository_id_created_at"),
            ["repository_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_issues_repository_id_updated_at"),
            ["repository_id", "updated_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_issues_state_is_pull_request"),
            ["state", "is_pull_request"],
            unique=False,
        )

    op.create_table(
        "labels",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("repository_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("color", sa.String(length=10), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_labels_repository_id_repositories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
    )
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_labels_repository_id_name"),
            ["repository_id", "name"],
            unique=False,
        )

    op.create_table(
        "annotations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "issue_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("annotator", sa.String(length=100), nullable=False),
        sa.Column(
            "category",
            sa.String(length=20),
            nullable=True,
            comment="taxonomy code; NULL when skipped",
        ),
        sa.Column(
            "status",
            sa.String(length=20),
            nullable=False,
            comment="labeled, unsure, skipped",
        ),
        sa.Column(
            "kind",
            sa.String(length=20),
            nullable=False,
            comment="label or adjudication",
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("taxonomy_version", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issues.id"],
            name=op.f("fk_annotations_issue_id_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotations")),
        sa.UniqueConstraint(
            "issue_id",
            "annotator",
            "kind",
            name=op.f("uq_annotations_issue_id_annotator_kind"),
        ),
    )
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_annotations_annotator"), ["annotator"], unique=False)

    op.create_table(
        "issue_labels",
        sa.Column(
            "issue_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "label_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issues.id"],
            name=op.f("fk_issue_labels_issue_id_issues"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["label_id"], ["labels.id"], name=op.f("fk_issue_labels_label_id_labels")
        ),
        sa.PrimaryKeyConstraint("issue_id", "label_id", name=op.f("pk_issue_labels")),
    )
    with op.batch_alter_table("issue_labels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issue_labels_label_id"), ["label_id"], unique=False)

    op.create_table(
        "predictions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "issue_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("model_version", sa.String(length=80), nullable=False),
        sa.Column(
            "category",
            sa.String(length=20),
            nullable=False,
            comment="argmax category, even when abstaining",
        ),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column(
            "abstained",
            sa.Boolean(),
            nullable=False,
            comment="probability below the model's threshold",
        ),
        sa.Column(
            "probabilities",
            sa.JSON(),
            nullable=True,
            comment="probability of every category",
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issues.id"],
            name=op.f("fk_predictions_issue_id_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_predictions")),
        sa.UniqueConstraint(
            "issue_id",
            "model_version",
            name=op.f("uq_predictions_issue_id_model_version"),
        ),
    )
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_predictions_model_version_category"),
            ["model_version", "category"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_predictions_model_version_category"))

    op.drop_table("predictions")
    with op.batch_alter_table("issue_labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issue_labels_label_id"))

    op.drop_table("issue_labels")
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_annotations_annotator"))

    op.drop_table("annotations")
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_labels_repository_id_name"))

    op.drop_table("labels")
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issues_state_is_pull_request"))
        batch_op.drop_index(batch_op.f("ix_issues_repository_id_updated_at"))
        batch_op.drop_index(batch_op.f("ix_issues_repository_id_created_at"))

    op.drop_table("issues")
    with op.batch_alter_table("issue_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issue_events_repository_id_issue_number"))
        batch_op.drop_index(batch_op.f("ix_issue_events_event"))

    op.drop_table("issue_events")
    op.drop_table("crawl_state")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comments_repository_id_issue_number"))

    op.drop_table("comments")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_login"))

    op.drop_table("users")
    op.drop_table("repositories")
    op.drop_table("models")
