"""analysis/cox.py against lifelines, the library whose model it re-computes in whole arrays."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning
from lifelines.statistics import proportional_hazard_test

from analysis import cox


def _lifelines(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    # A tight tolerance: lifelines' default stops about 1e-7 from the optimum.
    fitter = CoxPHFitter(alpha=0.05).fit(
        frame, "duration", "event", fit_options={"precision": 1e-12, "r_precision": 1e-14}
    )
    return fitter.summary, proportional_hazard_test(fitter, frame, time_transform="rank").summary


def _frame(rng, n: int, tied: bool) -> pd.DataFrame:
    group = rng.integers(0, 3, n)
    size = rng.normal(size=n)
    durations = rng.exponential(np.exp(-0.5 * (group == 1) + 0.3 * size) * 20)
    if tied:
        durations = np.ceil(durations)  # whole days: many closes share a time
    return pd.DataFrame(
        {
            "duration": np.minimum(durations, 40.0),  # censored at the end of collection
            "event": durations < 40,
            "g1": (group == 1).astype(float),
            "g2": (group == 2).astype(float),
            "size": size,
        }
    )


@pytest.mark.parametrize(
    ("n", "tied"),
    [(800, False), (800, True), (40, True)],
    ids=["distinct times", "tied times", "small sample"],
)
def test_fit_equals_lifelines_coefficients_intervals_and_ph_checks(n, tied):
    frame = _frame(np.random.default_rng(7), n, tied)
    expected, expected_checks = _lifelines(frame)
    fitted = cox.fit(frame["duration"], frame["event"], frame[["g1", "g2", "size"]])
    summary = fitted.summary(0.05)
    for column in ("coef", "se(coef)", "z", "p", "exp(coef) lower 95%", "exp(coef) upper 95%"):
        assert summary[column].to_numpy() == pytest.approx(expected[column].to_numpy(), rel=1e-6)
    assert fitted.ph_statistic == pytest.approx(expected_checks["test_statistic"], rel=1e-6)
    assert fitted.ph_p_values() == pytest.approx(expected_checks["p"], rel=1e-6)
    assert summary.index.tolist() == ["g1", "g2", "size"]


def test_fit_recovers_a_known_hazard_ratio():
    rng = np.random.default_rng(3)
    exposed = rng.integers(0, 2, 20_000).astype(float)
    durations = rng.exponential(1 / np.where(exposed == 1, 2.0, 1.0))  # twice the hazard
    fitted = cox.fit(pd.Series(durations), pd.Series(durations < 5), pd.DataFrame({"x": exposed}))
    low, high = fitted.summary(0.05)[["exp(coef) lower 95%", "exp(coef) upper 95%"]].iloc[0]
    assert low < 2.0 < high and high - low < 0.12


def test_refusals():
    durations = pd.Series([1.0, 2, 3, 4, 5, 6])
    events = pd.Series([True, True, False, True, True, False])
    with pytest.raises(cox.CoxFitError, match="low variance"):
        cox.fit(durations, events, pd.DataFrame({"x": [1.0] * 6}))
    with pytest.raises(cox.CoxFitError, match="missing or infinite"):
        cox.fit(durations.replace(3, np.nan), events, pd.DataFrame({"x": [0.0, 1, 0, 1, 0, 1]}))
    with pytest.raises(cox.CoxFitError, match="no event"):
        cox.fit(durations, events & False, pd.DataFrame({"x": [0.0, 1, 0, 1, 0, 1]}))
    # Every exposed row ends before every other: complete separation, no finite optimum.
    with pytest.raises(cox.CoxFitError, match="complete separation"):
        cox.fit(durations, pd.Series([True] * 6), pd.DataFrame({"x": [1.0, 1, 1, 0, 0, 0]}))
    with pytest.raises(cox.CoxFitError, match="singular"):
        x = np.array([0.0, 1, 0, 1, 1, 0])
        cox.fit(durations, events, pd.DataFrame({"x": x, "same": x}))


def test_fit_equals_lifelines_on_random_designs():
    """Twenty random designs (sizes, covariates, ties, censoring, effects): wherever lifelines
    fits without a warning, the two fits agree."""
    rng = np.random.default_rng(11)
    compared = 0
    for _ in range(20):
        n, p = int(rng.integers(30, 300)), int(rng.integers(1, 4))
        x = (rng.random((n, p)) < rng.uniform(0.1, 0.5, p)).astype(float)
        durations = rng.exponential(np.exp(-x @ rng.normal(0, 0.7, p))) * 10
        if rng.random() < 0.5:
            durations = np.ceil(durations)
        names = [f"x{i}" for i in range(p)]
        frame = pd.DataFrame(x, columns=names).assign(
            duration=durations, event=rng.random(n) < rng.uniform(0.3, 1.0)
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", ConvergenceWarning)
                expected, checks = _lifelines(frame)
        except (ConvergenceWarning, ConvergenceError):
            continue
        fitted = cox.fit(frame["duration"], frame["event"], frame[names])
        assert fitted.summary(0.05)["coef"].to_numpy() == pytest.approx(expected["coef"], rel=1e-5)
        assert fitted.se == pytest.approx(expected["se(coef)"].to_numpy(), rel=1e-5)
        assert fitted.ph_statistic == pytest.approx(checks["test_statistic"], rel=1e-4)
        compared += 1
    assert compared >= 15
