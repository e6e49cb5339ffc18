"""One function per figure of the study; each returns a matplotlib Figure (Agg, house style).

Every function takes the `StudyData` and, optionally, the `Result` computed from it (computed
here when not given), so the notebook can call them one by one and the report all at once.
Each figure's caption names the source of its categories and their counts.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis import results, stats, style
from analysis.queries import StudyData
from analysis.results import Result
from taxonomy import default_taxonomy

MIN_DAYS = 1 / 1440  # one minute: log axes cannot show an issue closed within the minute
NO_CATEGORY = "no issue has a category yet"


def _caption(figure: Figure, data: StudyData, extra: str = "") -> None:
    style.caption(figure, data.source_note() + (f"; {extra}" if extra else ""))


def _test_line(result: Result, name: str) -> str:
    test = result.tests.get(name)
    if test is None:
        return f"{name}: not computed"
    effect = f", {test.effect_name} = {test.effect:.3g}" if test.effect is not None else ""
    return f"{test.test}: {test.statistic:.3g}, {format_p(test.p_value)}{effect}, n = {test.n}"


def format_p(p_value: float) -> str:
    """APA style: exact above 0.001, else a bound (a p of 0.0 is only a float underflow)."""
    return f"p = {p_value:.2g}" if p_value >= 0.001 else "p < 0.001"


# --- RQ1 ------------------------------------------------------------------------------------


@style.styled
def rq1_frequency(data: StudyData, result: Result | None = None) -> Figure:
    """The system-related share per group, and each system category's share of all issues
    (NSR apart, so that it does not squash the rest), with 95% intervals that include the
    classifier's error."""
    result = result or results.frequency(data)
    figure, (system, bars) = style.new_figure(2, width=7.2, height=4.4)
    table = result.tables.get("shares", pd.DataFrame())
    if table.empty:
        message = result.notes[-1] if result.notes else NO_CATEGORY
        style.empty_panel(system, message)
        style.empty_panel(bars, message)
    else:
        nsr = default_taxonomy().default_code
        groups = table if table["group"].nunique() == 1 else table[table["group"] != "all"]
        _share_bars(system, result.tables["system_share"], "group")
        system.set_xlabel("share of issues")
        system.set_title("System-related issues", fontsize=9)
        categories = groups[groups["category"] != nsr]
        _grouped_bars(bars, categories, "category", "group")
        bars.set_xlabel("share of all issues")
        bars.set_title("System-related issues by category", fontsize=9)
    _caption(figure, data, f"shares estimated by {data.estimator}, 95% bootstrap intervals")
    return figure


def _grouped_bars(axis, table: pd.DataFrame, category: str, series: str) -> None:
    """Horizontal bars with CI whiskers: one bar per series within each category."""
    categories = list(dict.fromkeys(table[category]))
    names = sorted(table[series].unique())
    height = 0.8 / len(names)
    positions = np.arange(len(categories))
    for offset, (name, color) in enumerate(zip(names, style.colors(len(names)), strict=True)):
        part = table[table[series] == name].set_index(category).reindex(categories)
        error = _errors(part)
        y = positions + offset * height - 0.4 + height / 2
        axis.barh(y, part["share"], height, xerr=error, color=color, label=name, capsize=1.5)
    axis.set_yticks(positions, categories)
    axis.invert_yaxis()
    axis.legend(loc="upper right")


def _errors(table: pd.DataFrame) -> np.ndarray:
    """Whisker lengths below and above each share (floating-point noise clipped at zero)."""
    below, above = table["share"] - table["ci_low"], table["ci_high"] - table["share"]
    return np.clip(np.vstack([below, above]), 0, None)


def _share_bars(axis, table: pd.DataFrame, key: str) -> None:
    error = _errors(table)
    labels = [f"{k} (n={n})" for k, n in zip(table[key], table["n"], strict=True)]
    axis.barh(labels, table["share"], xerr=error, color=style.colors(len(table)), capsize=2)
    axis.set_xlim(0, 1)
    axis.invert_yaxis()


# --- RQ2 ------------------------------------------------------------------------------------


@style.styled
def rq2_time(data: StudyData, result: Result | None = None) -> Figure:
    """Time to close: box plots (log scale) and Kaplan–Meier curves per category and group."""
    result = result or results.time_to_close(data)
    figure, (box, km_category, km_group) = style.new_figure(3, width=13, height=4.6)
    issues = data.categorized
    closed = issues[issues["closed"]]
    order = results.category_order(closed["category"])
    if closed.empty:
        style.empty_panel(box, NO_CATEGORY if issues.empty else "no categorized issue is closed")
    else:
        values = [closed.loc[closed["category"] == c, "time_to_close_days"] for c in order]
        box.boxplot(
            [np.maximum(v, MIN_DAYS) for v in values], orientation="horizontal", showfliers=False
        )
        box.set_yticks(
            range(1, len(order) + 1),
            [f"{c} ({len(v)})" for c, v in zip(order, values, strict=True)],
        )
        box.invert_yaxis()
        box.set_xscale("log")
        box.set_xlabel("days to close (closed issues, log scale)")
        box.set_title(_test_line(result, "time to close by category (closed issues)"), fontsize=8)
    big = results.big_categories(issues) if not issues.empty else []
    _km_panel(km_category, issues, "category", big, result, "survival by category")
    groups = sorted(data.issues["group"].unique())
    _km_panel(km_group, data.issues, "group", groups, result, "survival by group")
    _caption(figure, data, "open issues censored at the last time stored for their repository")
    return figure


def _km_panel(axis, issues, by: str, keys: list, result: Result, test_name: str) -> None:
    if not keys:
        style.empty_panel(axis, f"no {by} with at least {results.MIN_GROUP_SIZE} issues")
        return
    for key, line_style in zip(keys, style.styles(), strict=False):
        part = issues[issues[by] == key]
        fitter = stats.kaplan_meier(part["duration_days"], part["closed"], f"{key}")
        survival = fitter.survival_function_.iloc[:, 0]
        axis.step(
            np.maximum(survival.index, MIN_DAYS),
            survival,
            where="post",
            label=f"{key} ({len(part)})",
            **line_style,
        )
    axis.set_xscale("log")
    axis.set_ylim(0, 1.02)
    axis.set_xlabel("days since opened (log scale)")
    axis.set_ylabel("share still open (Kaplan–Meier)")
    axis.set_title(_test_line(result, test_name), fontsize=8)
    axis.legend(ncols=2 if len(keys) > 8 else 1, fontsize=7)


# --- RQ3 ------------------------------------------------------------------------------------


@style.styled
def rq3_debate(data: StudyData, result: Result | None = None) -> Figure:
    """Comments and participants per category; comments against time to close."""
    result = result or results.debate(data)
    figure, (comments, scatter, participants) = style.new_figure(3, width=13, height=4.6)
    issues = data.categorized
    _category_boxes(comments, issues, "comments_count", "comments per issue")
    closed = data.issues[data.issues["closed"]]
    if closed.empty:
        style.empty_panel(scatter, "no issue is closed")
    else:
        cells = scatter.hexbin(
            np.maximum(closed["time_to_close_days"], MIN_DAYS),
            closed["comments_count"] + 1,
            xscale="log",
            yscale="log",
            bins="log",
            gridsize=30,
            cmap="cividis",
            mincnt=1,
        )
        figure.colorbar(cells, ax=scatter, label="issues per cell")
        scatter.set_xlabel("days to close (log)")
        scatter.set_ylabel("comments + 1 (log)")
        scatter.set_title(
            _test_line(result, "comments vs time to close (all closed issues)"), fontsize=8
        )
    known = issues[issues["participants"].notna()]
    if not results.participants_known(issues):
        style.empty_panel(participants, "participants unknown: no comment author is stored")
    else:
        _category_boxes(
            participants, known, "participants", "distinct participants (author + commenters)"
        )
    _caption(figure, data)
    return figure


def _category_boxes(axis, issues: pd.DataFrame, column: str, label: str) -> None:
    if issues.empty:
        style.empty_panel(axis, NO_CATEGORY)
        return
    order = results.category_order(issues["category"])
    values = [issues.loc[issues["category"] == c, column] for c in order]
    axis.boxplot(values, orientation="horizontal", showfliers=False)
    axis.set_yticks(
        range(1, len(order) + 1), [f"{c} ({len(v)})" for c, v in zip(order, values, strict=True)]
    )
    axis.invert_yaxis()
    axis.set_xscale("symlog", linthresh=1)
    axis.set_xlim(left=0)
    axis.set_xlabel(label)


# --- RQ4 ------------------------------------------------------------------------------------


@style.styled
def rq4_people(data: StudyData, result: Result | None = None) -> Figure:
    """Gini coefficient and top-k share of people per category and role; members' share."""
    result = result or results.specialization(data)
    figure, (gini, top, members) = style.new_figure(3, width=13, height=4.6)
    table = result.tables["concentration"]
    top_column = f"top{results.TOP_K}_share"
    if table.empty:
        style.empty_panel(gini, NO_CATEGORY)
        style.empty_panel(top, NO_CATEGORY)
    else:
        _role_bars(gini, table, "gini", "Gini coefficient of issues per person")
        _role_bars(top, table, top_column, f"share of issues of the top {results.TOP_K} people")
    authors = result.tables["member_authors"]
    if authors.empty:
        style.empty_panel(members, "author associations unknown")
    else:
        _share_bars(members, authors, "category")
        members.set_xlabel("share of issues opened by members (95% Wilson CI)")
    _caption(figure, data, "people counted once per issue they closed, commented or opened")
    return figure


def _role_bars(axis, table: pd.DataFrame, column: str, label: str) -> None:
    shaped = table.rename(columns={column: "share"}).assign(
        ci_low=lambda t: t["share"], ci_high=lambda t: t["share"]
    )
    _grouped_bars(axis, shaped, "category", "role")
    axis.set_xlim(0, 1)
    axis.set_xlabel(label)


# --- RQ5 ------------------------------------------------------------------------------------


@style.styled
def rq5_trends(data: StudyData, result: Result | None = None) -> Figure:
    """Issues per month per group, per category, and the system-related share per month."""
    result = result or results.trends(data)
    figure, (groups, categories, share) = style.new_figure(3, width=13, height=4.6)
    by_group = result.tables["monthly_by_group"]
    _monthly_lines(groups, by_group, "issues opened per month (all issues)")
    by_category = result.tables["monthly_by_category"]
    if by_category.empty:
        style.empty_panel(categories, NO_CATEGORY)
        style.empty_panel(share, NO_CATEGORY)
    else:
        big = results.big_categories(data.categorized) or list(by_category.columns)
        _monthly_lines(categories, by_category[big], "categorized issues per month")
        monthly = result.tables["monthly_system_share"]
        share.plot(monthly.index.to_timestamp(), monthly["share"], ".-", color=style.OKABE_ITO[0])
        share.set_ylim(0, 1.02)
        share.set_ylabel("system-related share of categorized issues")
        share.set_title(_test_line(result, "system-related share per month"), fontsize=8)
    _caption(figure, data, "Mann–Kendall tests in tables.md")
    return figure


def _monthly_lines(axis, table: pd.DataFrame, label: str) -> None:
    dates = table.index.to_timestamp()
    for column, line_style in zip(table.columns, style.styles(), strict=False):
        axis.plot(
            dates,
            table[column],
            label=f"{column} ({int(table[column].sum())})",
            linewidth=1,
            **line_style,
        )
    axis.set_ylabel(label)
    axis.legend(ncols=2 if len(table.columns) > 8 else 1, fontsize=7)


FIGURES: dict[str, tuple[Callable[[StudyData, Result | None], Figure], Callable]] = {
    "rq1_frequency": (rq1_frequency, results.frequency),
    "rq2_time": (rq2_time, results.time_to_close),
    "rq3_debate": (rq3_debate, results.debate),
    "rq4_people": (rq4_people, results.specialization),
    "rq5_trends": (rq5_trends, results.trends),
}
