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


# draws one bootstrap replicate of a part's model-classified probabilities
Resampler = Callable[[np.random.Generator], np.ndarray]


def _resampler(probabilities: np.ndarray, estimator: str) -> Resampler:
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


def _known_error(parts: list[Part], error: ModelError | None) -> ModelError:
    """The model's error; without one (people labeled every issue) an empty record."""
    if error is not None:
        return error
    if any(len(part.probabilities) for part in parts):
        raise NoErrorRecordError("model-classified issues need the model's error record")
    classes = tuple(parts[0].classes)
    return ModelError(classes, np.zeros(0, int), np.zeros((0, len(classes))))


def _part_resampler(part: Part, estimator: str) -> Resampler | None:
    """The resampler of a part's model-classified issues (None without any)."""
    return _resampler(part.probabilities, estimator) if len(part.probabilities) else None


def _resample(part: Part, rng: np.random.Generator, resample: Resampler | None):
    """One bootstrap replicate of a part's issues: its human counts (multinomial) and the
    model-classified issues' probabilities (None without any). The human counts are drawn
    first: the order of the draws is fixed, so the intervals stay reproducible."""
    n_human = int(part.human.sum())
    human = rng.multinomial(n_human, part.human / n_human) if n_human else part.human
    return human, (resample(rng) if resample is not None else None)


def _shares(
    part: Part, human: np.ndarray, rows: np.ndarray | None, error: ModelError, estimator: str
) -> np.ndarray:
    """The part's shares from (resampled) human counts and model probabilities."""
    estimate = np.zeros(len(error.classes)) if rows is None else prevalence(estimator, error, rows)
    return _combine(human, len(part.probabilities), estimate)


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
    error = _known_error([part], error)
    point = _shares(part, part.human, part.probabilities, error, estimator)
    draws = np.empty((replicates, len(error.classes)))
    resample = _part_resampler(part, estimator)
    for b in range(replicates):
        human, rows = _resample(part, rng, resample)
        draws[b] = _shares(part, human, rows, error.resample(rng) if n_model else error, estimator)
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
    frames = [
        estimate_part(part, error, estimator, replicates, rng).assign(group=name)
        for name, part in parts(issues, probabilities, error, classes, by).items()
    ]
    if not frames:
        return pd.DataFrame(
            columns=["group", "category", "share", "ci_low", "ci_high", "n", "n_human", "n_model"]
        )
    return pd.concat(frames, ignore_index=True)


def parts(
    issues: pd.DataFrame,
    probabilities: pd.DataFrame,
    error: ModelError | None,
    classes: list[str],
    by: str | None = None,
) -> dict[str, Part]:
    """The issues of each value of `by` (or 'all') as a Part: human category counts and the
    model's probabilities (see estimate_shares); values without such issues left out."""
    classes = list(error.classes) if error is not None else list(classes)
    aligned = probabilities.reindex(columns=classes, fill_value=0.0)
    groups = [("all", issues)] if by is None else list(issues.groupby(by, sort=True))
    found = {}
    for name, group in groups:
        human = group.loc[group["category_source"] == "human", "category"]
        counts = human.value_counts().reindex(classes, fill_value=0).to_numpy(dtype=float)
        model_ids = group.loc[group["category_source"] == "classifier", "issue_id"]
        rows = aligned.reindex(model_ids).dropna().to_numpy()
        if counts.sum() + len(rows):
            found[str(name)] = Part(counts, rows, tuple(classes))
    return found


def joint_draws(
    groups: dict[str, Part],
    error: ModelError | None,
    estimator: str = DEFAULT_ESTIMATOR,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Point shares (groups x classes) and bootstrap replicates (replicates x groups x classes)
    of several groups at once, to compare them.

    Each replicate resamples every group's issues, and the record of the model's error once
    for all groups: every group's estimate is corrected with that one measurement, so its
    uncertainty moves them together, which resampling it per group would ignore.
    """
    rng = np.random.default_rng(seed)
    listed = list(groups.values())
    error = _known_error(listed, error)
    points = np.array([_shares(p, p.human, p.probabilities, error, estimator) for p in listed])
    draws = np.empty((replicates, len(listed), len(error.classes)))
    resamplers = [_part_resampler(part, estimator) for part in listed]
    for b in range(replicates):
        resampled = [_resample(p, rng, r) for p, r in zip(listed, resamplers, strict=True)]
        shared = error.resample(rng)
        for g, (part, (human, rows)) in enumerate(zip(listed, resampled, strict=True)):
            draws[b, g] = _shares(part, human, rows, shared, estimator)
    return points, draws


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
