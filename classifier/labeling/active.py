"""Active learning: ask next about the issues the current classifier is least sure of."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from classifier.documents import issue_documents, issue_ids_by_reference
from classifier.labeling.sampling import (
    UNCERTAINTY,
    SamplingError,
    interleave,
    most_uncertain,
    random_order,
)
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
        from classifier.model import decision_weights  # loaded with the model already

        # Ask about close decisions: the model decides by prior-corrected weights, not by p.
        proba = decision_weights(model, proba)
        return self.order(engine, model, proba, pool, shuffled) + rest

    def order(self, engine: Engine, model, proba: np.ndarray, pool: list[int], shuffled) -> list:
        """The scored pool (issue ids, as the rows of proba) in asking order."""
        return most_uncertain(proba, pool, self.measure)


# --- class-balanced uncertainty, half random ------------------------------------------------

BALANCED = "balanced-margin"
BALANCED_RANDOM_SHARE = 0.5


def balanced_uncertain(
    proba: np.ndarray,
    issue_ids: list[int],
    classes: list,
    labeled_counts: dict,
    measure: str = "margin",
) -> list[int]:
    """Issue ids spread over the classes they are predicted as, predicted-rare classes first.

    Each candidate is assigned the class with the highest p(c) / share of c among the labels so
    far (a prior-corrected guess, so rare classes get candidates at all). The queue then takes
    one issue per class in turn, classes with the fewest labels first (ties by name); within a
    class the most uncertain (by `measure`) first, ties by id.
    """
    proba = np.asarray(proba, dtype=float)
    counts = np.array([labeled_counts.get(c, 0) for c in classes], dtype=float)
    prior = np.maximum(counts, 1.0) / max(counts.sum(), 1.0)
    guessed = (proba / prior).argmax(axis=1) if len(proba) else np.zeros(0, dtype=int)
    queues = []
    for k in sorted(range(len(classes)), key=lambda k: (counts[k], str(classes[k]))):
        members = [i for i in range(len(issue_ids)) if guessed[i] == k]
        if members:
            ranked = most_uncertain(proba[members], [issue_ids[i] for i in members], measure)
            queues.append(ranked)
    return interleave(*queues)


def half_random(preferred: list[int], shuffled: list[int], share: float) -> list[int]:
    """`preferred` with every 1/share-th place taken by the next of `shuffled` not yet in it
    (share 0.5: alternate), no id twice."""
    if share <= 0:
        return list(preferred)
    period = max(1, round(1 / share))
    taken: set[int] = set()
    order: list[int] = []
    preferred_left, shuffled_left = list(preferred), list(shuffled)
    while preferred_left or shuffled_left:
        source = shuffled_left if (len(order) + 1) % period == 0 else preferred_left
        source = source or preferred_left or shuffled_left
        item = source.pop(0)
        if item not in taken:
            taken.add(item)
            order.append(item)
    return order


def balanced_order(
    proba: np.ndarray,
    issue_ids: list[int],
    classes: list,
    labeled_counts: dict,
    shuffled: list[int],
    random_share: float = BALANCED_RANDOM_SHARE,
) -> list[int]:
    """The class-balanced margin queue with a random share mixed in (the strategy's order)."""
    preferred = balanced_uncertain(proba, issue_ids, classes, labeled_counts)
    return half_random(preferred, shuffled, random_share)


@dataclass
class BalancedStrategy(UncertaintyStrategy):
    """Half class-balanced margin sampling (see balanced_uncertain), half random.

    Plain uncertainty sampling keeps asking about the same confusable large classes; spreading
    each batch over predicted classes (rare ones first) and keeping half of it random aims at
    macro-F1, where every rare category counts as much as NSR.
    """

    measure: str = "margin"
    random_share: float = BALANCED_RANDOM_SHARE

    @property
    def name(self) -> str:
        return BALANCED

    def order(self, engine: Engine, model, proba: np.ndarray, pool: list[int], shuffled) -> list:
        counts = training_labels(engine).value_counts().to_dict()
        in_pool = set(pool)
        return balanced_order(
            proba,
            pool,
            list(model.classes_),
            counts,
            [i for i in shuffled if i in in_pool],
            self.random_share,
        )
