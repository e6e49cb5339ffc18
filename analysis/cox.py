"""Cox proportional-hazards regression with Efron's ties, in whole-array numpy.

lifelines' `CoxPHFitter` walks the rows one by one in Python on every Newton step when times
rarely tie (its "single" mode): seconds per model of the 34,177 Makkouk et al. bugs, most of
the time `mlissues figures` spent on statistics. The same partial likelihood, written with
reverse cumulative sums over the time-sorted rows, takes milliseconds (benchmarks/cox_fits.py
times both). It keeps lifelines' definitions: Efron's approximation for tied times, Wald z
and intervals from the inverse information, and the Grambsch–Therneau check of proportional
hazards on scaled Schoenfeld residuals against the rank of event times
(`proportional_hazard_test(..., "rank")`), so the numbers are lifelines' to the convergence
tolerance (tests/test_cox.py fits both).

lifelines stays the reference and does the rest (Kaplan–Meier, log-rank); its refusals are kept
too: `CoxFitError` where lifelines warns of a covariate without variance, or where Newton's
method does not converge (complete separation drives a coefficient to infinity).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines.exceptions import ConvergenceWarning
from lifelines.utils import check_low_var
from scipy import stats as scipy_stats

MAX_STEPS = 50
# Newton's method converges quadratically near the optimum: stop when a step would move no
# coefficient (on the standardized scale) by more than STEP_TOLERANCE, or when the last step
# changed the log-likelihood by less than its rounding noise (sums of n terms: about n·1e-16
# of its size), where the gradient is noise and further steps wander.
STEP_TOLERANCE = 1e-9
NOISE = 1e-12


class CoxFitError(ValueError):
    """The model cannot be fitted: separation, collinearity or no convergence."""


@dataclass(frozen=True)
class CoxFit:
    """A fitted model: per covariate (in `names` order) the coefficient, its standard error,
    and the proportional-hazards check (chi-square statistic with 1 dof, nan when undefined)."""

    names: list[str]
    coef: np.ndarray
    se: np.ndarray
    ph_statistic: np.ndarray

    def summary(self, alpha: float) -> pd.DataFrame:
        """lifelines' summary columns: coef, exp(coef), se, z, p and the Wald interval."""
        z = self.coef / self.se
        quantile = scipy_stats.norm.ppf(1 - alpha / 2)
        level = round(100 * (1 - alpha))
        return pd.DataFrame(
            {
                "coef": self.coef,
                "exp(coef)": np.exp(self.coef),
                "se(coef)": self.se,
                "z": z,
                "p": 2 * scipy_stats.norm.sf(np.abs(z)),
                f"exp(coef) lower {level}%": np.exp(self.coef - quantile * self.se),
                f"exp(coef) upper {level}%": np.exp(self.coef + quantile * self.se),
            },
            index=pd.Index(self.names, name="covariate"),
        )

    def ph_p_values(self) -> np.ndarray:
        return scipy_stats.chi2.sf(self.ph_statistic, 1)


@dataclass(frozen=True)
class _Sorted:
    """Rows sorted by (time, event), as lifelines sorts them. `x` is covariate-major (p × n,
    each covariate contiguous), so that the running sums below read memory in order, and
    `x_dead` its event columns, taken once rather than at every Newton step. Per event:
    `start` the first row of its time (where its risk set begins), `tied` how many events
    share its time, `fraction` Efron's share of the tied events taken off its risk set (its
    place among them over `tied`) and `group` the index of its time among the event times;
    `first` is each event time's first event (events are in time order)."""

    x: np.ndarray
    x_dead: np.ndarray
    event: np.ndarray
    start: np.ndarray
    tied: np.ndarray
    fraction: np.ndarray
    group: np.ndarray
    first: np.ndarray


def _sort(durations: np.ndarray, events: np.ndarray, x: np.ndarray) -> _Sorted:
    rows = np.lexsort((events, durations))  # stable, like pandas' sort on two columns
    durations, events = durations[rows], events[rows]
    new_time = np.r_[True, durations[1:] != durations[:-1]]
    first_row = np.maximum.accumulate(np.where(new_time, np.arange(len(durations)), 0))
    dead = np.flatnonzero(events)
    start = first_row[dead]
    group = np.r_[0, np.cumsum(start[1:] != start[:-1])]
    tied = np.bincount(group)[group]
    first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    order = np.arange(len(dead)) - first[group]
    x = np.ascontiguousarray(x[rows].T)
    return _Sorted(x, x[:, events], events, start, tied, order / tied, group, first)


def _sum_by_time(data: _Sorted, per_event: np.ndarray) -> np.ndarray:
    """Per event time, the sum over the events tied there (last axis)."""
    return np.add.reduceat(per_event, data.first, axis=-1)


def _efron_sums(data: _Sorted, risk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per event (last axis), Efron's risk-set sums of r and r·x (r = exp(x·beta)): the risk
    set at its time minus Efron's fraction of the events tied with it."""

    def efron(per_row: np.ndarray) -> np.ndarray:
        at_risk = np.cumsum(per_row[..., ::-1], axis=-1)[..., ::-1][..., data.start]
        tied_sum = _sum_by_time(data, per_row[..., data.event])
        return at_risk - data.fraction * tied_sum[..., data.group]

    return efron(risk), efron(risk * data.x)


def _second_moment(data: _Sorted, risk: np.ndarray, s0: np.ndarray) -> np.ndarray:
    """The sum over events of Efron's risk-set sum of r·x·xᵀ divided by that event's s0,
    without the n × p × p array of every row's r·x·xᵀ (2 GB for a million issues and 15
    categories): a row enters each risk set that starts at or before it, so its weight is the
    running sum of 1/s0 over those events; the tied events' share comes off with weight
    fraction/s0 summed over their time."""
    x, x_dead = data.x, data.x_dead
    weight = np.cumsum(np.bincount(data.start, weights=1 / s0, minlength=x.shape[1])) * risk
    tied_weight = _sum_by_time(data, data.fraction / s0)[data.group]
    dead_weight = tied_weight * risk[data.event]
    return (x * weight) @ x.T - (x_dead * dead_weight) @ x_dead.T


def _derivatives(data: _Sorted, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Log partial likelihood, its gradient and its Hessian at beta."""
    risk = np.exp(beta @ data.x)
    s0, s1 = _efron_sums(data, risk)
    x_dead = data.x_dead
    mean = s1 / s0
    log_likelihood = float((beta @ x_dead).sum() - np.log(s0).sum())
    gradient = (x_dead - mean).sum(axis=1)
    hessian = mean @ mean.T - _second_moment(data, risk, s0)
    return log_likelihood, gradient, hessian


def _newton(data: _Sorted) -> tuple[np.ndarray, np.ndarray]:
    """The maximum partial-likelihood coefficients and the Hessian there; step halving keeps
    every step uphill."""
    beta = np.zeros(data.x.shape[0])
    log_likelihood, gradient, hessian = _derivatives(data, beta)
    for _ in range(MAX_STEPS):
        try:
            step = np.linalg.solve(-hessian, gradient)
        except np.linalg.LinAlgError:
            raise CoxFitError("the information matrix is singular (collinear covariates)") from None
        if not np.all(np.isfinite(step)):
            raise CoxFitError("the Newton step is not finite")
        if np.max(np.abs(step)) < STEP_TOLERANCE:
            return beta, hessian
        noise = NOISE * abs(log_likelihood)
        for _halving in range(30):
            candidate = _derivatives(data, beta + step)
            if np.isfinite(candidate[0]) and candidate[0] >= log_likelihood - noise:
                break
            step = step / 2
        else:
            raise CoxFitError("no step increases the partial likelihood")
        _refuse_separation(log_likelihood, candidate[0], step)
        beta = beta + step
        improved = candidate[0] - log_likelihood
        log_likelihood, gradient, hessian = candidate
        if abs(improved) <= noise:
            return beta, hessian
    raise CoxFitError(f"Newton-Raphson did not converge in {MAX_STEPS} steps")


def _refuse_separation(before: float, after: float, step: np.ndarray) -> None:
    """lifelines' signs of complete separation: large steps that no longer raise the likelihood,
    or a likelihood near its ceiling of 0 with a coefficient still running off. Here the
    optimum lies at infinity: the gradient vanishes in floating point and a fit would seem to
    converge on a meaningless ratio."""
    largest = float(np.max(np.abs(step)))
    stalled = abs(after - before) < 1e-9 * abs(before) and largest > 0.1
    if stalled or (abs(after) < 1e-4 and largest > 1.0):
        raise CoxFitError("complete separation: a covariate's coefficient runs off to infinity")


def _schoenfeld_check(data: _Sorted, beta: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """Grambsch–Therneau statistic per covariate: scaled Schoenfeld residuals against the rank
    of the event times, lifelines' approximation (one chi-square with 1 dof each)."""
    s0, s1 = _efron_sums(data, np.exp(beta @ data.x))
    # One mean per event time: the average of Efron's means over the events tied there.
    per_time = _sum_by_time(data, s1 / s0 / data.tied)
    residuals = (data.x_dead - per_time[:, data.group]).T
    deaths = len(residuals)
    scaled = deaths * residuals @ covariance
    rank = np.arange(1, deaths + 1, dtype=float)
    centred = rank - rank.mean()
    variance = np.diag(covariance)
    return (centred @ scaled) ** 2 / (deaths * variance * (centred**2).sum())


def _refuse_low_variance(covariates: pd.DataFrame) -> None:
    """lifelines' check before a fit: a covariate whose variance is below 1e-4 (constant, or
    nearly) cannot be estimated; lifelines warns, and a warned fit is refused here."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            check_low_var(covariates)
        except ConvergenceWarning as warning:
            raise CoxFitError(str(warning).strip().splitlines()[0]) from None


def fit(durations: pd.Series, events: pd.Series, covariates: pd.DataFrame) -> CoxFit:
    """Fit the Cox model of (durations, events) on the covariates (numeric, no missing)."""
    time = np.asarray(durations, dtype=float)
    event = np.asarray(events, dtype=bool)
    values = np.asarray(covariates, dtype=float)
    if not (np.isfinite(time).all() and np.isfinite(values).all()):
        raise CoxFitError("a duration or covariate is missing or infinite")
    if not event.any():
        raise CoxFitError("no event: the partial likelihood is empty")
    _refuse_low_variance(covariates)
    # lifelines' scaling: centred and divided by the sample standard deviation, which keeps
    # exp(x·beta) in range; coefficients and covariance are scaled back below.
    mean, scale = values.mean(axis=0), values.std(axis=0, ddof=1)
    data = _sort(time, event, (values - mean) / scale)
    beta, hessian = _newton(data)
    try:
        covariance = np.linalg.inv(-hessian)
    except np.linalg.LinAlgError:
        raise CoxFitError("the information matrix is singular (collinear covariates)") from None
    with np.errstate(divide="ignore", invalid="ignore"):
        check = _schoenfeld_check(data, beta, covariance)
    return CoxFit(
        names=[str(name) for name in covariates.columns],
        coef=beta / scale,
        se=np.sqrt(np.diag(covariance)) / scale,
        ph_statistic=check,
    )
