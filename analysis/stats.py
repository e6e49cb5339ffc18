"""The study's statistics, each a thin wrapper over the library that computes it.

Wilson intervals (statsmodels), chi-square and Cramér's V (scipy), Kaplan–Meier, log-rank and
Cox models (lifelines), Kruskal–Wallis, Spearman, Mann–Whitney, the bootstrap and the binomial
test (scipy), Mann–Kendall (pymannkendall). Only the Gini coefficient, the top-k share, Cliff's
delta (from a rank sum) and the Cox–Stuart pairing are computed here: each is a few lines.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import pymannkendall
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import median_survival_times
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


# Mann–Kendall assumes independent points. Monthly shares of a slowly changing stock (bugs open
# at each month's end) are strongly autocorrelated, which inflates its significance; the
# Hamed–Rao and Yue–Wang variants correct the variance for that.
MANN_KENDALL_VARIANTS = {
    None: ("Mann–Kendall", pymannkendall.original_test),
    "hamed_rao": ("Mann–Kendall, Hamed–Rao correction", pymannkendall.hamed_rao_modification_test),
    "yue_wang": ("Mann–Kendall, Yue–Wang correction", pymannkendall.yue_wang_modification_test),
}


def mann_kendall(series: pd.Series, correction: str | None = None) -> StatResult:
    """Mann–Kendall trend test of a time-ordered series, with Sen's slope as the effect.

    correction: None, or 'hamed_rao' / 'yue_wang' for autocorrelated series.
    """
    values = series.dropna().to_numpy(float)
    if len(values) < 4 or np.unique(values).size < 2:
        raise NotEnoughDataError("a Mann–Kendall test needs at least 4 points that vary")
    name, test = MANN_KENDALL_VARIANTS[correction]
    result = test(values)
    return StatResult(
        test=f"{name} ({result.trend})",
        statistic=float(result.Tau),
        p_value=float(result.p),
        n=len(values),
        effect=float(result.slope),
        effect_name="Sen's slope per month",
    )


# --- tests of the replication of published studies -----------------------------------------


@dataclass(frozen=True)
class IntervalResult(StatResult):
    """A StatResult whose effect comes with its (1 - ALPHA) confidence interval."""

    ci_low: float | None = None
    ci_high: float | None = None


def cox_stuart(series: pd.Series) -> StatResult:
    """One-sided Cox–Stuart sign test for an increasing trend in a time-ordered series.

    The middle value of an odd-length series is dropped; each value of the first half is
    paired with the value half a series later; tied pairs are dropped; the number of increases
    among the n untied pairs (the result's `n`) is tested against Binomial(n, 1/2), upper tail
    (as R's randtests::cox.stuart.test with alternative "right.sided"). Missing values are
    dropped first. Values equal up to floating-point rounding count as ties: a share of 3/10
    and one of 6/20 are the same share even when their floats differ in the last bit.
    """
    values = series.dropna().to_numpy(float)
    if len(values) % 2:
        values = np.delete(values, len(values) // 2)
    half = len(values) // 2
    first, second = values[:half], values[half:]
    untied = ~np.isclose(second, first, rtol=1e-12, atol=0.0)
    increases = int(np.sum(second[untied] > first[untied]))
    pairs = int(untied.sum())
    if pairs == 0:
        raise NotEnoughDataError("a Cox–Stuart test needs at least one pair of unequal values")
    p_value = scipy_stats.binomtest(increases, pairs, 0.5, alternative="greater").pvalue
    return StatResult(
        test="Cox–Stuart (one-sided, increasing)",
        statistic=float(increases),
        p_value=float(p_value),
        n=pairs,
        effect=increases / pairs,
        effect_name="share of untied pairs increasing",
    )


def median_time_ci(fitter: KaplanMeierFitter) -> tuple[float, float]:
    """The (1 - ALPHA) confidence interval of the Kaplan–Meier median (inf when unreached)."""
    interval = median_survival_times(fitter.confidence_interval_)
    return float(interval.iloc[0, 0]), float(interval.iloc[0, 1])


def cox_hazard_ratio(durations: pd.Series, observed: pd.Series, exposed: pd.Series) -> StatResult:
    """Cox proportional-hazards model of one binary covariate: its hazard ratio with CI.

    A hazard ratio above 1 means the exposed group's event (e.g. a fix) comes sooner.
    """
    frame = pd.DataFrame(
        {
            "duration": durations.to_numpy(float),
            "event": observed.to_numpy(bool),
            "exposed": exposed.to_numpy(float),
        }
    )
    if frame["exposed"].nunique() < 2 or not frame["event"].any():
        raise NotEnoughDataError("a Cox model needs both groups and at least one event")
    fitter = CoxPHFitter(alpha=ALPHA).fit(frame, "duration", "event")
    row = fitter.summary.loc["exposed"]
    low, high = (float(np.exp(v)) for v in fitter.confidence_intervals_.loc["exposed"])
    return IntervalResult(
        test="Cox proportional hazards (Wald)",
        statistic=float(row["z"]),
        p_value=float(row["p"]),
        n=len(frame),
        effect=float(row["exp(coef)"]),
        effect_name="hazard ratio",
        ci_low=low,
        ci_high=high,
    )


def _cliffs_delta(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    """P(a > b) - P(a < b) from the rank sum of `a` (ties count half), along `axis`."""
    ranks = scipy_stats.rankdata(np.concatenate([a, b], axis=axis), axis=axis)
    n_a, n_b = a.shape[axis], b.shape[axis]
    u_a = np.take(ranks, np.arange(n_a), axis=axis).sum(axis=axis) - n_a * (n_a + 1) / 2
    return 2 * u_a / (n_a * n_b) - 1


def mann_whitney(
    a: pd.Series, b: pd.Series, resamples: int = 1000, seed: int = 0
) -> IntervalResult:
    """Two-sided Mann–Whitney U test of a vs b, with Cliff's delta and its bootstrap CI.

    Cliff's delta is P(a > b) - P(a < b): positive when a tends to be larger. Its interval is
    the percentile bootstrap, each group resampled on its own, with a fixed seed so the same
    data give the same interval.
    """
    x, y = a.dropna().to_numpy(float), b.dropna().to_numpy(float)
    if len(x) < 2 or len(y) < 2 or np.unique(np.concatenate([x, y])).size < 2:
        raise NotEnoughDataError("a Mann–Whitney test needs 2 values per group that vary")
    test = scipy_stats.mannwhitneyu(x, y, alternative="two-sided")
    interval = scipy_stats.bootstrap(
        (x, y),
        _cliffs_delta,
        n_resamples=resamples,
        vectorized=True,
        batch=50,
        confidence_level=1 - ALPHA,
        method="percentile",
        rng=np.random.default_rng(seed),
    ).confidence_interval
    return IntervalResult(
        test="Mann–Whitney U",
        statistic=float(test.statistic),
        p_value=float(test.pvalue),
        n=len(x) + len(y),
        effect=float(_cliffs_delta(x, y)),
        effect_name="Cliff's delta",
        ci_low=float(interval.low),
        ci_high=float(interval.high),
    )
