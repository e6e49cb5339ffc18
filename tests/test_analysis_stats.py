"""Each statistic against a case computed by hand and against the library it wraps."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test
from scipy import stats as scipy_stats

from analysis import stats


def test_wilson_interval_of_3_in_10():
    # Hand: centre (0.3 + z²/20) / (1 + z²/10), half-width z·sqrt(0.021 + z²/400) / (1 + z²/10).
    table = stats.proportions(pd.Series({"a": 3, "b": 7}))
    assert table.loc["a", "share"] == pytest.approx(0.3)
    assert table.loc["a", "ci_low"] == pytest.approx(0.1078, abs=1e-4)
    assert table.loc["a", "ci_high"] == pytest.approx(0.6032, abs=1e-4)


def test_rates_are_per_row():
    table = stats.rates(pd.Series([3, 0]), pd.Series([10, 4]))
    assert list(table["share"]) == [0.3, 0.0]
    assert table.loc[1, "ci_low"] == 0 and table.loc[1, "ci_high"] == pytest.approx(
        0.4899, abs=1e-4
    )


def test_chi_square_and_cramers_v_by_hand():
    # Expected 15 in every cell: chi² = 4 · 5²/15 = 6.667; V = sqrt(6.667 / 60) = 1/3.
    result = stats.independence_test(pd.DataFrame([[10, 20], [20, 10]]))
    assert result.statistic == pytest.approx(20 / 3)
    assert result.effect == pytest.approx(1 / 3)
    assert result.dof == 1 and result.n == 60
    assert result.p_value == pytest.approx(scipy_stats.chi2.sf(20 / 3, 1))
    # Perfect association: every resample has V = 1, so the bootstrap interval is [1, 1].
    perfect = stats.independence_test(pd.DataFrame([[10, 0], [0, 10]]))
    assert perfect.effect_low == pytest.approx(1) == perfect.effect_high


def test_chi_square_drops_empty_rows_and_refuses_one_category():
    table = pd.DataFrame([[10, 20, 0], [20, 10, 0], [0, 0, 0]])
    assert stats.independence_test(table).statistic == pytest.approx(20 / 3)
    with pytest.raises(stats.NotEnoughDataError):
        stats.independence_test(pd.DataFrame({"only": [3, 4]}))


def test_sparse_cells_by_hand():
    # Expected counts 15 everywhere: none sparse; [[1, 2], [3, 4]]: all expected below 5.
    assert stats.sparse_cells(pd.DataFrame([[10, 20], [20, 10]])) == 0
    assert stats.sparse_cells(pd.DataFrame([[1, 2], [3, 4]])) == 1


def test_kaplan_meier_by_hand_with_censoring():
    # Events at 1, 3, 4; censored at 2. S(1)=3/4, S(3)=3/4·1/2=3/8, S(4)=0; median 3.
    fitter = stats.kaplan_meier(pd.Series([1, 2, 3, 4]), pd.Series([1, 0, 1, 1]), "x")
    survival = fitter.survival_function_["x"]
    assert survival.loc[1] == pytest.approx(0.75)
    assert survival.loc[3] == pytest.approx(0.375)
    assert survival.loc[4] == pytest.approx(0.0)
    assert stats.median_time(fitter) == 3
    library = KaplanMeierFitter().fit([1, 2, 3, 4], [1, 0, 1, 1])
    assert np.allclose(library.survival_function_.to_numpy().ravel(), survival.to_numpy())


def test_logrank_by_hand_and_against_two_sample_test():
    # Group a closes at 1 and 2, b at 3 and 4: O_a - E_a = 2 - 5/6, V = 1/4 + 2/9; chi² = 2.882.
    durations = pd.Series([1, 2, 3, 4])
    groups = pd.Series(["a", "a", "b", "b"])
    result = stats.logrank(durations, groups, pd.Series([1, 1, 1, 1]))
    assert result.statistic == pytest.approx((7 / 6) ** 2 / (1 / 4 + 2 / 9))
    assert result.statistic == pytest.approx(logrank_test([1, 2], [3, 4]).test_statistic)


def test_kruskal_by_hand():
    # Ranks 1-3 and 4-6: H = 12/42 · (6²/3 + 15²/3) - 21 = 3.857.
    result = stats.kruskal(pd.Series([1, 2, 3, 4, 5, 6]), pd.Series(list("aaabbb")))
    assert result.statistic == pytest.approx(27 / 7)
    assert result.p_value == pytest.approx(scipy_stats.kruskal([1, 2, 3], [4, 5, 6]).pvalue)
    assert result.effect == pytest.approx(27 / 7 / 5)
    with pytest.raises(stats.NotEnoughDataError):
        stats.kruskal(pd.Series([1, 1, 1, 1]), pd.Series(list("aabb")))


def test_spearman_by_hand():
    # d = (-1, 1, -1, 1, 0): rho = 1 - 6·4 / (5·24) = 0.8.
    result = stats.spearman(pd.Series([1, 2, 3, 4, 5]), pd.Series([2, 1, 4, 3, 5.0]))
    assert result.statistic == pytest.approx(0.8)
    assert result.n == 5
    # Fisher z: atanh(0.8) ± 1.96 · sqrt((1 + 0.8²/2) / 2), back through tanh.
    spread = scipy_stats.norm.ppf(0.975) * math.sqrt(1.32 / 2)
    assert result.effect_low == pytest.approx(math.tanh(math.atanh(0.8) - spread))
    assert result.effect_high == pytest.approx(math.tanh(math.atanh(0.8) + spread))
    assert (result.effect_low, result.effect_high) == pytest.approx((-0.457, 0.991), abs=1e-3)
    with_missing = stats.spearman(pd.Series([1, 2, 3, 4, 5, 6]), pd.Series([2, 1, 4, 3, 5, None]))
    assert with_missing.statistic == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([1, 1, 1, 1], 0.0), ([0, 0, 0, 1], 0.75), ([1, 2, 3, 4], 0.25), ([5], 0.0)],
)
def test_gini_by_hand(values, expected):
    assert stats.gini(values) == pytest.approx(expected)


def test_gini_matches_mean_absolute_difference_definition():
    x = np.random.default_rng(0).integers(0, 50, 200).astype(float)
    definition = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())
    assert stats.gini(x) == pytest.approx(definition)
    assert math.isnan(stats.gini([]))


def test_top_k_share():
    assert stats.top_k_share([1, 3, 5, 1], 1) == 0.5
    assert stats.top_k_share([1, 3, 5, 1], 2) == 0.8


def test_mann_kendall_by_hand():
    # 1..5: S = 10, var = 5·4·15/18, Z = (S - 1)/sqrt(var) = 2.2045, p = 0.0275; Sen slope 1.
    result = stats.mann_kendall(pd.Series([1, 2, 3, 4, 5.0]))
    assert result.statistic == pytest.approx(1.0)
    assert result.p_value == pytest.approx(2 * scipy_stats.norm.sf(9 / math.sqrt(50 / 3)))
    assert result.p_value == pytest.approx(0.0275, abs=1e-4)
    assert result.effect == pytest.approx(1.0)
    with pytest.raises(stats.NotEnoughDataError):
        stats.mann_kendall(pd.Series([2.0, 2, 2, 2, 2]))


def test_holm_and_benjamini_hochberg_by_hand():
    # Holm: sorted 0.01·3, 0.03·2, 0.04·1 -> running max 0.03, 0.06, 0.06.
    # BH: 0.01·3/1, 0.03·3/2, 0.04·3/3 -> running min from the top 0.03, 0.04, 0.04.
    p = [0.01, 0.04, 0.03, float("nan")]
    assert stats.adjust(p, "holm")[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert stats.adjust(p, "fdr_bh")[:3] == pytest.approx([0.03, 0.04, 0.04])
    assert math.isnan(stats.adjust(p)[3])  # a missing p-value is no comparison
    with pytest.raises(ValueError, match="correction must be one of holm, fdr_bh"):
        stats.adjust(p, "bonferroni")


def test_effect_intervals_hold_the_estimate_and_repeat():
    rng = np.random.default_rng(1)
    groups = pd.Series(np.repeat(list("abc"), 40))
    values = pd.Series(rng.poisson(3, 120) + (groups == "a") * 2)
    other = values + rng.normal(0, 2, 120)
    computed = [
        stats.kruskal(values, groups),
        stats.spearman(values, other),
        stats.independence_test(pd.crosstab(groups, values > 3)),
    ]
    for result in computed:
        assert result.effect_low <= result.effect <= result.effect_high, result.test
    assert computed[0] == stats.kruskal(values, groups)  # a fixed seed: the same interval


def test_kaplan_meier_median_interval():
    # Twenty closes at days 1..20: S(10) = 0.5, S(11) = 0.45; the median is where S first
    # falls below one half.
    fitter = stats.kaplan_meier(pd.Series(range(1, 21)), pd.Series([1] * 20), "x")
    low, high = stats.median_interval(fitter)
    assert low < stats.median_time(fitter) == 11 < high
    # One close among four: the median, and the upper bound, are never reached.
    never = stats.kaplan_meier(pd.Series([1, 2, 3, 4]), pd.Series([1, 0, 0, 0]), "y")
    assert stats.median_time(never) == math.inf and stats.median_interval(never)[1] == math.inf


def test_hazard_ratios_against_a_baseline():
    durations = pd.Series([1, 2, 3, 4, 5, 2, 4, 6, 8, 10.0])
    groups = pd.Series(list("aaaaabbbbb"))
    closed = pd.Series([1, 1, 1, 1, 1, 1, 1, 1, 1, 0])
    ratio = stats.hazard_ratios(durations, closed, groups, "a")["b"]
    assert ratio.effect < 1  # b closes later than a
    assert ratio.effect_low <= ratio.effect <= ratio.effect_high
    assert (ratio.n, ratio.effect_name) == (10, "hazard ratio vs a")
    with pytest.raises(stats.NotEnoughDataError, match="no issue of b closed"):
        stats.hazard_ratios(durations, closed.where(groups == "a", 0), groups, "a")


def test_dunn_by_hand():
    # Ranks 1-3, 4-6, 7-9: mean ranks 2, 5, 8; SE = sqrt(9·10/12 · 2/3) = sqrt(5).
    # z = 3/√5 (a-b, b-c) and 6/√5 (a-c); Holm over the three two-sided p-values.
    table = stats.dunn(pd.Series(range(1, 10)), pd.Series(list("aaabbbccc")), ["a", "b", "c"])
    raw = [2 * scipy_stats.norm.sf(z / math.sqrt(5)) for z in (3, 6, 3)]
    holm = [max(raw[0] * 2, raw[1] * 3), raw[1] * 3, max(raw[0] * 2, raw[1] * 3)]
    assert table[["group_a", "group_b"]].values.tolist() == [["a", "b"], ["a", "c"], ["b", "c"]]
    assert table["p_holm"].tolist() == pytest.approx(holm)


def test_bootstrap_wald_of_one_difference_is_a_t_test_on_the_bootstrap_variance():
    draws = np.random.default_rng(0).normal(0, 0.1, (200, 1))
    test = stats.bootstrap_wald(np.array([0.2]), draws, lambda d: d[..., 0], "difference", 50)
    wald = 0.2**2 / draws.var(ddof=1)
    assert (test.statistic, test.dof, test.n) == (pytest.approx(wald), 1.0, 50)
    # Hotelling with one direction is Student's t with B - 1 degrees of freedom.
    assert test.p_value == pytest.approx(2 * scipy_stats.t.sf(np.sqrt(wald), 199))
    low, high = np.quantile(draws[:, 0], [0.025, 0.975])
    assert (test.effect, test.effect_low, test.effect_high) == pytest.approx((0.2, low, high))


def _survival(shape: float, scale: float, n: int, rng) -> np.ndarray:
    return scale * rng.weibull(shape, n)


def test_cox_hazard_ratios_carry_a_proportional_hazards_check():
    rng = np.random.default_rng(1)
    n = 300
    proportional = np.concatenate([_survival(1, 1, n, rng), _survival(1, 0.5, n, rng)])
    crossing = np.concatenate([_survival(1, 1, n, rng), _survival(4, 1.2, n, rng)])
    groups = pd.Series(["a"] * n + ["b"] * n)
    closed = pd.Series([True] * (2 * n))
    checks = {
        name: stats.hazard_ratios(pd.Series(times), closed, groups, "a")["b"].assumption
        for name, times in (("proportional", proportional), ("crossing", crossing))
    }
    assert checks["proportional"].test == stats.PH_CHECK
    assert checks["proportional"].p_value > 0.05
    assert checks["crossing"].p_value < 0.001  # the hazards cross: one ratio cannot hold
