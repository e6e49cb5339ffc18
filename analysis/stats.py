"""The study's statistics, each a thin wrapper over the library that computes it.

Wilson intervals (statsmodels), chi-square and Cramér's V (scipy), Kaplan–Meier and log-rank
(lifelines), Cox proportional hazards (analysis/cox.py: lifelines' model in whole-array numpy),
Kruskal–Wallis, Spearman, Mann–Whitney, the bootstrap and the binomial test (scipy), Dunn's
post-hoc test (scikit-posthocs), Mann–Kendall (pymannkendall) and multiple-comparison correction
(statsmodels). Computed here: the Gini coefficient and the top-k share (one line each), epsilon²
(H / (n - 1)), the Fisher-z interval of Spearman's rho, Cliff's delta (from a rank sum), the
Cox–Stuart pairing, and the bootstrap distributions of Cramér's V, epsilon² and Cliff's delta
from counts of scipy's own resamples (`bootstrap_counts`: the same intervals as
scipy.stats.bootstrap, in bounded memory).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pymannkendall
import scikit_posthocs
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import median_survival_times
from scipy import stats as scipy_stats
from scipy.stats.contingency import association, expected_freq
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from analysis import cox

ALPHA = 0.05
# statsmodels' names of the corrections a report may use, with how captions spell them.
CORRECTIONS = {"holm": "Holm", "fdr_bh": "Benjamini–Hochberg"}
# Percentile bootstrap: BCa would need a jackknife over every issue (15k fits). A fixed seed
# gives the same interval for the same data, so reports stay byte-identical.
BOOTSTRAP_RESAMPLES = 500
BOOTSTRAP_SEED = 20_240_601
PH_CHECK = "Schoenfeld residuals test of proportional hazards (rank of time)"


class NotEnoughDataError(ValueError):
    """A test needs more groups, categories or observations than the data has."""


@dataclass(frozen=True)
class StatResult:
    """A test statistic with its p-value; `effect` is the effect size when the test has one,
    with its 95% interval (effect_low, effect_high) when one is known.

    `quantity` and `group` say what was compared across what (set by results.Result.test);
    `p_adjusted` is the p-value after the report-wide `correction` (results.study_results).
    `assumption` checks an assumption of the test itself (proportional hazards for a Cox
    model): reported beside it, never part of the correction.
    """

    test: str
    statistic: float
    p_value: float
    n: int
    dof: float | None = None
    effect: float | None = None
    effect_name: str | None = None
    effect_low: float | None = None
    effect_high: float | None = None
    quantity: str = ""
    group: str = ""
    p_adjusted: float | None = None
    correction: str | None = None
    assumption: StatResult | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def adjust(p_values: Sequence[float], method: str = "holm") -> np.ndarray:
    """p-values adjusted for multiple comparisons (statsmodels `multipletests`; `method` is
    one of CORRECTIONS). Missing p-values stay missing and do not count as comparisons."""
    if method not in CORRECTIONS:
        raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}, not {method!r}")
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    known = np.isfinite(p)
    if known.any():
        adjusted[known] = multipletests(p[known], alpha=ALPHA, method=method)[1]
    return adjusted


def _finite(interval) -> tuple[float | None, float | None]:
    low, high = interval
    if not (np.isfinite(low) and np.isfinite(high)):
        return None, None
    return float(low), float(high)


# Resampled rows are counted this many resamples at a time: scipy.stats.bootstrap holds every
# resample of every observation at once (500 copies of a million-issue column: gigabytes).
RESAMPLE_CHUNK = 20


def bootstrap_counts(
    codes: Sequence[np.ndarray],
    size: int,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    batch: int | None = None,
) -> list[np.ndarray]:
    """Per sample, how often each code (an integer below `size`) occurs in each of `resamples`
    bootstrap resamples: a (resamples, size) array each.

    The resamples are exactly the ones scipy.stats.bootstrap draws with
    `rng=np.random.default_rng(seed)` and `batch` (the same calls, in the same order: per
    batch, each sample's indices in turn), so a statistic computed from these counts gives
    scipy's bootstrap distribution, in memory that does not grow with the number of
    resamples. Only statistics of the values' counts (ranks, contingency tables) can use it.
    """
    rng = np.random.default_rng(seed)
    counts = [np.zeros((resamples, size), dtype=np.int64) for _ in codes]
    batch = batch or resamples
    for start in range(0, resamples, batch):
        stop = min(start + batch, resamples)
        for sample, total in zip(codes, counts, strict=True):
            # Drawing a batch's rows in chunks draws the same numbers as in one call.
            for first in range(start, stop, RESAMPLE_CHUNK):
                rows = min(RESAMPLE_CHUNK, stop - first)
                drawn = sample[rng.integers(0, len(sample), (rows, len(sample)))]
                drawn += (np.arange(rows) * size)[:, None]
                tally = np.bincount(drawn.ravel(), minlength=rows * size)
                total[first : first + rows] = tally.reshape(rows, size)
    return counts


def percentile_interval(
    samples: Sequence[np.ndarray], distribution: np.ndarray, confidence: float = 0.95
) -> tuple[float | None, float | None]:
    """scipy.stats.bootstrap's percentile interval of a bootstrap `distribution` computed
    elsewhere (bootstrap_counts): scipy computes it, so it is the interval scipy gives."""
    with warnings.catch_warnings():
        # A resample without variation has no statistic; scipy says so with a warning.
        warnings.simplefilter("ignore", scipy_stats.DegenerateDataWarning)
        result = scipy_stats.bootstrap(
            tuple(samples),
            np.mean,  # not called: there is nothing left to resample
            n_resamples=0,
            bootstrap_result=SimpleNamespace(bootstrap_distribution=distribution),
            confidence_level=confidence,
            method="percentile",
        )
    return _finite(result.confidence_interval)


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
    """Chi-square test of independence of a contingency table, with Cramér's V and its
    bootstrap interval.

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
    # A paired bootstrap of (row, column) observations is a bootstrap of their cells.
    cells = np.repeat(np.arange(observed.size), observed.ravel().astype(int))
    (counts,) = bootstrap_counts([cells], observed.size)
    low, high = percentile_interval([cells], _cramers_v(counts, observed.shape))
    return StatResult(
        test="chi-square independence",
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
        n=int(observed.sum()),
        dof=float(result.dof),
        effect=float(association(observed, method="cramer", correction=False)),
        effect_name="Cramér's V",
        effect_low=low,
        effect_high=high,
    )


def _cramers_v(counts: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Cramér's V of each resample's contingency table (a row of cell counts) at once:
    chi-square from its observed and expected counts (zero cells of a resample add nothing)."""
    n_rows, n_columns = shape
    tables = counts.reshape(-1, n_rows, n_columns).astype(float)
    n = tables.sum(axis=(1, 2))
    expected = tables.sum(axis=2)[:, :, None] * tables.sum(axis=1)[:, None, :]
    expected /= n[:, None, None]
    squares = np.divide(
        (tables - expected) ** 2, expected, out=np.zeros_like(tables), where=expected > 0
    )
    chi2 = squares.sum(axis=(1, 2))
    return np.sqrt(chi2 / (n * (min(shape) - 1)))


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


def median_interval(fitter: KaplanMeierFitter) -> tuple[float, float]:
    """The 95% interval of the Kaplan–Meier median: where the pointwise bands of the curve
    cross one half (lifelines `median_survival_times`); inf where a band never does."""
    bounds = median_survival_times(fitter.confidence_interval_).iloc[0]
    return float(bounds.iloc[0]), float(bounds.iloc[1])


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


def _cox(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, StatResult]]:
    """Cox proportional-hazards fit of `duration` and `event` on every other column of frame:
    lifelines' summary columns (one row per covariate) and each covariate's check of
    proportional hazards (analysis/cox.py)."""
    covariates = frame.drop(columns=["duration", "event"])
    try:
        fitted = cox.fit(frame["duration"], frame["event"], covariates)
    except cox.CoxFitError as error:
        raise NotEnoughDataError(f"the Cox model does not converge ({error})") from None
    return fitted.summary(ALPHA), _proportional_hazards(fitted, len(frame))


def _proportional_hazards(fitted: cox.CoxFit, n: int) -> dict[str, StatResult]:
    """Per covariate, the Grambsch–Therneau test of its scaled Schoenfeld residuals against the
    rank of time. A small p says the hazard ratio drifts over time, so that one ratio
    summarises it poorly: read the Kaplan–Meier curves instead. Left out where undefined."""
    checks = zip(fitted.names, fitted.ph_statistic, fitted.ph_p_values(), strict=True)
    return {
        name: StatResult(test=PH_CHECK, statistic=float(statistic), p_value=float(p), n=n, dof=1.0)
        for name, statistic, p in checks
        if np.isfinite(p)
    }


def _hazard_ratio(row: pd.Series, n: int, effect_name: str, check: StatResult | None) -> StatResult:
    return StatResult(
        test="Cox proportional hazards (Wald)",
        statistic=float(row["z"]),
        p_value=float(row["p"]),
        n=n,
        effect=float(row["exp(coef)"]),
        effect_name=effect_name,
        effect_low=float(row["exp(coef) lower 95%"]),
        effect_high=float(row["exp(coef) upper 95%"]),
        assumption=check,
    )


def hazard_ratios(
    durations: pd.Series, observed: pd.Series, groups: pd.Series, baseline: str
) -> dict[str, StatResult]:
    """Per group other than `baseline`, its hazard ratio of closing against the baseline, from
    one Cox model on all groups (above 1: closes faster). n counts the two groups compared."""
    levels = [g for g in sorted(groups.unique()) if g != baseline]
    if baseline not in set(groups) or not levels:
        raise NotEnoughDataError("hazard ratios need the baseline and at least one other group")
    closes = observed.groupby(groups).sum()
    if (closes == 0).any():
        never = ", ".join(str(g) for g in closes[closes == 0].index)
        raise NotEnoughDataError(f"no issue of {never} closed: its hazard ratio is undefined")
    # Positional covariate names: lifelines parses column names, and groups are free text.
    dummies = {f"g{i}": (groups == level).astype(float) for i, level in enumerate(levels)}
    frame = pd.DataFrame({"duration": durations, "event": observed.astype(bool), **dummies})
    summary, checks = _cox(frame)
    sizes = groups.value_counts()
    return {
        level: _hazard_ratio(
            summary.loc[f"g{i}"],
            int(sizes[level] + sizes[baseline]),
            f"hazard ratio vs {baseline}",
            checks.get(f"g{i}"),
        )
        for i, level in enumerate(levels)
    }


def hazard_ratio(
    durations: pd.Series, observed: pd.Series, covariate: pd.Series, effect_name: str
) -> StatResult:
    """The hazard ratio of closing per unit of one covariate (Cox proportional hazards)."""
    frame = pd.DataFrame({"duration": durations, "event": observed.astype(bool), "x": covariate})
    frame = frame.dropna()
    if len(frame) < 3 or frame["x"].nunique() < 2 or not frame["event"].any():
        raise NotEnoughDataError("a Cox model needs closed issues and a covariate that varies")
    summary, checks = _cox(frame)
    return _hazard_ratio(summary.loc["x"], len(frame), effect_name, checks.get("x"))


def kruskal(values: pd.Series, groups: pd.Series) -> StatResult:
    """Kruskal–Wallis H test that the groups' values come from the same distribution, with
    epsilon² and its bootstrap interval."""
    samples = [s for s in _groups(values, groups) if len(s)]
    if len(samples) < 2:
        raise NotEnoughDataError("a Kruskal–Wallis test needs at least 2 non-empty groups")
    if np.unique(np.concatenate(samples)).size < 2:
        raise NotEnoughDataError("Kruskal–Wallis is undefined when every value is the same")
    result = scipy_stats.kruskal(*samples)
    n = sum(len(s) for s in samples)
    low, high = _epsilon_squared_interval(samples)
    return StatResult(
        test="Kruskal–Wallis",
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
        n=n,
        dof=float(len(samples) - 1),
        effect=float(result.statistic) / (n - 1),
        effect_name="epsilon²",
        effect_low=low,
        effect_high=high,
    )


def _epsilon_squared_interval(samples: list[np.ndarray]) -> tuple[float | None, float | None]:
    """The percentile-bootstrap interval of epsilon², H / (n - 1) (Tomczak & Tomczak 2014),
    each group resampled within itself: H of each resample from its counts of each value."""
    distinct, codes = np.unique(np.concatenate(samples), return_inverse=True)
    parts = np.split(codes, np.cumsum([len(s) for s in samples])[:-1])
    counts = bootstrap_counts(parts, len(distinct))
    return percentile_interval(samples, _epsilon_squared(counts, [len(s) for s in samples]))


def _epsilon_squared(counts: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    """Epsilon² of each resample, from each group's counts of each value (value order): the
    numbers scipy.stats.kruskal computes from the resampled values, in the same operations.
    Rank sums are sums of half-integers below 2^53, so they are exact in any order."""
    total = sum(counts)
    start = np.cumsum(total, axis=1) - total  # sorted position of each value's first copy
    ranks = (start + 1).astype(float) + (total.astype(float) - 1) / 2  # average ranks
    n = sum(sizes)
    ssbn = sum(
        (part * ranks).sum(axis=1) ** 2 / size for part, size in zip(counts, sizes, strict=True)
    )
    h = 12.0 / (n * (n + 1)) * ssbn - 3 * (n + 1)
    with np.errstate(divide="ignore", invalid="ignore"):  # a resample of one value has no H
        return h / _tie_correction(total, start, n) / (n - 1)


def _tie_correction(total: np.ndarray, start: np.ndarray, n: int) -> np.ndarray:
    """scipy's tie correction of each resample, 1 - sum(t^3 - t) / (n^3 - n), summed over
    the same array scipy sums (each tie count at its first sorted position, zeros elsewhere),
    so that the floating-point sum is the same; RESAMPLE_CHUNK resamples at a time."""
    correction = np.empty(len(total))
    for first in range(0, len(total), RESAMPLE_CHUNK):
        part = slice(first, first + RESAMPLE_CHUNK)
        rows, values = np.nonzero(total[part])
        ties = np.zeros((len(total[part]), n))
        ties[rows, start[part][rows, values]] = total[part][rows, values]
        correction[part] = 1 - np.sum(ties**3 - ties, axis=-1) / (n**3 - n)
    return correction


def dunn(values: pd.Series, groups: pd.Series, order: Sequence[str]) -> pd.DataFrame:
    """Dunn's pairwise post-hoc test (scikit-posthocs), Holm-adjusted within the family of
    pairs: one row per pair of groups in `order`, with both medians."""
    frame = pd.DataFrame({"value": values.to_numpy(float), "group": groups.to_numpy()})
    matrix = scikit_posthocs.posthoc_dunn(frame, "value", "group", p_adjust="holm")
    medians = frame.groupby("group")["value"].median()
    rows = [
        {
            "group_a": a,
            "group_b": b,
            "median_a": medians[a],
            "median_b": medians[b],
            "p_holm": float(matrix.loc[a, b]),
        }
        for i, a in enumerate(order)
        for b in order[i + 1 :]
    ]
    return pd.DataFrame(rows, columns=["group_a", "group_b", "median_a", "median_b", "p_holm"])


def spearman(x: pd.Series, y: pd.Series) -> StatResult:
    """Spearman rank correlation of two paired series (pairs with a missing value dropped),
    with the 95% interval of rho from Fisher's z and Bonett & Wright's (2000) standard error,
    sqrt((1 + rho² / 2) / (n - 3)): a bootstrap would re-rank every resample, minutes for
    the 34k-issue study."""
    pairs = pd.concat([x, y], axis=1).dropna()
    if len(pairs) < 4 or pairs.nunique().min() < 2:
        raise NotEnoughDataError("a Spearman correlation needs 4 pairs that vary")
    result = scipy_stats.spearmanr(pairs.iloc[:, 0], pairs.iloc[:, 1])
    rho, n = float(result.statistic), len(pairs)
    spread = scipy_stats.norm.ppf(0.975) * np.sqrt((1 + rho**2 / 2) / (n - 3))
    centre = np.arctanh(np.clip(rho, -0.999999, 0.999999))
    return StatResult(
        test="Spearman",
        statistic=rho,
        p_value=float(result.pvalue),
        n=n,
        effect=rho,
        effect_name="rho",
        effect_low=float(np.tanh(centre - spread)),
        effect_high=float(np.tanh(centre + spread)),
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
# at each month's start) are strongly autocorrelated, which inflates its significance; the
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
    summary, checks = _cox(frame)
    ratio = _hazard_ratio(summary.loc["exposed"], len(frame), "hazard ratio", checks.get("exposed"))
    shallow = {f.name: getattr(ratio, f.name) for f in fields(ratio)}  # keeps `assumption`
    return IntervalResult(**shallow, ci_low=ratio.effect_low, ci_high=ratio.effect_high)


def _cliffs_delta(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    """P(a > b) - P(a < b) from the rank sum of `a` (ties count half), along `axis`."""
    ranks = scipy_stats.rankdata(np.concatenate([a, b], axis=axis), axis=axis)
    n_a, n_b = a.shape[axis], b.shape[axis]
    u_a = np.take(ranks, np.arange(n_a), axis=axis).sum(axis=axis) - n_a * (n_a + 1) / 2
    return 2 * u_a / (n_a * n_b) - 1


def _cliffs_delta_of_counts(in_a: np.ndarray, in_b: np.ndarray) -> np.ndarray:
    """Cliff's delta of each resample from its counts of each value (value order): U of `a`
    counts the b values below each a value, ties half. The halves and counts are exact, so
    this is the number `_cliffs_delta` computes from the resampled values' ranks."""
    below = np.cumsum(in_b, axis=1) - in_b
    u_a = (in_a * (below + in_b / 2)).sum(axis=1)
    n_a, n_b = int(in_a[0].sum()), int(in_b[0].sum())
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
    distinct, codes = np.unique(np.concatenate([x, y]), return_inverse=True)
    in_x, in_y = bootstrap_counts(
        [codes[: len(x)], codes[len(x) :]], len(distinct), resamples, seed, batch=50
    )
    low, high = percentile_interval([x, y], _cliffs_delta_of_counts(in_x, in_y), 1 - ALPHA)
    return IntervalResult(
        test="Mann–Whitney U",
        statistic=float(test.statistic),
        p_value=float(test.pvalue),
        n=len(x) + len(y),
        effect=float(_cliffs_delta(x, y)),
        effect_name="Cliff's delta",
        effect_low=low,
        effect_high=high,
        ci_low=low,
        ci_high=high,
    )


def bootstrap_wald(
    difference: np.ndarray,
    draws: np.ndarray,
    effect: Callable[[np.ndarray], np.ndarray],
    effect_name: str,
    n: int,
    effect_interval: bool = True,
) -> StatResult:
    """Wald test that a vector of differences is zero, with its covariance estimated from
    bootstrap replicates of it (`draws`, B replicates x k): W = dᵀ S⁺ d over the p = rank(S)
    directions the bootstrap varies (a share that is 0 in every replicate, or a constraint
    such as shares summing to one, leaves the pseudo-inverse). S is itself estimated from B
    replicates, so W is referred to Hotelling's distribution, p(B-1)/(B-p) F(p, B-p), rather
    than chi-square(p), which rejects too often when p is large next to B.

    `effect` turns differences (along the last axis) into the effect size reported, with the
    percentile interval of its replicates unless `effect_interval` is False (for an effect that
    cannot go below zero, such as a distance, whose replicates sit above a small true value:
    their percentile interval would exclude the estimate itself).
    """
    difference = np.atleast_1d(np.asarray(difference, float))
    draws = np.asarray(draws, float).reshape(len(draws), -1)
    if len(draws) < 2:
        raise NotEnoughDataError("a bootstrap Wald test needs at least 2 replicates")
    values, vectors = np.linalg.eigh(np.atleast_2d(np.cov(draws, rowvar=False)))
    kept = values > max(values.max(), 0) * 1e-9
    if not kept.any():
        raise NotEnoughDataError("the bootstrap replicates do not vary")
    projected = vectors[:, kept].T @ difference
    statistic = float(np.sum(projected**2 / values[kept]))
    dof, replicates = int(kept.sum()), len(draws)
    if replicates <= dof:
        raise NotEnoughDataError(f"{dof} directions need more than {replicates} replicates")
    scaled = statistic * (replicates - dof) / (dof * (replicates - 1))
    low, high = np.quantile(effect(draws), [ALPHA / 2, 1 - ALPHA / 2])
    if not effect_interval:
        low = high = None
    return StatResult(
        test="bootstrap Wald (Hotelling)",
        statistic=statistic,
        p_value=float(scipy_stats.f.sf(scaled, dof, replicates - dof)),
        n=n,
        dof=float(dof),
        effect=float(effect(difference[None, :])[0]),
        effect_name=effect_name,
        effect_low=None if low is None else float(low),
        effect_high=None if high is None else float(high),
    )
