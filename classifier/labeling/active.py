"""Active learning: ask next about the issues the current classifier is least sure of."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Engine

from classifier.documents import issue_documents, issue_ids_by_reference
from classifier.labeling.sampling import UNCERTAINTY, SamplingError, most_uncertain, random_order
from classifier.labels import annotation_rows, final_labels
from taxonomy import Taxonomy

log = logging.getLogger(__name__)

MIN_TRAINING_LABELS = 10


def training_labels(engine: Engine) -> pd.Series:
    """The final category of every labeled issue (adjudication, else majority), by issue id."""
    labels = final_labels(annotation_rows(engine))
    references = list(zip(labels["repository"], labels["number"], strict=True))
    ids = issue_ids_by_reference(engine, references)
    issue_ids = [ids[(repository.lower(), int(number))] for repository, number in references]
    return pd.Series(labels["category"].to_numpy(), index=issue_ids, name="category").sort_index()


def train_on_annotations(engine: Engine, min_labels: int = MIN_TRAINING_LABELS):
    """The classifier's pipeline fitted on the labels so far, or None while there are too few."""
    from classifier.model import build_pipeline  # scikit-learn and spaCy: only when used

    labels = training_labels(engine)
    if len(labels) < min_labels or labels.nunique() < 2:
        return None
    documents = issue_documents(engine, labels.index.tolist())  # ordered by issue id, as labels
    return build_pipeline().fit(documents, labels.to_numpy())


@dataclass
class UncertaintyStrategy:
    """Least-confident or margin sampling with a model's predict_proba.

    model: an estimator with predict_proba over issue documents; "default" loads the shipped
    classifier; None trains the classifier's pipeline on the labels so far (and falls back to
    random order until there are enough). Only a random pool of `pool_size` candidates is
    scored per ranking, which keeps re-ranking cheap on a large database.
    """

    measure: str = "least-confident"
    model: object | None = None
    taxonomy: Taxonomy | None = None
    seed: int = 0
    pool_size: int = 2000
    adaptive: bool = True
    model_: object | None = None  # the model behind the latest ranking (None: random order)

    def __post_init__(self) -> None:
        if self.measure not in UNCERTAINTY:
            raise SamplingError(f"unknown uncertainty measure {self.measure!r}")

    @property
    def name(self) -> str:
        return self.measure

    def current_model(self, engine: Engine):
        if self.model == "default":
            from classifier.model import load_model  # scikit-learn and spaCy: only when used

            self.model = load_model()
        if self.model is not None:
            return self.model
        return train_on_annotations(engine)

    def rank(self, engine: Engine, candidates: pd.DataFrame) -> list[int]:
        shuffled = random_order(candidates["issue_id"].tolist(), self.seed)
        model = self.model_ = self.current_model(engine)
        if model is None:
            log.info("too few labels to train a classifier yet; sampling at random")
            return shuffled
        pool, rest = sorted(shuffled[: self.pool_size]), shuffled[self.pool_size :]
        proba = model.predict_proba(issue_documents(engine, pool))  # rows ordered by issue id
        return most_uncertain(proba, pool, self.measure) + rest
