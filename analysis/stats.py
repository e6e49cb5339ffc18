"""The study's statistics, each a thin wrapper over the library that computes it.

Wilson intervals (statsmodels), chi-square and Cramér's V (scipy), Kaplan–Meier and log-rank
(lifelines), Kruskal–Wallis and Spearman (scipy), Mann–Kendall (pymannkendall). Only the Gini
coefficient and the top-k share are computed here: each is one line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import pymannkendall
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from scipy import stats as scipy_stats
from scipy.stats.contingency import association, expected_freq
from statsmodels.stats.proportion import proportion_confint

ALPHA = 0.05


class NotEnoughDataError(ValueError):
    """A test needs more groups, categories or observations than the data has."""


@dataclass(frozen=True)
class StatResult:
    """A test statistic with its p-value; `effect` is the effect size when the test has one."""

    test: str
    statistic: float
    p_value: float
    n: int
    dof: float | None = None
    effect: float | None = None
    effect_name: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def proportions(counts: pd.Series, alpha: float = ALPHA) -> pd.DataFrame:
    """Counts with their share of the total and its Wilson (1 - alpha) interval."""
    total = int(counts.sum())
    frame = pd.DataFrame({"count": counts.astype(int)})
    if total == 0:
        return frame.assign(share=np.nan, ci_low=np.nan, ci_high=np.nan)
    low, high = proportion_confint(frame["count"], total, alpha=alpha, method="wilson")
    return frame.assign(share=frame["count"] / total, ci_low=low, ci_high=high)


def rates(successes: pd.Series, trials: pd.Series, alpha: float = ALPHA) -> pd.DataFrame:
    """Per row, successes out of trials with the Wilson (1 - alpha) interval of the rate."""
    frame = pd.DataFrame({"successes": successes.astype(int), "n": trials.astype(int)})
    low, high = proportion_confint(frame["successes"], frame["n"], alpha=alpha, method="wilson")
    return frame.assign(share=frame["successes"] / frame["n"], ci_low=low, ci_high=high)


def independence_test(table: pd.DataFrame) -> StatResult:
    """Chi-square test of independence of a contingency table, with Cramér's V.

    No Yates correction, so that the statistic and Cramér's V agree for 2 x 2 tables too.
    Rows or columns that are all zero are dropped first.
    """
    table = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]
    if min(table.shape) < 2:
        raise NotEnoughDataError(
            f"a chi-square test needs at least 2 groups and 2 categories, got {table.shape}"
        )
    observed = table.to_numpy()
    result = scipy_stats.chi2_contingency(observed, correction=False)
    return StatResult(
        test="chi-square independence",
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
        n=int(observed.sum()),
        dof=float(result.dof),
        effect=float(association(observed, method="cramer", correction=False)),
        effect_name="Cramér's V",
    )


def sparse_cells(table: pd.DataFrame) -> float:
    """Share of cells whose expected count under independence is below 5 (Cochran's rule:
    above 0.2, the chi-square p-value is only approximate)."""
    table = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]
    if table.empty:
        return float("nan")
    return float((expected_freq(table.to_numpy()) < 5).mean())


def kaplan_meier(durations: pd.Series, observed: pd.Series, label: str) -> KaplanMeierFitter:
    """The Kaplan–Meier estimate of time to close; open issues are censored at `durations`."""
    fitter = KaplanMeierFitter(label=label)
    return fitter.fit(durations.to_numpy(float), event_observed=observed.to_numpy(bool))


def median_time(fitter: KaplanMeierFitter) -> float:
    """The median time to close (inf when fewer than half the issues ever close)."""
    return float(fitter.median_survival_time_)


def _groups(values: pd.Series, groups: pd.Series) -> list[np.ndarray]:
    return [values[groups == g].to_numpy(float) for g in sorted(groups.dropna().unique())]


def logrank(durations: pd.Series, groups: pd.Series, observed: pd.Series) -> StatResult:
    """Log-rank test that the time-to-close curves of all groups are equal."""
    if groups.nunique() < 2:
        raise NotEnoughDataError("a log-rank test needs at least 2 groups")
    result = multivariate_logrank_test(durations, groups, observed)
    return StatResult(
        test="log-rank",
        statistic=float(result.test_statistic),
        p_value=float(result.p_value),
        n=len(durations),
        dof=float(result.degrees_of_freedom),
    )


def kruskal(values: pd.Series, groups: pd.Series) -> StatResult:
    """Kruskal–Wallis H test that the groups' values come from the same distribution."""
    samples = [s for s in _groups(values, groups) if len(s)]
    if len(samples) < 2:
        raise NotEnoughDataError("a Kruskal–Wallis test needs at least 2 non-empty groups")
    if np.unique(np.concatenate(samples)).size < 2:
        raise NotEnoughDataError("Kruskal–Wallis is undefined when every value is the same")
    result = scipy_stats.kruskal(*samples)
    n = sum(len(s) for s in samples)
    # Epsilon-squared effect size, H / (n - 1) (Tomczak & Tomczak 2014).
    return StatResult(
        test="Kruskal–Wallis",
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
        n=n,
        dof=float(len(samples) - 1),
        effect=float(result.statistic) / (n - 1),
        effect_name="epsilon²",
    )


def spearman(x: pd.Series, y: pd.Series) -> StatResult:
    """Spearman rank correlation of two paired series (pairs with a missing value dropped)."""
    pairs = pd.concat([x, y], axis=1).dropna()
    if len(pairs) < 3 or pairs.nunique().min() < 2:
        raise NotEnoughDataError("a Spearman correlation needs 3 pairs that vary")
    result = scipy_stats.spearmanr(pairs.iloc[:, 0], pairs.iloc[:, 1])
    return StatResult(
        test="Spearman",
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
        n=len(pairs),
        effect=float(result.statistic),
        effect_name="rho",
    )


def gini(values: pd.Series | np.ndarray) -> float:
    """Gini coefficient of non-negative amounts: 0 when all are equal, (n-1)/n when one has all.

    The sorted-rank form of mean absolute difference / (2 * mean).
    """
    x = np.sort(np.asarray(values, dtype=float))
    if len(x) == 0 or x.sum() == 0:
        return float("nan")
    ranks = np.arange(1, len(x) + 1)
    return float(2 * np.sum(ranks * x) / (len(x) * x.sum()) - (len(x) + 1) / len(x))


def top_k_share(values: pd.Series | np.ndarray, k: int) -> float:
    """The share of the total held by the k largest amounts."""
    x = np.sort(np.asarray(values, dtype=float))[::-1]
    return float(x[:k].sum() / x.sum()) if x.sum() else float("nan")


def mann_kendall(series: pd.Series) -> StatResult:
    """Mann–Kendall trend test of a time-ordered series, with Sen's slope as the effect."""
    values = series.dropna().to_numpy(float)
    if len(values) < 4 or np.unique(values).size < 2:
        raise NotEnoughDataError("a Mann–Kendall test needs at least 4 points that vary")
    result = pymannkendall.original_test(values)
    return StatResult(
        test=f"Mann–Kendall ({result.trend})",
        statistic=float(result.Tau),
        p_value=float(result.p),
        n=len(values),
        effect=float(result.slope),
        effect_name="Sen's slope per month",
    )
