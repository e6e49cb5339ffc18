"""Category shares estimated, not counted: quantification with the classifier's measured error.

Counting a classifier's decisions gives biased shares: every category it confuses with another
loses or gains issues, and dropping uncertain decisions biases them further. A quantifier
estimates the distribution of categories in a set of issues from the model's probabilities and
the error the model made on labeled issues it had not seen (its out-of-fold record, saved with
the model by `mlissues train`). quapy (Moreo et al.) provides the misclassification rates and
EMQ; the adjustment is solved with scipy's NNLS (see `adjust`). This module feeds them the
stored probabilities and carries the error into the intervals.

Estimators (ESTIMATORS): CC (count decisions), PCC (mean probability), ACC and PACC (CC and PCC
adjusted by the misclassification rates measured out of fold), EMQ (Saerens-Latinne-Decaestecker
EM prior adjustment). PACC is the default: tests/test_shares.py measures interval coverage on
held-out labeled issues for every estimator.

A share combines people and the model: issues with a human category count as they are labeled,
the others enter through the estimate, so no issue is dropped for being uncertain:

    share(c) = (human(c) + n_model * estimate(c)) / (n_human + n_model)

Intervals (ci_low, ci_high) are percentile bootstrap intervals. Each replicate resamples the
held-out labeled issues (so the correction's own uncertainty is carried), the model-classified
issues and the human-labeled ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

ESTIMATORS = ("PACC", "ACC", "EMQ", "PCC", "CC")
DEFAULT_ESTIMATOR = "PACC"
DEFAULT_REPLICATES = 200
CONFIDENCE = 0.95
# Above this many model-classified issues, a replicate resamples their probabilities' mean from
# its normal approximation (central limit theorem) instead of resampling rows: the same answer
# for large sets, at a cost that does not grow with the study.
RESAMPLE_ROWS_UP_TO = 20_000


class NoErrorRecordError(ValueError):
    """The model was saved without its out-of-fold record, so its error is unknown."""


@dataclass(frozen=True)
class ModelError:
    """Labels and out-of-fold probabilities of the model's training issues (its measured error).

    classes: the model's class order; labels: class index per issue; probabilities: issues x
    classes.
    """

    classes: tuple[str, ...]
    labels: np.ndarray
    probabilities: np.ndarray

    @classmethod
    def from_record(cls, record: dict | None) -> ModelError:
        if not record or not record.get("probabilities"):
            raise NoErrorRecordError(
                "the model has no out-of-fold record (out_of_fold.json); retrain it with "
                "mlissues train to estimate shares with its error"
            )
        classes = tuple(record["classes"])
        index = {code: i for i, code in enumerate(classes)}
        labels = np.array([index[code] for code in record["labels"]])
        return cls(classes, labels, np.asarray(record["probabilities"], dtype=float))

    def resample(self, rng: np.random.Generator) -> ModelError:
        rows = rng.integers(0, len(self.labels), len(self.labels))
        return ModelError(self.classes, self.labels[rows], self.probabilities[rows])

    def training_prior(self) -> np.ndarray:
        counts = np.bincount(self.labels, minlength=len(self.classes)).astype(float)
        return counts / counts.sum()

    def rates(self, soft: bool) -> np.ndarray:
        """M[i, j] = P(predicted i | true j): mean probability (soft) or decision rate."""
        from quapy.method.aggregative import ACC, PACC

        indices = np.arange(len(self.classes))
        if soft:
            return PACC.getPteCondEstim(indices, self.labels, self.probabilities)
        return ACC.getPteCondEstim(indices, self.labels, self.probabilities.argmax(axis=1))


def _decision_shares(probabilities: np.ndarray) -> np.ndarray:
    decided = probabilities.argmax(axis=1)
    return np.bincount(decided, minlength=probabilities.shape[1]) / max(len(decided), 1)


def prevalence(estimator: str, error: ModelError, probabilities: np.ndarray) -> np.ndarray:
    """Estimated share of each class (error.classes order) among issues with these
    probabilities (rows in the same class order)."""
    from quapy.method.aggregative import EMQ

    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, not {estimator!r}")
    if len(probabilities) == 0:
        return np.full(len(error.classes), np.nan)
    if estimator == "EMQ":
        return np.asarray(EMQ.EM(error.training_prior(), probabilities)[0])
    soft = estimator in ("PCC", "PACC")
    observed = probabilities.mean(axis=0) if soft else _decision_shares(probabilities)
    if estimator in ("PCC", "CC"):
        return observed
    return adjust(error.rates(soft), observed)


def adjust(rates: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Solve observed = rates @ p for p on the probability simplex.

    Non-negative least squares with the sum-to-one condition as a heavily weighted extra
    equation (scipy's NNLS): the same solution as a general constrained minimizer, a thousand
    times faster, which matters because every bootstrap replicate solves it again.
    """
    from scipy.optimize import nnls

    weight = 100.0
    system = np.vstack([rates, weight * np.ones(rates.shape[1])])
    target = np.append(observed, weight)
    solved, _ = nnls(system, target)
    return solved / solved.sum() if solved.sum() > 0 else observed


@dataclass(frozen=True)
class Part:
    """The issues of one group: human category counts and the model's probabilities."""

    human: np.ndarray  # counts per class
    probabilities: np.ndarray  # model-only issues x classes
    classes: tuple[str, ...] = ()


def _combine(human: np.ndarray, n_model: int, estimate: np.ndarray) -> np.ndarray:
    total = human.sum() + n_model
    model_part = n_model * np.nan_to_num(estimate) if n_model else 0.0
    return (human + model_part) / total


def _resampler(
    probabilities: np.ndarray, estimator: str
) -> Callable[[np.random.Generator], np.ndarray]:
    """A function drawing one bootstrap replicate of the model-classified issues'
    probabilities. Large sets under PCC/PACC: only the mean matters, drawn from its normal
    approximation, whose mean and covariance are computed once here, not per replicate."""
    n = len(probabilities)
    if n <= RESAMPLE_ROWS_UP_TO or estimator in ("CC", "ACC", "EMQ"):
        return lambda rng: probabilities[rng.integers(0, n, n)]
    mean = probabilities.mean(axis=0)
    covariance = np.cov(probabilities, rowvar=False) / n

    def draw(rng: np.random.Generator) -> np.ndarray:
        drawn = rng.multivariate_normal(mean, covariance, check_valid="ignore")
        return np.clip(drawn, 0, None)[None, :]

    return draw


def estimate_part(
    part: Part,
    error: ModelError | None,
    estimator: str = DEFAULT_ESTIMATOR,
    replicates: int = DEFAULT_REPLICATES,
    rng: np.random.Generator | None = None,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Share of each class in one group with its bootstrap interval. `error` may be None only
    when no issue of the part is model-classified (people labeled them all)."""
    rng = rng or np.random.default_rng(0)
    n_model, n_human = len(part.probabilities), int(part.human.sum())
    if error is None:
        if n_model:
            raise NoErrorRecordError("model-classified issues need the model's error record")
        error = ModelError(tuple(part.classes), np.zeros(0, int), np.zeros((0, len(part.classes))))
    point = _combine(part.human, n_model, prevalence(estimator, error, part.probabilities))
    draws = np.empty((replicates, len(error.classes)))
    resample = _resampler(part.probabilities, estimator) if n_model else None
    for b in range(replicates):
        human = rng.multinomial(n_human, part.human / n_human) if n_human else part.human
        if n_model:
            rows = resample(rng)  # before the error record's: the order of the draws is fixed
            estimate = prevalence(estimator, error.resample(rng), rows)
        else:
            estimate = np.zeros(len(error.classes))
        draws[b] = _combine(human, n_model, estimate)
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail], axis=0)
    return pd.DataFrame(
        {
            "category": list(error.classes),
            "share": point,
            "ci_low": np.minimum(low, point),
            "ci_high": np.maximum(high, point),
            "n": n_human + n_model,
            "n_human": n_human,
            "n_model": n_model,
            "estimator": estimator,
        }
    )


def estimate_shares(
    issues: pd.DataFrame,
    probabilities: pd.DataFrame,
    error: ModelError | None,
    classes: list[str],
    by: str | None = None,
    estimator: str = DEFAULT_ESTIMATOR,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = 0,
) -> pd.DataFrame:
    """Shares of every category, overall or per value of column `by`, with intervals.

    issues: category and category_source per issue_id ('human' counts as labeled; 'classifier'
    issues enter through `probabilities`, issue_id x class); issues with neither are left out
    and counted in no group. classes: the model's classes (error.classes) or, without a model,
    the taxonomy's codes. error: the model's error record, None when people labeled every issue.
    """
    rng = np.random.default_rng(seed)
    classes = list(error.classes) if error is not None else list(classes)
    aligned = probabilities.reindex(columns=classes, fill_value=0.0)
    groups = [("all", issues)] if by is None else list(issues.groupby(by, sort=True))
    frames = []
    for name, group in groups:
        human = group.loc[group["category_source"] == "human", "category"]
        counts = human.value_counts().reindex(classes, fill_value=0).to_numpy(dtype=float)
        model_ids = group.loc[group["category_source"] == "classifier", "issue_id"]
        rows = aligned.reindex(model_ids).dropna().to_numpy()
        if counts.sum() + len(rows) == 0:
            continue
        part = Part(counts, rows, tuple(classes))
        frame = estimate_part(part, error, estimator, replicates, rng)
        frames.append(frame.assign(group=name))
    if not frames:
        return pd.DataFrame(
            columns=["group", "category", "share", "ci_low", "ci_high", "n", "n_human", "n_model"]
        )
    return pd.concat(frames, ignore_index=True)


def interval_coverage(
    error: ModelError,
    estimator: str = DEFAULT_ESTIMATOR,
    trials: int = 30,
    sample_size: int = 250,
    replicates: int = 100,
    seed: int = 0,
) -> float:
    """How often the 95% intervals hold the true shares, measured on held-out labeled issues.

    The out-of-fold record is split in two: one half measures the model's error, the other
    gives samples whose category mix is shifted at random (Dirichlet weights per category), as
    a study's repositories differ from the training labels. Returns the share of (sample,
    category) pairs whose interval holds the sample's true share; about 0.95 is right.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(error.labels))
    half = len(order) // 2
    calibration = ModelError(
        error.classes, error.labels[order[:half]], error.probabilities[order[:half]]
    )
    pool = order[half:]
    k = len(error.classes)
    hits: list[bool] = []
    for _ in range(trials):
        weights = rng.dirichlet(np.full(k, 2.0))[error.labels[pool]]
        sample = rng.choice(pool, sample_size, p=weights / weights.sum())
        truth = np.bincount(error.labels[sample], minlength=k) / sample_size
        part = Part(np.zeros(k), error.probabilities[sample], error.classes)
        table = estimate_part(part, calibration, estimator, replicates, rng)
        hits += list((table["ci_low"] - 1e-9 <= truth) & (truth <= table["ci_high"] + 1e-9))
    return float(np.mean(hits))
