"""Classify: store a model's predictions for the issues it has not classified yet."""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from classifier.documents import issue_documents, unclassified_issue_ids
from classifier.model import IssueClassifier
from db.schema import issues, models, predictions
from db.upsert import upsert

log = logging.getLogger(__name__)

BATCH_SIZE = 1000


class NothingToClassifyError(Exception):
    """The database holds no issues at all."""


@dataclass(frozen=True)
class ClassifyResult:
    classified: int
    abstained: int
    already_done: int


def _batches(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _ensure_registered(engine: Engine, model: IssueClassifier) -> None:
    """Predictions name a model version; make sure the models table knows it."""
    from classifier.training import register_model

    with engine.connect() as connection:
        known = connection.execute(
            select(models.c.version).where(models.c.version == model.version)
        ).first()
    if known is None:
        register_model(engine, model, model.card.get("artifact_path"))


def prediction_rows(model: IssueClassifier, documents, now: datetime) -> list[dict]:
    predicted = model.predict(documents)
    return [
        {
            "issue_id": int(issue_id),
            "model_version": model.version,
            "category": row.category,
            "probability": float(row.probability),
            "abstained": bool(row.abstained),
            "probabilities": row.probabilities,
            "created_at": now,
        }
        for issue_id, row in zip(documents["issue_id"], predicted.itertuples(), strict=True)
    ]


# The model of a worker process: inherited from the parent by fork, never pickled.
_WORKER_MODEL: IssueClassifier | None = None


def _worker_start(engine: Engine) -> None:
    # A forked child must not touch the parent's pooled connections (SQLAlchemy's advice).
    engine.dispose(close=False)


def _worker_rows(documents, now: datetime) -> list[dict]:
    return prediction_rows(_WORKER_MODEL, documents, now)


def _predicted_batches(
    engine: Engine, model: IssueClassifier, batches: list[Sequence[int]], workers: int
) -> Iterator[list[dict]]:
    """Prediction rows per batch, in order; with workers > 1, batches are predicted in forked
    processes while this one reads the next batches and writes finished ones."""
    now = datetime.now(UTC).replace(tzinfo=None)
    if workers <= 1 or len(batches) <= 1:
        for batch in batches:
            yield prediction_rows(model, issue_documents(engine, batch), now)
        return
    global _WORKER_MODEL
    _WORKER_MODEL = model
    context = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_worker_start, initargs=(engine,)
        ) as pool:
            pending = deque()
            for batch in batches:
                pending.append(pool.submit(_worker_rows, issue_documents(engine, batch), now))
                if len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
    finally:
        _WORKER_MODEL = None


def classify_database(
    engine: Engine,
    model: IssueClassifier,
    *,
    reclassify: bool = False,
    batch_size: int = BATCH_SIZE,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> ClassifyResult:
    """Predict and store every issue without a prediction of this model version (all issues
    with `reclassify`). Batches are written as they are done, so an interruption keeps them;
    `progress(done, total)` is called after each batch. `workers` > 1 predicts in that many
    forked processes."""
    with engine.connect() as connection:
        total = connection.execute(
            select(func.count()).select_from(issues).where(issues.c.is_pull_request.is_(False))
        ).scalar_one()
    if total == 0:
        raise NothingToClassifyError(
            "the database has no issues to classify; import or crawl some first "
            "(mlissues crawl OWNER/REPO)"
        )
    todo = unclassified_issue_ids(engine, None if reclassify else model.version)
    if todo:
        _ensure_registered(engine, model)
    classified = abstained = 0
    for rows in _predicted_batches(engine, model, list(_batches(todo, batch_size)), workers):
        with engine.begin() as connection:
            upsert(connection, predictions, rows, key=["issue_id", "model_version"])
        classified += len(rows)
        abstained += sum(row["abstained"] for row in rows)
        if progress is not None:
            progress(len(rows), len(todo))
    return ClassifyResult(classified, abstained, total - len(todo))
