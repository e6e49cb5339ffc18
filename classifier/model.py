"""Classifier pipelines, the rules baseline, and the model object that train and classify share.

`build_pipeline()` returns an unfitted scikit-learn Pipeline from a documents frame (see
classifier.documents) to taxonomy codes. `load_model()` returns an `IssueClassifier`: the fitted
pipeline with its version, abstention threshold and card.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from classifier.artifact_types import artifact_types, untrusted_types
from classifier.features import DocumentColumns, WeakSignals, taxonomy_keywords
from classifier.text import TextNormalizer
from taxonomy import Taxonomy, default_taxonomy

STRUCTURES = ("joint", "gated")
LEARNERS = ("logreg", "svm")


def prior_weighted(probabilities: np.ndarray, prior: np.ndarray, power: float) -> np.ndarray:
    """p(c) / prior(c)**power, each row normalized to sum 1: the weights decisions compare."""
    if power == 0 or len(probabilities) == 0:
        return probabilities
    weighted = probabilities / np.power(np.maximum(prior, 1e-9), power)
    return weighted / np.maximum(weighted.sum(axis=1, keepdims=True), 1e-12)


def prior_corrected(probabilities: np.ndarray, prior: np.ndarray, power: float) -> np.ndarray:
    """Indices of the decided classes: argmax of p(c) / prior(c)**power.

    power 0 is the plain argmax of calibrated probabilities (best accuracy, favours the large
    NSR class); power 1 decides as if all classes were equally frequent (favours recall of rare
    categories, i.e. macro-F1). The probabilities themselves stay calibrated.
    """
    return prior_weighted(probabilities, prior, power).argmax(axis=1)


class _PriorCorrectedMixin:
    """predict() = prior-corrected argmax of predict_proba(); fit must set class_prior_."""

    def _set_prior(self, y: np.ndarray) -> None:
        counts = pd.Series(y).value_counts()
        self.class_prior_ = np.array([counts[c] / len(y) for c in self.classes_])

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        """Class index per row of predict_proba output."""
        return prior_corrected(probabilities, self.class_prior_, self.prior_power)

    def predict(self, X) -> np.ndarray:
        probabilities = self.predict_proba(X)
        return self.classes_[self.decide(probabilities)]

    def decision_weights(self, probabilities: np.ndarray) -> np.ndarray:
        """The probabilities as decide() weighs them: how close the decision is, which is
        what uncertainty sampling should ask about."""
        return prior_weighted(probabilities, self.class_prior_, self.prior_power)


def decision_weights(model, probabilities: np.ndarray) -> np.ndarray:
    """`probabilities` weighted as `model` (an IssueClassifier, a Pipeline or a classifier of
    this module) decides; unchanged for a model that decides by the plain argmax."""
    final = getattr(model, "pipeline", model)
    final = final[-1] if isinstance(final, Pipeline) else final
    if not hasattr(final, "decision_weights"):
        return probabilities
    return final.decision_weights(probabilities)


class CalibratedLinear(_PriorCorrectedMixin, ClassifierMixin, BaseEstimator):
    """A class-weighted linear model with sigmoid-calibrated probabilities.

    Calibration needs folds with every class in each. It is used once the rarest class has
    `min_calibration_count` labels (folds: that count, at most `cv`); before, the model is a
    class-balanced logistic regression (whatever the learner: an SVM gives no probabilities).
    The default 3 is measured (benchmarks/learning_curve.py): 2-fold calibration, each fold
    with a single example of the rarest class, cost up to 0.02-0.03 mean macro-F1 against 3.
    """

    def __init__(
        self,
        learner: str = "svm",
        C: float = 0.5,
        cv: int = 3,
        calibrate: bool = True,
        prior_power: float = 0.0,
        min_calibration_count: int = 3,
    ):
        self.learner = learner
        self.C = C
        self.cv = cv
        self.calibrate = calibrate
        self.prior_power = prior_power
        self.min_calibration_count = min_calibration_count

    def _base(self):
        if self.learner == "svm":
            return LinearSVC(C=self.C, class_weight="balanced")
        if self.learner == "logreg":
            return LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000)
        raise ValueError(f"learner must be one of {LEARNERS}, not {self.learner!r}")

    def fit(self, X, y):
        X, y = validate_data(self, X, y, accept_sparse="csr")
        check_classification_targets(y)
        self.classes_ = unique_labels(y)
        smallest = int(pd.Series(y).value_counts().min())
        folds = min(self.cv, smallest)
        if len(self.classes_) == 1:
            self.estimator_ = _Constant()
        elif self.calibrate and folds >= 2 and smallest >= self.min_calibration_count:
            # ensemble=False keeps one linear model (not one per fold): a third of the size.
            self.estimator_ = CalibratedClassifierCV(
                self._base(), method="sigmoid", cv=folds, ensemble=False
            )
        else:
            self.estimator_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000)
        self.estimator_.fit(X, y)
        self._set_prior(y)
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        return self.estimator_.predict_proba(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class _Constant(ClassifierMixin, BaseEstimator):
    """The one class seen in training, with probability 1 (tiny training sets only)."""

    def fit(self, X, y):
        self.classes_ = unique_labels(y)
        return self

    def predict_proba(self, X) -> np.ndarray:
        return np.ones((X.shape[0], 1))


class GatedClassifier(_PriorCorrectedMixin, ClassifierMixin, BaseEstimator):
    """A system-related gate, then a category model trained on system-related issues only.

    P(NSR) = 1 - P(system); P(c) = P(system) * P(c | system) for every system category c.
    """

    def __init__(
        self, gate=None, categorizer=None, default_class: str = "NSR", prior_power: float = 0.0
    ):
        self.gate = gate
        self.categorizer = categorizer
        self.default_class = default_class
        self.prior_power = prior_power

    def fit(self, X, y):
        X, y = validate_data(self, X, y, accept_sparse="csr")
        check_classification_targets(y)
        self.classes_ = unique_labels(y)
        system = y != self.default_class
        self.gate_ = clone(self.gate or CalibratedLinear()).fit(X, system)
        self.categorizer_ = clone(self.categorizer or CalibratedLinear()).fit(X[system], y[system])
        self._set_prior(y)
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "gate_")
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        gate_classes = list(self.gate_.classes_)
        p_system = self.gate_.predict_proba(X)[:, gate_classes.index(True)]
        probabilities = np.zeros((X.shape[0], len(self.classes_)))
        columns = {code: i for i, code in enumerate(self.classes_)}
        category = self.categorizer_.predict_proba(X)
        for j, code in enumerate(self.categorizer_.classes_):
            probabilities[:, columns[code]] = p_system * category[:, j]
        if self.default_class in columns:
            probabilities[:, columns[self.default_class]] = 1 - p_system
        return probabilities

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class KeywordRules(ClassifierMixin, BaseEstimator):
    """Baseline: the category with the most keyword and repository-label votes, NSR without any.

    Learns nothing from the labels but the class list; `min_votes` is the evidence needed to
    leave NSR.
    """

    def __init__(
        self,
        keywords: dict[str, list[str]] | None = None,
        default_class: str = "NSR",
        min_votes: float = 1.0,
    ):
        self.keywords = keywords
        self.default_class = default_class
        self.min_votes = min_votes

    def fit(self, X, y):
        self.signals_ = WeakSignals(self.keywords).fit(X)
        self.default_ = self.default_class
        self.classes_ = np.array(sorted(set(unique_labels(y)) | {self.default_}))
        return self

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self, "signals_")
        votes = self.signals_.rule_votes(X)
        best = np.argmax(votes, axis=1)
        codes = np.array(self.signals_.codes_)[best]
        return np.where(votes.max(axis=1) >= self.min_votes, codes, self.default_)

    def predict_proba(self, X) -> np.ndarray:
        predicted = self.predict(X)
        return (predicted[:, None] == self.classes_[None, :]).astype(float)


def feature_union(
    taxonomy: Taxonomy | None = None,
    weak_signals: bool = True,
    memoize_text: bool = False,
    repo_labels: bool = False,
    raw_view: str | None = None,
    title_words: bool = False,
    signals: str = "basic",
) -> FeatureUnion:
    """The features of an issue, each part a switch that benchmarks/select_model.py measured.

    The defaults are the configuration it chose on 4,723 labels (best mean macro-F1 over the
    held-out repositories and the time split): the repository labels off; the title words, the
    raw view and the extended log signals did not raise held-out scores, so they stay off.

    Always: word 1-2-grams of the normalized text and character n-grams of the title.
    repo_labels: the repository's own labels as tokens and as weak-signal votes. Off by default:
    a scheme such as TensorFlow's `comp:*`/`type:*` does not transfer to other repositories.
    raw_view: the raw text's start, which keeps cues the normalizer drops ("20x slower",
    "sm_35", "double free"), as "words" (unigrams, cheap) or "chars" (character 3-5-grams, ten
    times slower to compute); None leaves it out. title_words: a word TF-IDF of the title.
    weak_signals: taxonomy keyword hits per category. signals: see classifier.text.SIGNAL_SETS.
    memoize_text: remember normalized texts across fits. Normalization learns nothing, so this
    is safe wherever the same texts are fitted again (cross-validation, simulations).
    """
    text = Pipeline(
        [
            ("select", DocumentColumns("text")),
            ("normalize", TextNormalizer(memoize=memoize_text, signals=signals)),
            (
                "tfidf",
                TfidfVectorizer(
                    ngram_range=(1, 2),
                    min_df=2,
                    max_df=0.9,
                    max_features=15000,
                    sublinear_tf=True,
                    token_pattern=r"(?u)\b\w[\w.]+\b",
                ),
            ),
        ]
    )
    title = _tfidf_view("title", analyzer="char_wb", ngram_range=(3, 5), max_features=8000)
    parts = [("text", text), ("title", title)]
    if title_words:
        parts.append(("title_words", _tfidf_view("title", ngram_range=(1, 2), max_features=5000)))
    if raw_view is not None:
        parts.append(("raw", _raw_view(raw_view)))
    if repo_labels:
        labels = Pipeline(
            [
                ("select", DocumentColumns("labels")),
                ("count", CountVectorizer(binary=True, token_pattern=r"\S+", lowercase=False)),
            ]
        )
        parts.append(("labels", labels))
    if weak_signals:
        parts.append(("weak", WeakSignals(taxonomy_keywords(taxonomy), use_labels=repo_labels)))
    return FeatureUnion(parts)


def _tfidf_view(view: str, **vectorizer) -> Pipeline:
    """A TF-IDF of one document view (see DocumentColumns), rare terms dropped."""
    return Pipeline(
        [
            ("select", DocumentColumns(view)),
            ("tfidf", TfidfVectorizer(min_df=2, sublinear_tf=True, lowercase=True, **vectorizer)),
        ]
    )


def _raw_view(kind: str) -> Pipeline:
    if kind == "words":
        return _tfidf_view("raw", token_pattern=r"(?u)\b\w[\w.+-]*\b", max_features=30000)
    if kind == "chars":
        return _tfidf_view("raw", analyzer="char_wb", ngram_range=(3, 5), max_features=30000)
    raise ValueError(f"raw_view must be 'words', 'chars' or None, not {kind!r}")


FEATURE_SWITCHES = ("repo_labels", "raw_view", "title_words", "signals", "weak_signals")


def build_pipeline(
    structure: str = "gated",
    learner: str = "svm",
    C: float = 0.5,
    taxonomy: Taxonomy | None = None,
    prior_power: float = 0.5,
    memoize_text: bool = False,
    **features,
) -> Pipeline:
    """An unfitted Pipeline: documents frame -> features -> calibrated linear classifier.

    structure "joint" predicts all categories at once; "gated" first decides system-related or
    not, then the category (see GatedClassifier). learner: "svm" or "logreg". prior_power: see
    prior_corrected; memoize_text and `features` (FEATURE_SWITCHES): see feature_union. The
    defaults are the configuration benchmarks/select_model.py chose on held-out repositories
    and a time split.
    """
    if structure not in STRUCTURES:
        raise ValueError(f"structure must be one of {STRUCTURES}, not {structure!r}")
    unknown = set(features) - set(FEATURE_SWITCHES)
    if unknown:
        raise ValueError(f"unknown feature switch(es): {', '.join(sorted(unknown))}")
    default_code = (taxonomy or default_taxonomy()).default_code
    linear = CalibratedLinear(learner=learner, C=C)
    if structure == "joint":
        classifier = linear.set_params(prior_power=prior_power)
    else:
        classifier = GatedClassifier(linear, clone(linear), default_code, prior_power)
    return Pipeline(
        [
            ("features", feature_union(taxonomy, memoize_text=memoize_text, **features)),
            ("classifier", classifier),
        ]
    )


def baseline_pipelines(taxonomy: Taxonomy | None = None) -> dict[str, object]:
    """The trivial baselines the evaluation reports beside the model."""
    from sklearn.dummy import DummyClassifier

    return {
        "majority class": DummyClassifier(strategy="most_frequent"),
        "keyword rules": KeywordRules(
            taxonomy_keywords(taxonomy), (taxonomy or default_taxonomy()).default_code
        ),
    }


# --- the fitted model as train writes it and classify reads it -------------------------------

MODELS_DIR = Path(__file__).with_name("models")
DEFAULT_MODEL_DIR = MODELS_DIR / "default"
ARTIFACT_NAME = "model.skops"
CARD_JSON = "card.json"
CARD_MARKDOWN = "card.md"
OUT_OF_FOLD_JSON = "out_of_fold.json"


class ModelError(Exception):
    """A model artifact is missing, unreadable or holds types we do not trust."""


@dataclass
class IssueClassifier:
    """A fitted pipeline with its version, abstention threshold and model card.

    out_of_fold: the labels and out-of-fold probabilities of its training issues (see
    training.out_of_fold_record), the measured error that quantification corrects for; None for
    a model saved without them.
    """

    pipeline: Pipeline
    version: str
    threshold: float
    card: dict = field(default_factory=dict)
    out_of_fold: dict | None = None

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.pipeline.classes_)

    @property
    def taxonomy_version(self) -> str | None:
        return self.card.get("taxonomy_version")

    def predict_proba(self, documents: pd.DataFrame) -> np.ndarray:
        """Probabilities of every class in `classes_` order, one row per document."""
        if len(documents) == 0:
            return np.zeros((0, len(self.classes_)))
        return self.pipeline.predict_proba(documents)

    def predict(self, documents: pd.DataFrame) -> pd.DataFrame:
        """category (the decided class: see prior_corrected), its probability, abstained
        (probability below the threshold), probabilities (dict of every class)."""
        probabilities = self.predict_proba(documents)
        classes = [str(code) for code in self.classes_]
        best = self.pipeline[-1].decide(probabilities)
        top = probabilities[np.arange(len(best)), best]
        return pd.DataFrame(
            {
                "category": [classes[i] for i in best],
                "probability": top.astype(float),
                "abstained": top < self.threshold,
                "probabilities": [
                    {code: round(float(p), 6) for code, p in zip(classes, row, strict=True)}
                    for row in probabilities
                ],
            },
            index=documents.index,
        )

    def save(self, directory: str | Path) -> Path:
        """Write model.skops, card.json and card.md into `directory`; returns the artifact path."""
        import skops.io as sio

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        _compact(self.pipeline)
        artifact = directory / ARTIFACT_NAME
        sio.dump(self.pipeline, artifact, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
        card = {**self.card, "version": self.version, "threshold": self.threshold}
        (directory / CARD_JSON).write_text(json.dumps(card, indent=2, default=str) + "\n")
        from classifier.card import card_markdown

        (directory / CARD_MARKDOWN).write_text(card_markdown(card))
        if self.out_of_fold is not None:
            (directory / OUT_OF_FOLD_JSON).write_text(json.dumps(self.out_of_fold) + "\n")
        return artifact


def _compact(pipeline) -> None:
    """Shrink the vectorizers before saving: stop_words_ keeps every pruned term (it is only
    for introspection), and skops stores each numpy integer of vocabulary_ as its own file."""
    for step in _walk(pipeline):
        if isinstance(step, CountVectorizer):
            if hasattr(step, "stop_words_"):
                del step.stop_words_
            if hasattr(step, "vocabulary_"):
                step.vocabulary_ = {term: int(i) for term, i in step.vocabulary_.items()}


def _walk(estimator):
    yield estimator
    children = getattr(estimator, "steps", None) or getattr(estimator, "transformer_list", None)
    for _, child in children or ():
        yield from _walk(child)


def _artifact_path(path: str | Path | None) -> Path:
    path = DEFAULT_MODEL_DIR if path is None else Path(path)
    return path if path.suffix == ".skops" else path / ARTIFACT_NAME


def load_model(path: str | Path | None = None) -> IssueClassifier:
    """Load a model directory (or its model.skops); None loads the shipped default model."""
    import skops.io as sio

    artifact = _artifact_path(path)
    card_path = artifact.with_name(CARD_JSON)
    if not artifact.exists() or not card_path.exists():
        raise ModelError(
            f"no model at {artifact.parent} (needs {ARTIFACT_NAME} and {CARD_JSON}); "
            "train one with: mlissues train --out DIR"
        )
    try:
        types = artifact_types(artifact)  # before skops builds anything (see artifact_types)
        refused = untrusted_types(types)
        if refused:
            raise ModelError(
                f"{artifact} holds types a model of this toolkit does not: {', '.join(refused)}; "
                "refusing to load it (use a model made by mlissues train)"
            )
        pipeline = sio.load(artifact, trusted=sorted(types))
        card = json.loads(card_path.read_text())
        out_of_fold_path = artifact.with_name(OUT_OF_FOLD_JSON)
        out_of_fold = (
            json.loads(out_of_fold_path.read_text()) if out_of_fold_path.exists() else None
        )
        version, threshold = str(card["version"]), float(card["threshold"])
    except KeyError as missing:
        raise ModelError(f"{card_path} lacks the field {missing}") from None
    except (OSError, ValueError, TypeError) as error:
        raise ModelError(f"cannot read model {artifact}: {error}") from None
    return IssueClassifier(pipeline, version, threshold, card, out_of_fold)
