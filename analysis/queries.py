"""Everything the figures, tables and the export read from the database, as pandas frames.

The one place where SQL meets the analysis: every other module of `analysis` works on the
frames built here. An issue's category is resolved in this order (`resolve_categories`):

1. the human category (classifier.labels.human_categories, the one rule that training and
   labeling use too): the latest adjudication, else the label all annotators agree on;
   'unsure' and 'skipped' answers do not count;
2. the decision of the study's model (`choose_model`), whatever its probability: abstention
   marks a decision for review, it never hides it;
3. otherwise no category (an issue no model has classified yet).

`category_source` says which: 'human', 'classifier' or 'none'. Per-issue views (time, debate,
people) use these categories; category *shares* are estimated from the model's probabilities
with its measured error (analysis.shares), never counted from decisions. Pull requests are
excluded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Text, cast, func, select
from sqlalchemy.engine import Engine

from analysis import fixing
from classifier.labels import human_categories
from db import schema

SOURCES = ("human", "classifier", "none")
MEMBER_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class StudyData:
    """The study's issues with their categories, and the people around them.

    issues: one row per issue (see `ISSUE_COLUMNS`); people: one row per (issue, login, role)
    with role 'author', 'closer' or 'commenter' and the number of comments; fixes: one row per
    fixing commit (analysis.fixing.read_fixes) and associations the fixers' author_association
    per repository (analysis.fixing.read_associations).
    """

    issues: pd.DataFrame
    people: pd.DataFrame
    model_version: str | None = None
    labels: pd.DataFrame = field(default_factory=pd.DataFrame)
    probabilities: pd.DataFrame = field(default_factory=pd.DataFrame)
    error_record: dict | None = None
    estimator: str = "PACC"
    metadata: dict = field(default_factory=dict)
    censoring: str = "open issues censored at the latest time stored for their repository"
    fixes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["issue_id"]))
    associations: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["repository", "login", "association"])
    )

    @property
    def categorized(self) -> pd.DataFrame:
        return self.issues[self.issues["category_source"] != "none"]

    def source_counts(self) -> dict[str, int]:
        """How many issues took their category from each source (every source, zeros too)."""
        counts = self.issues["category_source"].value_counts()
        return {source: int(counts.get(source, 0)) for source in SOURCES}

    def source_note(self) -> str:
        """The line every figure and table carries: where its categories came from, and, when
        some issues have none, that category views speak only for the ones that do."""
        counts = self.source_counts()
        if self.model_version is None:
            note = f"categories: {counts['human']} human, {counts['none']} not classified"
        else:
            note = (
                f"categories: {counts['human']} human, {counts['classifier']} decided by model "
                f"{self.model_version}, {counts['none']} not classified"
            )
        if counts["none"]:
            # A study imported without texts (Makkouk et al.) has categories only where its
            # own root causes map onto the taxonomy: a selected few, not a sample.
            covered = 1 - counts["none"] / len(self.issues)
            note += (
                f" (category views describe the {covered:.1%} of issues with a category, "
                "which need not be a sample of the rest)"
            )
        return note


# --- reading tables -------------------------------------------------------------------------


def _frame(engine: Engine, statement) -> pd.DataFrame:
    with engine.connect() as connection:
        result = connection.execute(statement)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def read_issues(engine: Engine) -> pd.DataFrame:
    """Issues (no pull requests) with repository, group (the study group, else the repository)
    and closer login; study_group is the study group alone (None outside a study file)."""
    i, r, u = schema.issues, schema.repositories, schema.users
    statement = (
        select(
            i.c.id.label("issue_id"),
            r.c.full_name.label("repository"),
            func.coalesce(r.c.group_name, r.c.full_name).label("group"),
            r.c.group_name.label("study_group"),
            i.c.number,
            i.c.title,
            i.c.state,
            i.c.user_login.label("author"),
            i.c.author_association,
            u.c.login.label("closed_by"),
            i.c.comments_count,
            i.c.created_at,
            i.c.updated_at,
            i.c.closed_at,
        )
        .join(r, r.c.id == i.c.repository_id)
        .outerjoin(u, u.c.id == i.c.closed_by_id)
        .where(i.c.is_pull_request.is_(False))
        .order_by(i.c.id)
    )
    frame = _frame(engine, statement)
    for column in ("created_at", "updated_at", "closed_at"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def read_study_metadata(engine: Engine) -> dict:
    """What the study file said about the study (miner.config.load_study_metadata)."""
    m = schema.study_metadata
    with engine.connect() as connection:
        return dict(connection.execute(select(m.c.key, m.c.value).order_by(m.c.key)).all())


def read_crawl_ends(engine: Engine) -> pd.Series:
    """Repository full name -> when its latest finished crawl (of any endpoint) finished."""
    c, r = schema.crawl_state, schema.repositories
    frame = _frame(
        engine,
        select(r.c.full_name, func.max(c.c.finished_at).label("finished_at"))
        .join(c, c.c.repository_id == r.c.id)
        .where(c.c.finished_at.is_not(None))
        .group_by(r.c.full_name),
    )
    return pd.to_datetime(frame.set_index("full_name")["finished_at"]).rename(None)


def read_annotations(engine: Engine) -> pd.DataFrame:
    a = schema.annotations
    return _frame(
        engine,
        select(
            a.c.issue_id, a.c.annotator, a.c.category, a.c.status, a.c.kind, a.c.created_at
        ).order_by(a.c.issue_id, a.c.kind, a.c.annotator),
    )


class UnknownModelError(ValueError):
    """The requested model has no predictions in the database."""


class EmptyStudyError(ValueError):
    """The database holds no issues to analyse."""


def require_issues(data: StudyData) -> None:
    if data.issues.empty:
        raise EmptyStudyError(
            "the database holds no issues; load some first "
            "(mlissues crawl OWNER/REPO, or mlissues import-study makkouk DIR)"
        )


def model_coverage(engine: Engine) -> pd.DataFrame:
    """Every model with predictions: version, issues classified, newest prediction time."""
    p = schema.predictions
    return _frame(
        engine,
        select(
            p.c.model_version,
            func.count().label("issues"),
            func.max(p.c.created_at).label("latest"),
        ).group_by(p.c.model_version),
    )


def choose_model(engine: Engine, requested: str | None = None) -> str | None:
    """The model whose decisions a study uses: `requested`, else the one that classified the
    most issues (the newest of those). None when nothing is classified. Decisions of different
    models are never mixed, and every output names the model (StudyData.source_note)."""
    coverage = model_coverage(engine)
    if requested is not None:
        if requested not in set(coverage["model_version"]):
            known = ", ".join(coverage["model_version"]) or "none"
            raise UnknownModelError(
                f"model {requested} has no predictions in this database (models: {known}); "
                "run mlissues classify --model DIR first"
            )
        return requested
    if coverage.empty:
        return None
    best = coverage.sort_values(["issues", "latest"], ascending=False).iloc[0]
    return str(best["model_version"])


def model_error_record(engine: Engine, model_version: str | None) -> dict | None:
    """The model's out-of-fold record (labels and probabilities of issues it was not trained
    on), stored with its metrics by `mlissues train`; None when unknown."""
    if model_version is None:
        return None
    m = schema.models
    with engine.connect() as connection:
        metrics = connection.execute(
            select(m.c.metrics).where(m.c.version == model_version)
        ).scalar()
    return (metrics or {}).get("out_of_fold")


def read_predictions(
    engine: Engine, model_version: str | None = None, probabilities: bool = True
) -> pd.DataFrame:
    """Predictions (of one model when given), with the probabilities of every class unless
    `probabilities` is False (read_probabilities reads them for many issues at less cost)."""
    p = schema.predictions
    columns = [p.c.issue_id, p.c.model_version, p.c.category, p.c.probability, p.c.abstained]
    columns += [p.c.probabilities] if probabilities else []
    statement = select(*columns, p.c.created_at).order_by(
        p.c.issue_id, p.c.created_at, p.c.model_version
    )
    if model_version is not None:
        statement = statement.where(p.c.model_version == model_version)
    return _frame(engine, statement)


# Probabilities are parsed this many predictions at a time: a million issues' JSON as Python
# dicts would take gigabytes, their floats a hundred megabytes.
PROBABILITY_CHUNK = 50_000


def _parsed(texts: list[str | None]) -> list[dict]:
    """JSON objects of class probabilities; a missing one is an empty object (no class)."""
    return json.loads("[" + ",".join(text or "{}" for text in texts) + "]")


def _probability_rows(rows: list[dict], ids: list) -> pd.DataFrame:
    """Rows of class probabilities as a frame (pandas' columns: each class where it first
    appears). Rows with the same classes in the same order, as a model writes them, go
    straight into an array: building a frame from dicts takes seconds per hundred thousand."""
    classes = tuple(rows[0]) if rows else ()
    if all(tuple(row) == classes for row in rows):
        values = np.array([list(row.values()) for row in rows], dtype=float)
        return pd.DataFrame(values.reshape(len(rows), len(classes)), index=ids, columns=classes)
    return pd.DataFrame(rows, index=ids)


def read_probabilities(engine: Engine, model_version: str) -> pd.DataFrame:
    """Issue id x class: the model's probabilities for its newest prediction of each issue
    (columns in the model's class order), as `probability_frame` gives them."""
    p = schema.predictions
    statement = (
        select(p.c.issue_id, cast(p.c.probabilities, Text))
        .where(p.c.model_version == model_version)
        .order_by(p.c.issue_id, p.c.created_at)
    )
    chunks = []
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True).execute(statement)
        for rows in result.partitions(PROBABILITY_CHUNK):
            ids, texts = zip(*rows, strict=True)
            chunks.append(_probability_rows(_parsed(list(texts)), list(ids)))
    if not chunks:
        return pd.DataFrame()
    frame = pd.concat(chunks).rename_axis("issue_id")
    return frame[~frame.index.duplicated(keep="last")].fillna(0.0)


def read_labels(engine: Engine) -> pd.DataFrame:
    """GitHub label names per issue."""
    il, lab = schema.issue_labels, schema.labels
    return _frame(
        engine,
        select(il.c.issue_id, lab.c.name.label("label"))
        .join(lab, lab.c.id == il.c.label_id)
        .order_by(il.c.issue_id, lab.c.name),
    )


def _read_commenters(engine: Engine) -> pd.DataFrame:
    """(issue_id, login, comments) from stored comments and from study participant lists."""
    i, c, p = schema.issues, schema.comments, schema.issue_participants
    stored = _frame(
        engine,
        select(i.c.id.label("issue_id"), c.c.user_login.label("login"), func.count().label("n"))
        .join(c, (c.c.repository_id == i.c.repository_id) & (c.c.issue_number == i.c.number))
        .where(c.c.user_login.is_not(None))
        .group_by(i.c.id, c.c.user_login),
    )
    listed = _frame(engine, select(p.c.issue_id, p.c.login, p.c.comments.label("n")))
    # Typed, because a table with no rows reads as untyped columns, and a maximum over untyped
    # columns runs in Python, one group at a time (minutes for a 34k-issue study).
    both = pd.concat([stored, listed], ignore_index=True).astype({"issue_id": int, "n": int})
    # A thread known both ways counts each login's comments once: the larger count wins.
    return both.groupby(["issue_id", "login"], as_index=False)["n"].max()


def _read_event_closers(engine: Engine) -> pd.DataFrame:
    """The actor of each issue's last 'closed' event."""
    i, e = schema.issues, schema.issue_events
    frame = _frame(
        engine,
        select(i.c.id.label("issue_id"), e.c.actor_login.label("login"), e.c.created_at)
        .join(e, (e.c.repository_id == i.c.repository_id) & (e.c.issue_number == i.c.number))
        .where(e.c.event == "closed", e.c.actor_login.is_not(None))
        .order_by(i.c.id, e.c.created_at),
    )
    return frame.drop_duplicates("issue_id", keep="last")[["issue_id", "login"]]


# --- categories -----------------------------------------------------------------------------


def study_human_categories(annotations: pd.DataFrame) -> pd.Series:
    """Issue id -> human category (classifier.labels.human_categories over the annotations)."""
    answered = annotations[(annotations["status"] == "labeled") & annotations["category"].notna()]
    return human_categories(answered.sort_values(["created_at"], kind="stable"), "issue_id")


def latest_predictions(predictions: pd.DataFrame) -> pd.DataFrame:
    """The newest prediction of each issue."""
    ordered = predictions.sort_values(["issue_id", "created_at"])
    return ordered.drop_duplicates("issue_id", keep="last")


def model_decisions(
    predictions: pd.DataFrame, probabilities: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Issue id -> the model's decision: category, probability, abstained, system probability
    (1 - P(NSR)). One model's predictions expected (see choose_model); the latest per issue.
    `probabilities` is their probability_frame when already at hand."""
    latest = latest_predictions(predictions).set_index("issue_id")
    if probabilities is None:
        probabilities = probability_frame(predictions)
    nsr = probabilities["NSR"] if "NSR" in probabilities.columns else pd.Series(dtype=float)
    system = 1.0 - nsr.reindex(latest.index).fillna(0.0)
    return latest[["category", "probability", "abstained"]].assign(
        system_probability=system.to_numpy(float)
    )


def resolve_categories(
    issues: pd.DataFrame,
    annotations: pd.DataFrame,
    predictions: pd.DataFrame,
    probabilities: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Add category and category_source, and the model's own decision next to it
    (model_category, model_probability, model_abstained, model_system_probability).
    `probabilities`: the predictions' probability_frame, when already read."""
    human = study_human_categories(annotations)
    machine = model_decisions(predictions, probabilities)
    ids = issues["issue_id"]
    from_human = ids.isin(human.index)
    from_machine = ~from_human & ids.isin(machine.index)
    out = issues.copy()
    out["category"] = ids.map(human).where(from_human, ids.map(machine["category"]))
    out["category_source"] = np.select([from_human, from_machine], ["human", "classifier"], "none")
    out["model_category"] = ids.map(machine["category"])
    out["model_probability"] = ids.map(machine["probability"])
    out["model_abstained"] = ids.map(machine["abstained"])
    out["model_system_probability"] = ids.map(machine["system_probability"])
    answered = annotations[(annotations["status"] == "labeled") & (annotations["kind"] == "label")]
    counts = answered.groupby("issue_id")["annotator"]
    out["annotators"] = ids.map(counts.nunique()).fillna(0).astype(int)
    return out


def probability_frame(predictions: pd.DataFrame) -> pd.DataFrame:
    """Issue id x class: the model's probabilities (columns in the model's class order)."""
    if predictions.empty:
        return pd.DataFrame()
    latest = latest_predictions(predictions)
    rows = [p or {} for p in latest["probabilities"]]
    return pd.DataFrame(rows, index=latest["issue_id"]).fillna(0.0)


# --- derived columns ------------------------------------------------------------------------


def observation_end(issues: pd.DataFrame) -> pd.Series:
    """Per issue, the latest time stored for its repository: the last-resort end of its
    observation window, taken from the data rather than the clock (the same database gives
    the same figures)."""
    latest = issues[["created_at", "updated_at", "closed_at"]].max(axis=1)
    return latest.groupby(issues["repository"]).transform("max")


def collection_end(
    issues: pd.DataFrame, metadata: dict, crawl_ends: pd.Series
) -> tuple[pd.Series, str]:
    """Per issue, when its observation ended, and a note saying how that was decided.

    In order: the collection date the study file gives (`collection_end`); else the end of its
    repository's latest crawl; else the latest time stored for the repository.
    """
    if metadata.get("collection_end"):
        moment = pd.Timestamp(metadata["collection_end"]).tz_localize(None)
        end = pd.Series(moment, index=issues.index)
        note = f"open issues censored at the study's collection end, {moment:%Y-%m-%d %H:%M} UTC"
        return end, note
    crawled = issues["repository"].map(crawl_ends)
    end = crawled.fillna(observation_end(issues))
    repositories = issues.groupby("repository").size()
    crawl = int(repositories.index.isin(crawl_ends.index).sum())
    latest = "the latest time stored for their repository (no collection date recorded)"
    if crawl == 0:
        return end, f"open issues censored at {latest}"
    note = "open issues censored at the end of their repository's latest crawl"
    if crawl < len(repositories):
        note += f" ({crawl} of {len(repositories)} repositories), else at {latest}"
    return end, note


def add_durations(issues: pd.DataFrame, end: pd.Series | None = None) -> pd.DataFrame:
    """time_to_close_days (closed issues only), duration_days and closed (for survival), with
    observation ending at `end` (default: observation_end).

    An issue closed after the end was still open then, and is censored there. An issue marked
    closed without a close date is `close_time_unknown`: it has no duration (time analyses
    leave it out and say so), and it never counts as open.
    """
    out = issues.copy()
    end = observation_end(out) if end is None else end
    out["close_time_unknown"] = out["state"].eq("closed") & out["closed_at"].isna()
    out["closed"] = out["state"].eq("closed") & out["closed_at"].notna() & (out["closed_at"] <= end)
    stop = out["closed_at"].where(out["closed"], end)
    duration = (stop - out["created_at"]).dt.total_seconds() / SECONDS_PER_DAY
    # Created after the end: outside the observation window, so no duration either.
    out["duration_days"] = duration.where(~out["close_time_unknown"] & (duration >= 0))
    out["time_to_close_days"] = out["duration_days"].where(out["closed"])
    out["month"] = out["created_at"].dt.to_period("M").astype(str)
    out["member_author"] = out["author_association"].isin(MEMBER_ASSOCIATIONS)
    return out


def people_frame(issues: pd.DataFrame, commenters: pd.DataFrame, closers: pd.DataFrame):
    """One row per (issue, login, role): authors, closers and commenters."""
    authors = issues[["issue_id", "author"]].rename(columns={"author": "login"}).assign(n=1)
    by_field = issues[["issue_id", "closed_by"]].rename(columns={"closed_by": "login"})
    closer = pd.concat([by_field.dropna(), closers]).drop_duplicates("issue_id").assign(n=1)
    frames = [
        authors.dropna().assign(role="author"),
        closer.assign(role="closer"),
        commenters.assign(role="commenter"),
    ]
    people = pd.concat(frames, ignore_index=True)
    people = people[people["issue_id"].isin(issues["issue_id"])]
    return people.rename(columns={"n": "comments"}).sort_values(["role", "issue_id", "login"])


def add_participants(issues: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """participants = distinct logins among author and commenters; NaN when commenters are
    unknown (the issue has comments but no comment author is stored)."""
    commenters = people[people["role"] == "commenter"]
    known = commenters.groupby("issue_id")["login"].nunique()
    everyone = people[people["role"].isin(["author", "commenter"])]
    distinct = everyone.groupby("issue_id")["login"].nunique()
    out = issues.copy()
    ids = out["issue_id"]
    unknown = (out["comments_count"] > 0) & ~ids.isin(known.index)
    out["participants"] = ids.map(distinct).fillna(0).where(~unknown)
    return out


def load_study(
    engine: Engine, model_version: str | None = None, estimator: str = "PACC"
) -> StudyData:
    """Read and derive everything the figures need, with the decisions of one model
    (choose_model: `model_version`, else the model that classified the most issues) and the
    quantification `estimator` for category shares (analysis.shares)."""
    model_version = choose_model(engine, model_version)
    if model_version:
        predictions = read_predictions(engine, model_version, probabilities=False)
        probabilities = read_probabilities(engine, model_version)
    else:
        columns = ["issue_id", "category", "probability", "abstained", "created_at"]
        predictions, probabilities = pd.DataFrame(columns=columns), pd.DataFrame()
    issues = read_issues(engine)
    issues = resolve_categories(issues, read_annotations(engine), predictions, probabilities)
    metadata = read_study_metadata(engine)
    end, censoring = collection_end(issues, metadata, read_crawl_ends(engine))
    issues = add_durations(issues, end)
    people = people_frame(issues, _read_commenters(engine), _read_event_closers(engine))
    issues = add_participants(issues, people)
    labels = read_labels(engine)
    labels = labels[labels["issue_id"].isin(issues["issue_id"])]
    return StudyData(
        issues,
        people,
        model_version,
        labels,
        probabilities,
        model_error_record(engine, model_version),
        estimator,
        metadata,
        censoring,
        fixing.read_fixes(engine),
        fixing.read_associations(engine),
    )
