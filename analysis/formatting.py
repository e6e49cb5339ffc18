"""How numbers and tests read in tables, captions and notes: one set of rules for all of them.

p-values are APA style ("< 0.001", else three decimals); a missing value is "–", never nan or
None; floating-point noise (1.388e-17) prints as 0; an infinite Kaplan–Meier median is "not
reached" (fewer than half the issues closed before the end of observation).
"""

from __future__ import annotations

import math
from numbers import Number

import pandas as pd

from analysis.stats import CORRECTIONS, StatResult

MISSING = "–"
NOISE = 1e-9  # below this, a float is arithmetic noise around zero
# Columns that hold p-values, and columns where infinity means a median never reached.
P_COLUMNS = frozenset({"p", "p_value", "p_adjusted", "p_holm", "p_adj"})
INFINITE = {"km_median_days": "not reached", "km_median_high": "not reached"}
IDENTIFIERS = frozenset({"number", "issue_id"})  # printed as they are, without separators
# The symbol of each test's statistic (matched on the start of StatResult.test).
SYMBOLS = {
    "log-rank": "χ²",
    "chi-square": "χ²",
    "Kruskal–Wallis": "H",
    "Spearman": "ρ",
    "Cox": "z",
    "Mann–Kendall": "τ",
    "Mann–Whitney": "U",
    "bootstrap Wald": "W",
    "Schoenfeld": "χ²",
}


def format_p(p_value: float | None) -> str:
    """APA style: '< 0.001', else three decimals; '–' when there is none."""
    if p_value is None or not math.isfinite(p_value):
        return MISSING
    return "< 0.001" if p_value < 0.001 else f"{p_value:.3f}"


def p_text(p_value: float, name: str = "p") -> str:
    """'p < 0.001' or 'p = 0.042'."""
    text = format_p(p_value)
    return f"{name} {text}" if text.startswith("<") else f"{name} = {text}"


def format_number(value) -> str:
    """A number as a reader wants it: integers whole, others to three significant digits,
    thousands separated, noise as 0, missing as '–'."""
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return MISSING
    if isinstance(value, bool) or not isinstance(value, Number):
        return str(value)
    value = float(value)
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if abs(value) < NOISE:
        return "0"
    if value.is_integer() or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def format_cell(column: str, value) -> str:
    """A table cell: p-value columns in APA style, unreached medians said in words."""
    if column in P_COLUMNS:
        return format_p(None if pd.isna(value) else float(value))
    if column in IDENTIFIERS:
        return MISSING if pd.isna(value) else str(value)
    if column in INFINITE and isinstance(value, float) and math.isinf(value):
        return INFINITE[column]
    return format_number(value)


def effect_text(test: StatResult) -> str:
    """'epsilon² = 0.030 [0.026, 0.037]' (the 95% interval when known); '' without effect."""
    if test.effect is None:
        return ""
    text = f"{test.effect_name} = {format_number(test.effect)}"
    if test.effect_low is not None and test.effect_high is not None:
        text += f" [{format_number(test.effect_low)}, {format_number(test.effect_high)}]"
    return text


def describe_test(test: StatResult) -> str:
    """One line for a caption: statistic, (adjusted) p, effect with its interval, n; e.g.
    'H(15) = 459, Holm-adjusted p < 0.001, epsilon² = 0.0303 [0.0259, 0.0372], n = 15,183'."""
    symbol = next((s for prefix, s in SYMBOLS.items() if test.test.startswith(prefix)), "")
    dof = f"({format_number(test.dof)})" if test.dof is not None else ""
    parts = [f"{symbol or test.test}{dof} = {format_number(test.statistic)}"]
    if test.p_adjusted is not None:
        parts.append(p_text(test.p_adjusted, f"{CORRECTIONS[test.correction]}-adjusted p"))
    else:
        parts.append(p_text(test.p_value))
    effect = effect_text(test)
    if effect:
        parts.append(effect)
    parts.append(f"n = {format_number(test.n)}")
    return ", ".join(parts)
