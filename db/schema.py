"""The study database: every table, declared once with SQLAlchemy Core.

GitHub objects are keyed on GitHub's own ids so that re-crawls upsert instead of duplicating.
Each GitHub-sourced row keeps the untouched API JSON (`raw_json`) with provenance beside it
(`fetched_at`, `source_url`, `tool_version`); derived columns sit next to it, never in its place.
Comments and events point at their issue by (repository_id, issue_number), not by issue id, so
they can be stored before or without the issue itself (GitHub pages them independently).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Stable constraint names make migrations deterministic on SQLite and PostgreSQL alike.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite stores 64-bit integers in INTEGER; BigInteger keeps PostgreSQL from overflowing on
# GitHub ids, while Integer on SQLite keeps rowid aliasing (a fast primary key).
GitHubId = BigInteger().with_variant(Integer(), "sqlite")
# Naive UTC everywhere: SQLite has no time zones and PostgreSQL must give back the same values.
Timestamp = DateTime()


def _provenance() -> list[Column]:
    return [
        Column("raw_json", Text, nullable=False),
        Column("fetched_at", Timestamp, nullable=False),
        Column("source_url", Text),
        Column("tool_version", String(32)),
    ]


repositories = Table(
    "repositories",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("github_id", GitHubId, unique=True),
    Column("full_name", String(200), nullable=False, unique=True),
    Column("api_url", Text, nullable=False, comment="API base URL the repository was crawled from"),
    Column("group_name", String(100), comment="study group, e.g. 'ml' or 'traditional'"),
    Column("raw_json", Text),
    Column("fetched_at", Timestamp),
)

users = Table(
    "users",
    metadata,
    Column("id", GitHubId, primary_key=True, autoincrement=False),
    Column("login", String(100), nullable=False, index=True),
    Column("type", String(30)),
    Column("site_admin", Boolean),
)

issues = Table(
    "issues",
    metadata,
    Column("id", GitHubId, primary_key=True, autoincrement=False),
    Column("repository_id", ForeignKey("repositories.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text),
    Column("state", String(10), nullable=False),
    Column("state_reason", String(30)),
    Column("is_pull_request", Boolean, nullable=False),
    Column("locked", Boolean),
    Column("user_id", GitHubId, ForeignKey("users.id")),
    Column("user_login", String(100), comment="author login as shown on the issue"),
    Column("author_association", String(30)),
    Column("closed_by_id", GitHubId, ForeignKey("users.id")),
    Column(
        "comments_count",
        Integer,
        nullable=False,
        comment="GitHub's count, may exceed stored comments",
    ),
    Column("reactions_total", Integer),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("closed_at", Timestamp),
    *_provenance(),
    UniqueConstraint("repository_id", "number"),
    Index(None, "repository_id", "created_at"),
    Index(None, "repository_id", "updated_at"),
    Index(None, "state", "is_pull_request"),
)

comments = Table(
    "comments",
    metadata,
    Column("id", GitHubId, primary_key=True, autoincrement=False),
    Column("repository_id", ForeignKey("repositories.id"), nullable=False),
    Column("issue_number", Integer, nullable=False),
    Column("user_id", GitHubId, ForeignKey("users.id")),
    Column("user_login", String(100)),
    Column("author_association", String(30)),
    Column("body", Text),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    *_provenance(),
    Index(None, "repository_id", "issue_number"),
)

labels = Table(
    "labels",
    metadata,
    Column("id", GitHubId, primary_key=True, autoincrement=False),
    Column("repository_id", ForeignKey("repositories.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("color", String(10)),
    Column("description", Text),
    Index(None, "repository_id", "name"),
)

issue_labels = Table(
    "issue_labels",
    metadata,
    Column("issue_id", ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
    Column("label_id", ForeignKey("labels.id"), primary_key=True),
    Index(None, "label_id"),
)

issue_events = Table(
    "issue_events",
    metadata,
    Column("id", GitHubId, primary_key=True, autoincrement=False),
    Column("repository_id", ForeignKey("repositories.id"), nullable=False),
    Column("issue_number", Integer, nullable=False),
    Column(
        "event", String(40), nullable=False, comment="closed, reopened, labeled, unlabeled, ..."
    ),
    Column("actor_id", GitHubId, ForeignKey("users.id")),
    Column("actor_login", String(100)),
    Column("label_name", String(200)),
    Column("commit_id", String(64)),
    Column("created_at", Timestamp, nullable=False),
    *_provenance(),
    Index(None, "repository_id", "issue_number"),
    Index(None, "event"),
)

crawl_state = Table(
    "crawl_state",
    metadata,
    Column("repository_id", ForeignKey("repositories.id"), primary_key=True),
    Column("endpoint", String(20), primary_key=True, comment="issues, comments or events"),
    Column("since", String(40), comment="updated_at cursor: everything up to it is stored"),
    Column(
        "next_url",
        Text,
        comment="events: the rest of an unfinished window; issues/comments, once done: the "
        "request that ended the run, asked again with etag",
    ),
    Column("etag", String(200), comment="ETag of the page that ended the last finished run"),
    Column("status", String(20), nullable=False, default="running"),
    Column("started_at", Timestamp),
    Column("finished_at", Timestamp),
    Column("items", Integer, nullable=False, default=0),
    Column("requests", Integer, nullable=False, default=0),
)

annotations = Table(
    "annotations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("issue_id", ForeignKey("issues.id", ondelete="CASCADE"), nullable=False),
    Column("annotator", String(100), nullable=False),
    Column("category", String(20), comment="taxonomy code; NULL when skipped"),
    Column(
        "status", String(20), nullable=False, default="labeled", comment="labeled, unsure, skipped"
    ),
    Column("kind", String(20), nullable=False, default="label", comment="label or adjudication"),
    Column("note", Text),
    Column("taxonomy_version", String(20)),
    Column("created_at", Timestamp, nullable=False),
    UniqueConstraint("issue_id", "annotator", "kind"),
    Index(None, "annotator"),
)

models = Table(
    "models",
    metadata,
    Column("version", String(80), primary_key=True),
    Column("trained_at", Timestamp, nullable=False),
    Column("taxonomy_version", String(20)),
    Column("artifact_path", Text),
    Column("metrics", JSON),
    Column("card", JSON),
)

predictions = Table(
    "predictions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("issue_id", ForeignKey("issues.id", ondelete="CASCADE"), nullable=False),
    Column("model_version", String(80), nullable=False),
    Column(
        "category",
        String(20),
        nullable=False,
        comment="the model's decision (prior-corrected), even when abstaining",
    ),
    Column("probability", Float, nullable=False),
    Column("abstained", Boolean, nullable=False, comment="probability below the model's threshold"),
    Column("probabilities", JSON, comment="probability of every category"),
    Column("created_at", Timestamp, nullable=False),
    UniqueConstraint("issue_id", "model_version"),
    Index(None, "model_version", "category"),
)

repository_aliases = Table(
    "repository_aliases",
    metadata,
    Column("alias", String(200), primary_key=True, comment="an old owner/name that redirects"),
    Column("repository_id", ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
)

issue_participants = Table(
    "issue_participants",
    metadata,
    Column("issue_id", ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
    Column("login", String(100), primary_key=True),
    Column("source", String(80), primary_key=True, comment="data set the row comes from"),
    Column("comments", Integer, nullable=False, comment="comments this login posted"),
    Index(None, "login"),
)

# --- published studies ----------------------------------------------------------------------
# A study's design travels with its issues: which subset of the study each issue belongs to
# (e.g. Makkouk et al.'s performance vs non-performance bugs), every fixing commit it found and
# every root cause it gave. An issue can be in several studies, and a crawled issue in a study
# keeps its GitHub row: these tables only point at it.

study_issues = Table(
    "study_issues",
    metadata,
    Column("issue_id", ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
    Column("study", String(80), primary_key=True, comment="data set, e.g. makkouk-icsme2022"),
    Column("subset", String(40), nullable=False, comment="the study's group, e.g. perf, non_perf"),
    Column("raw_json", Text, comment="the study's untouched rows for this issue, with their files"),
    Index(None, "study", "subset"),
)

fixes = Table(
    "fixes",
    metadata,
    Column("issue_id", ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
    Column("hash", String(64), primary_key=True, comment="commit SHA"),
    Column("committed_at", Timestamp, comment="commit date"),
    Column("author", String(200), comment="commit author name (not a GitHub login)"),
    Column("additions", Integer),
    Column("deletions", Integer),
    Column("changes", Integer, comment="lines changed: additions + deletions"),
    Column("approach", String(40), comment="how the commit was found, e.g. LINK, REGEX"),
    Column("source", String(80), nullable=False, comment="data set the row comes from"),
    Index(None, "author"),
)

root_causes = Table(
    "root_causes",
    metadata,
    Column("issue_id", ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
    Column("study", String(80), primary_key=True),
    Column("root_cause", String(300), primary_key=True, comment="the study's own category"),
    Column("category", String(20), comment="our taxonomy code when it maps plainly, else NULL"),
    Column("bugs", Integer, nullable=False, comment="the study's rows giving this cause"),
)


study_metadata = Table(
    "study_metadata",
    metadata,
    Column(
        "key",
        String(40),
        primary_key=True,
        comment="title, creators, version, license, collection_end, ... (miner.config)",
    ),
    Column("value", JSON, nullable=False, comment="as the study file gives it"),
)


crawl_jobs = Table(
    "crawl_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("full_name", String(200), nullable=False, comment="owner/name as the study names it"),
    Column("group_name", String(100)),
    Column("status", String(20), nullable=False, comment="queued, running, done or failed"),
    Column("worker", String(200), comment="who holds (or last held) the job"),
    Column("lease_until", Timestamp, comment="a running job whose lease passed is claimable"),
    Column("heartbeat_at", Timestamp),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("enqueued_at", Timestamp, nullable=False),
    Column("started_at", Timestamp),
    Column("finished_at", Timestamp),
    UniqueConstraint("full_name"),
    Index(None, "status", "lease_until"),
)
