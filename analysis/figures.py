"""One function per figure of the study; each returns a matplotlib Figure (Agg, house style).

Every function takes the `StudyData` and, optionally, the `Result` computed from it (computed
here when not given), so the notebook can call them one by one and the report all at once.
Each figure's caption names the source of its categories and their counts.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure

from analysis import groups, results, stats, style
from analysis.formatting import describe_test, format_number
from analysis.queries import StudyData
from analysis.results import Result
from taxonomy import default_taxonomy

MIN_DAYS = 1 / 1440  # one minute: log axes cannot show an issue closed within the minute
NO_CATEGORY = "no issue has a category yet"
ALL_GROUPS = "#999999"  # the bar of every group together
LABELLED_ROW = 0.3  # inches per bar with its label written above it


def _caption(figure: Figure, data: StudyData, extra: str = "") -> None:
    style.caption(figure, data.source_note() + (f"; {extra}" if extra else ""))


# --- RQ1 ------------------------------------------------------------------------------------


@style.styled
def rq1_frequency(data: StudyData, result: Result | None = None) -> Figure:
    """The system-related share per group, and each system category's share of all issues
    (NSR apart, so that it does not squash the rest), with 95% intervals that include the
    classifier's error; one column wide."""
    result = result or results.frequency(data)
    table = result.tables.get("shares", pd.DataFrame())
    panels: list[style.Panel] = []
    if not table.empty:
        per_group = table if table["group"].nunique() == 1 else table[table["group"] != "all"]
        panels = share_panels(result.tables["system_share"], per_group)
    nothing = result.notes[-1] if result.notes else NO_CATEGORY
    parts = [_estimated(data), "NSR apart: the system-related share is every other category"]
    return style.column_figure(panels, nothing, _column_caption(data, parts))


def _estimated(data: StudyData) -> str:
    return (
        f"shares estimated by {data.estimator} (human labels as labeled, the model's issues "
        "corrected for its measured error, none dropped); 95% bootstrap intervals include that "
        "error"
    )


def share_panels(system: pd.DataFrame, shares: pd.DataFrame) -> list[style.Panel]:
    """The system-related share per group, and each system category's share per group (dots
    with 95% whiskers, one row per category with any share): NSR is never drawn beside them."""
    nsr = default_taxonomy().default_code
    categories = shares[shares["category"] != nsr]
    shown = categories.groupby("category", sort=False)["ci_high"].max()
    categories = categories[categories["category"].isin(shown[shown > 0].index)]
    bars_height = 0.6 + LABELLED_ROW * len(system)
    panels: list[style.Panel] = [(bars_height, partial(_system_bars, table=system))]
    if not categories.empty:
        groups = categories["group"].nunique()
        rows = categories["category"].nunique()
        lines = rows + _legend_lines(categories["group"].unique())
        height = 0.75 + lines * max(ROW_HEIGHT, 0.06 * groups)
        panels.append((height, partial(_share_dots, table=categories)))
    return panels


def group_colors(names) -> dict[str, str]:
    """One colour per group, the same in every panel; 'all' (every group together) in grey."""
    named = sorted(str(name) for name in set(names) - {"all"})
    return dict(zip(named, style.colors(len(named)), strict=True)) | {"all": ALL_GROUPS}


def _system_bars(axis, table: pd.DataFrame) -> None:
    """One bar per group, its name and n written above the bar inside the plot: as tick labels,
    long names (owner/repository) would narrow every panel of the column."""
    colors = group_colors(table["group"])
    rows = np.arange(len(table))
    axis.barh(
        rows + 0.2, table["share"], 0.45, xerr=_errors(table), capsize=2,
        color=[colors[str(g)] for g in table["group"]],
    )  # fmt: skip
    at_left = axis.get_yaxis_transform()  # x in axes fractions, y in rows
    for row, (name, n) in enumerate(zip(table["group"], table["n"], strict=True)):
        label = f"{name} (n = {format_number(n)})"
        axis.text(0.005, row - 0.08, label, transform=at_left, fontsize=6, va="bottom")
    axis.set_yticks([])
    axis.set_ylim(len(table) - 0.5, -0.5)
    axis.set_xlim(0, 1)
    axis.set_xlabel("share of issues (95% CI)", fontsize=style.SMALL)
    style.panel_title(axis, "System-related share")


def _share_dots(axis, table: pd.DataFrame) -> None:
    """One row per category, one dot with its 95% whisker per group, offset within the row."""
    categories = list(dict.fromkeys(table["category"]))
    colors = group_colors(table["group"])
    names = sorted(table["group"].unique())
    step = 0.7 / len(names)
    rows = np.arange(len(categories))
    for offset, (name, marker) in enumerate(zip(names, itertools.cycle(style.MARKERS))):
        color = colors[str(name)]
        part = table[table["group"] == name].set_index("category").reindex(categories)
        y = rows - 0.35 + step * (offset + 0.5)
        axis.errorbar(
            part["share"], y, xerr=_errors(part), fmt=marker, color=color, markersize=3,
            elinewidth=0.8, capsize=1.2, label=name,
        )  # fmt: skip
    axis.set_yticks(rows, categories, fontsize=style.SMALL)
    # An empty band above the first category holds the legend, clear of every dot.
    band = _legend_lines(names)
    axis.set_ylim(len(categories) - 0.5, -0.5 - band)
    axis.set_xlim(left=0)
    axis.xaxis.set_major_locator(ticker.MaxNLocator(5))  # tick labels that fit one column
    axis.set_xlabel("share of the group's issues (95% CI)", fontsize=style.SMALL)
    style.panel_title(axis, "System categories by group")
    if band:
        style.legend(axis, loc="upper right", ncols=_legend_columns(names))


def _legend_columns(names) -> int:
    """Legend columns that fit a column-wide panel: fewer for long names."""
    longest = max(len(str(name)) for name in names)
    return 3 if longest <= 12 else 2 if longest <= 24 else 1


def _legend_lines(names) -> int:
    """Lines of a legend of groups (none for a single group)."""
    names = list(names)
    return -(-len(names) // _legend_columns(names)) if len(names) > 1 else 0


def _errors(table: pd.DataFrame) -> np.ndarray:
    """Whisker lengths below and above each share (floating-point noise clipped at zero)."""
    below, above = table["share"] - table["ci_low"], table["ci_high"] - table["share"]
    return np.clip(np.vstack([below, above]), 0, None)


def _share_bars(axis, table: pd.DataFrame, key: str, colors: list[str] | None = None) -> None:
    error = _errors(table)
    labels = _labels(table[key], table.set_index(key)["n"])
    colors = colors or style.colors(len(table))
    axis.barh(labels, table["share"], xerr=error, color=colors, capsize=2)
    axis.set_xlim(0, 1)
    axis.invert_yaxis()


# --- the group contrast (the Ren et al. design) ---------------------------------------------


@style.styled
def groups_contrast(data: StudyData, result: Result | None = None) -> Figure | None:
    """The study's groups compared: system-related share and system categories (estimated),
    the share not yet fixed (or still open) over time, comments per issue, and how specialized
    fixers are; None when the view is skipped (fewer than two groups), with no empty figure."""
    result = _result(data, result, groups.KEY)
    if result.skipped:
        return None
    panels: list[style.Panel] = []
    if "shares" in result.tables:
        panels += share_panels(result.tables["system_share"], result.tables["shares"])
    issues = data.issues[data.issues["study_group"].notna()]
    order = results.study_groups(data)
    event, frame, _ = groups.survival_frame(data, issues)
    timed = frame[frame["duration_days"].notna()]
    if timed["closed"].any():
        fixed = event == "fix"
        title = "Share not yet fixed by group" if fixed else "Share still open by group"
        ylabel = "share not yet fixed" if fixed else "share still open"
        panels.append(
            (2.1, partial(_km_panel, issues=timed, by="group", order=order, title=title,
                          ylabel=ylabel))
        )  # fmt: skip
    label = "comments per issue (log scale above 1)"
    panels.append(
        _boxes_panel(issues, order, "comments_count", label, "Comments per issue", "group")
    )
    specialized = result.tables.get("specialization")
    if specialized is not None and specialized[f"fixers_{groups.MIN_FIXES}+"].sum():
        panels.append((_rows_height(len(specialized)), partial(_fixer_dots, table=specialized)))
    return style.column_figure(
        panels, NO_CATEGORY, _column_caption(data, _group_tests(data, result))
    )


def _group_tests(data: StudyData, result: Result) -> list[str]:
    """The caption: how shares were estimated, and every test but the hazard ratios (with
    their proportional-hazards checks, in tables.md)."""
    tests = [
        f"{name}: {describe_test(test)}"
        for name, test in result.tests.items()
        if not (test.effect_name or "").startswith("hazard ratio")
    ]
    return [_estimated(data), *tests, "Cox hazard ratios and every table in tables.md"]


def _fixer_dots(axis, table: pd.DataFrame) -> None:
    """Per group: the mean share of a fixer's system fixes in their main category, and the
    share of all system fixes by the busiest fixers."""
    rows = np.arange(len(table))
    top = f"top{results.TOP_K}_share"
    looks = zip(style.MARKERS, style.OKABE_ITO, strict=False)
    columns = {
        "top_category_share_mean": f"fixer's main category (≥ {groups.MIN_FIXES} fixes)",
        top: f"fixes by the {results.TOP_K} busiest fixers",
    }
    for (column, label), (marker, color) in zip(columns.items(), looks, strict=False):
        axis.plot(table[column], rows, marker, color=color, markersize=3.5, label=label)
    axis.set_yticks(rows, table["group"], fontsize=style.SMALL)
    axis.set_ylim(len(table) - 0.5, -0.5)
    axis.set_xlim(0, 1.02)
    axis.set_xlabel("share of system-related fixes", fontsize=style.SMALL)
    style.panel_title(axis, "Fixers of system-related issues")
    style.legend(axis, loc="best")


# --- column-wide figures (RQ2–RQ5) ---------------------------------------------------------
#
# Each is a stack of panels at single-column width (style.COLUMN_WIDTH). A panel that would be
# empty or trivial is left out, titles say what a panel shows, and the caption carries the
# estimator, n and the tests with their adjusted p-values.

CURVES = 5  # Kaplan–Meier curves per panel: the largest values, the rest pooled into a sixth
ROW_HEIGHT = 0.16  # inches per category row


def _result(data: StudyData, result: Result | None, key: str) -> Result:
    """The given Result, else the report's (p-values adjusted over the whole report)."""
    return result or results.study_results(data)[key]


def _column_caption(data: StudyData, parts: list[str]) -> str:
    return "; ".join([*[p for p in parts if p], data.source_note()]) + "."


def _tested(result: Result, name: str, label: str) -> str:
    """'label: <test line>' for the caption; '' when the test was not computed."""
    test = result.tests.get(name)
    return f"{label}: {describe_test(test)}" if test else ""


def _rows_height(rows: int) -> float:
    return 0.55 + ROW_HEIGHT * max(rows, 3)


def _labels(keys, counts) -> list[str]:
    return [f"{key} ({format_number(counts[key])})" for key in keys]


# --- RQ2 ------------------------------------------------------------------------------------


@style.styled
def rq2_time(data: StudyData, result: Result | None = None) -> Figure:
    """Kaplan–Meier median time to close per category with its 95% interval, and the curves
    of the largest categories and of the groups; open issues censored."""
    result = _result(data, result, "rq2_time")
    timed = results.timed_issues(data)
    categorized = timed[timed["category_source"] != "none"]
    table = result.tables["per_category"]
    panels: list[style.Panel] = []
    if timed["closed"].any():
        if not table.empty:
            panels.append((_rows_height(len(table)), partial(_medians, table=table)))
        if categorized["category"].nunique() > 1:
            largest, order = _largest(categorized, "category", "categories")
            title = "Share still open: largest categories"
            panels.append(
                (2.1, partial(_km_panel, issues=largest, by="category", order=order, title=title))
            )
        if timed["group"].nunique() > 1:
            order = sorted(timed["group"].unique())
            title = "Share still open by group"
            panels.append(
                (2.1, partial(_km_panel, issues=timed, by="group", order=order, title=title))
            )
    parts = [
        f"Kaplan–Meier estimates over {format_number(len(timed))} issues with a known time",
        data.censoring,
        *_unknown_close(data),
        _tested(result, "time to close by category", "log-rank test across categories"),
        _tested(result, "time to close by group", "across groups"),
        "Cox hazard ratios against NSR and the largest group in tables.md",
    ]
    nothing = NO_CATEGORY if data.categorized.empty else "no issue is closed"
    return style.column_figure(panels, nothing, _column_caption(data, parts))


def _unknown_close(data: StudyData) -> list[str]:
    unknown = int(data.issues["close_time_unknown"].sum())
    return [f"{unknown} closed without a close date left out"] if unknown else []


def _medians(axis, table: pd.DataFrame) -> None:
    """Median days to close with 95% whiskers, one row per category (log scale); a median
    or bound never reached is drawn at the right edge as an arrow."""
    rows = np.arange(len(table))
    reached = np.isfinite(table["km_median_days"])
    right = _right_edge(table)
    median = np.maximum(table["km_median_days"].where(reached, right), MIN_DAYS)
    low = np.maximum(table["km_median_low"].fillna(MIN_DAYS), MIN_DAYS)
    high = table["km_median_high"].where(np.isfinite(table["km_median_high"]), right)
    axis.hlines(rows, low, high, color=style.OKABE_ITO[0], linewidth=1.2)
    axis.plot(median[reached], rows[reached], "o", color=style.OKABE_ITO[0], markersize=3.5)
    axis.plot(median[~reached], rows[~reached], ">", color=style.OKABE_ITO[5], markersize=4)
    timed = table.set_index("category")[["closed", "open_censored"]].sum(axis=1)
    axis.set_yticks(rows, _labels(table["category"], timed), fontsize=style.SMALL)
    axis.set_ylim(len(table) - 0.5, -0.5)
    style.duration_axis(axis, "time to close (log scale): median and 95% CI")
    axis.set_xlim(right=right * 1.5)
    style.panel_title(axis, "Median time to close by category")
    if not reached.all():
        note = {"ha": "right", "va": "bottom", "fontsize": 6, "color": style.OKABE_ITO[5]}
        axis.text(0.99, 0.01, "▶ median not reached", transform=axis.transAxes, **note)


def _right_edge(table: pd.DataFrame) -> float:
    finite = table[["km_median_days", "km_median_high"]].to_numpy(float)
    finite = finite[np.isfinite(finite)]
    return float(finite.max()) * 2 if finite.size else 1.0


def _largest(issues: pd.DataFrame, by: str, plural: str) -> tuple[pd.DataFrame, list[str]]:
    """The CURVES largest values of `by`, the rest pooled into one 'N other <plural>' value."""
    counts = issues[by].value_counts()
    ranked = counts.sort_index().sort_values(ascending=False, kind="stable").index
    keep = list(ranked[:CURVES])
    rest = len(ranked) - len(keep)
    if rest == 0:
        return issues, keep
    other = f"{rest} other {plural}" if rest > 1 else str(ranked[-1])
    pooled = issues.assign(**{by: issues[by].where(issues[by].isin(keep), other)})
    return pooled, [*keep, other]


def _km_panel(
    axis, issues: pd.DataFrame, by: str, order: list, title: str, ylabel: str = "share still open"
) -> None:
    counts = issues[by].value_counts()
    for key, line_style in zip(order, style.styles(), strict=False):
        part = issues[issues[by] == key]
        fitter = stats.kaplan_meier(part["duration_days"], part["closed"], str(key))
        survival = fitter.survival_function_.iloc[:, 0]
        axis.step(
            np.maximum(survival.index, MIN_DAYS),
            survival,
            where="post",
            label=f"{key} ({format_number(counts[key])})",
            linewidth=1,
            **line_style,
        )
    style.duration_axis(axis, "time since opened (log scale)", style.SPAN)
    axis.set_ylim(0, 1.02)
    axis.set_ylabel(ylabel, fontsize=style.SMALL)
    style.panel_title(axis, title)
    style.legend(axis, loc="lower left")


# --- RQ3 ------------------------------------------------------------------------------------


@style.styled
def rq3_debate(data: StudyData, result: Result | None = None) -> Figure:
    """Comments (and participants, where known) per category, and the share of issues still
    open by how much they were discussed."""
    result = _result(data, result, "rq3_debate")
    issues = data.categorized
    order = results.category_order(issues["category"])
    pooled, order = results.pool_small(issues, "category", order)
    panels: list[style.Panel] = []
    if not issues.empty:
        label = "comments per issue (log scale above 1)"
        title = "Comments per issue by category"
        panels.append(_boxes_panel(pooled, order, "comments_count", label, title))
    timed = results.timed_issues(data)
    bands = timed.assign(comments=results.comment_band(timed["comments_count"]))
    counts = bands["comments"].value_counts()
    shown = [b for _, b in results.COMMENT_BANDS if counts.get(b, 0) >= results.MIN_GROUP_SIZE]
    if timed["closed"].any() and len(shown) > 1:
        title = "Share still open by number of comments"
        panels.append(
            (2.1, partial(_km_panel, issues=bands, by="comments", order=shown, title=title))
        )
    if results.participants_known(issues):
        known = pooled[pooled["participants"].notna()]
        present = [c for c in order if c in set(known["category"])]
        title = "Participants per issue by category"
        label = "author + distinct commenters"
        panels.append(_boxes_panel(known, present, "participants", label, title))
    dunn = any(name.startswith("post-hoc") for name in result.tables)
    parts = [
        "boxes: quartiles, whiskers 1.5 IQR, categories under "
        f"{results.MIN_GROUP_SIZE} issues pooled as '{results.OTHER}'",
        _tested(result, "comments per issue by category", "Kruskal–Wallis across categories"),
        "Dunn's pairwise tests in tables.md" if dunn else "",
        f"curves: Kaplan–Meier, {data.censoring}",
        _tested(result, "time to close vs comments", "Cox model of closing on comments"),
        "closed-only Spearman correlations in tables.md",
    ]
    return style.column_figure(panels, NO_CATEGORY, _column_caption(data, parts))


def _boxes_panel(
    issues, order: list, column: str, label: str, title: str, by: str = "category"
) -> style.Panel:
    """A panel of one box per value of `by` (a category), tall enough for its rows."""
    draw = partial(
        _category_boxes, issues=issues, order=order, column=column, label=label, title=title, by=by
    )
    return _rows_height(len(order)), draw


def _category_boxes(
    axis, issues, order: list, column: str, label: str, title: str, by: str = "category"
) -> None:
    values = [issues.loc[issues[by] == c, column].to_numpy(float) for c in order]
    counts = {c: len(v) for c, v in zip(order, values, strict=True)}
    axis.boxplot(
        values,
        orientation="horizontal",
        showfliers=False,
        widths=0.6,
        medianprops={"color": style.OKABE_ITO[5]},
    )
    axis.set_yticks(range(1, len(order) + 1), _labels(order, counts), fontsize=style.SMALL)
    axis.invert_yaxis()
    style.count_axis(axis, label)
    style.panel_title(axis, title)


# --- RQ4 ------------------------------------------------------------------------------------


@style.styled
def rq4_people(data: StudyData, result: Result | None = None) -> Figure:
    """How concentrated each role's issues are among people, per category (Gini and top-k
    share), and members' share of opened issues where author_association is real data."""
    result = _result(data, result, "rq4_people")
    table = result.tables["concentration"]
    top = f"top{results.TOP_K}_share"
    panels: list[style.Panel] = []
    if not table.empty:
        gini = partial(
            _role_dots,
            table=table,
            column="gini",
            label="Gini coefficient of issues per person",
            title="Concentration of issues among people",
        )
        panels.append((_rows_height(table["category"].nunique()), gini))
    # With at most k people, the top k handle everything: a share of 1 that says nothing.
    crowded = table[table["people"] > results.TOP_K] if not table.empty else table
    if not crowded.empty:
        busiest = partial(
            _role_dots,
            table=crowded,
            column=top,
            label=f"share of issues of the top {results.TOP_K} people",
            title=f"Share handled by the {results.TOP_K} busiest people",
        )
        panels.append((_rows_height(crowded["category"].nunique()), busiest))
    authors = result.tables.get("member_authors", pd.DataFrame())
    if not authors.empty:
        panels.append((_rows_height(len(authors)), partial(_members, authors=authors)))
    parts = [
        "people counted once per issue they opened, closed or commented on",
        f"role and category pairs known for fewer than {results.MIN_GROUP_SIZE} issues left out",
        f"top-{results.TOP_K} shares only where more than {results.TOP_K} people take part",
        _tested(result, "member authors by category", "chi-square of members by category"),
        "" if not authors.empty else "members' share not shown: author_association unknown",
    ]
    return style.column_figure(panels, NO_CATEGORY, _column_caption(data, parts))


def _role_dots(axis, table: pd.DataFrame, column: str, label: str, title: str) -> None:
    """One row per category, one marker per role: a dot plot, readable at column width."""
    categories = [c for c in table["category"].unique() if c != results.OTHER]
    categories = results.category_order(pd.Series(categories))
    categories += [results.OTHER] if results.OTHER in set(table["category"]) else []
    rows = {c: i for i, c in enumerate(categories)}
    for role, marker, color in zip(results.ROLES, style.MARKERS, style.OKABE_ITO, strict=False):
        part = table[table["role"] == role]
        if part.empty:
            continue  # a role keeps its marker and colour in every panel, present or not
        y = part["category"].map(rows)
        axis.plot(part[column], y, marker, color=color, markersize=3.5, label=role)
    axis.set_yticks(range(len(categories)), categories, fontsize=style.SMALL)
    axis.set_ylim(len(categories) - 0.5, -0.5)
    axis.set_xlim(0, 1)
    axis.set_xlabel(label, fontsize=style.SMALL)
    style.panel_title(axis, title)
    style.legend(axis, loc="best")


def _members(axis, authors: pd.DataFrame) -> None:
    _share_bars(axis, authors, "category")
    axis.set_xlabel("share opened by members (95% Wilson CI)", fontsize=style.SMALL)
    axis.tick_params(labelsize=style.SMALL)
    style.panel_title(axis, "Issues opened by members by category")


# --- RQ5 ------------------------------------------------------------------------------------


@style.styled
def rq5_trends(data: StudyData, result: Result | None = None) -> Figure:
    """Issues opened per month per group and for the largest system categories, and the
    system-related share of categorized issues per month."""
    result = _result(data, result, "rq5_trends")
    by_group = result.tables["monthly_by_group"]
    by_category = result.tables["monthly_by_category"]
    panels: list[style.Panel] = []
    if not by_group.empty:
        lines = partial(_monthly_lines, table=by_group, title="Issues opened per month by group")
        panels.append((_lines_height(by_group), lines))
    system = _largest_system(by_category)
    if system:
        title = f"Issues per month, {len(system)} largest system categories"
        lines = partial(_monthly_lines, table=by_category[system], title=title)
        panels.append((_lines_height(by_category[system]), lines))
    monthly = result.tables.get("monthly_system_share")
    # A trend needs points: fewer than Mann–Kendall's four months is a panel of dots.
    if monthly is not None and monthly["share"].notna().sum() >= 4:
        panels.append((1.8, partial(_system_share, monthly=monthly)))
    parts = [
        "months before a repository's first or after its last issue left blank",
        _tested(result, "system-related share per month", "Mann–Kendall trend of the share"),
        "categories with fewer issues than months not drawn",
        "Mann–Kendall tests per group and category in tables.md",
    ]
    return style.column_figure(panels, NO_CATEGORY, _column_caption(data, parts))


def _largest_system(by_category: pd.DataFrame) -> list[str]:
    """The largest system categories worth a monthly line: at least MIN_GROUP_SIZE issues and
    one a month on average, since sparser counts draw as spikes between zeros, not a trend."""
    if by_category.empty:
        return []
    nsr = default_taxonomy().default_code
    totals = by_category.drop(columns=[nsr], errors="ignore").sum()
    totals = totals[(totals >= results.MIN_GROUP_SIZE) & (totals >= len(by_category))]
    return list(totals.sort_index().sort_values(ascending=False, kind="stable").index[:CURVES])


def _lines_height(table: pd.DataFrame) -> float:
    """Room for the plot and its legend (two entries a row, under the plot)."""
    return 1.8 + 0.12 * ((len(table.columns) + 1) // 2)


def _monthly_lines(axis, table: pd.DataFrame, title: str) -> None:
    dates = table.index.to_timestamp()
    for column, line_style in zip(table.columns, style.styles(), strict=False):
        total = format_number(table[column].sum())
        axis.plot(dates, table[column], label=f"{column} ({total})", linewidth=0.9, **line_style)
    axis.set_ylim(bottom=0)
    axis.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    axis.set_ylabel("issues per month", fontsize=style.SMALL)
    style.year_axis(axis)
    style.panel_title(axis, title)
    # Under the plot: series names are long (owner/repository) and the lines fill the plot.
    style.legend(axis, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2)


def _system_share(axis, monthly: pd.DataFrame) -> None:
    dates = monthly.index.to_timestamp()
    line = {"color": style.OKABE_ITO[0], "linewidth": 0.9, "markersize": 2.5}
    axis.plot(dates, monthly["share"], ".-", **line)
    axis.set_xlim(dates.min(), dates.max())  # the same months as the panels above
    axis.set_ylim(0, 1)
    axis.set_ylabel("share of categorized issues", fontsize=style.SMALL)
    style.year_axis(axis)
    style.panel_title(axis, "System-related share per month")


# Drawn in this order; the group contrast opens the report. A figure function returns None for
# a view that is skipped (its note says why).
FIGURES: dict[str, Callable[[StudyData, Result | None], Figure | None]] = {
    groups.KEY: groups_contrast,
    "rq1_frequency": rq1_frequency,
    "rq2_time": rq2_time,
    "rq3_debate": rq3_debate,
    "rq4_people": rq4_people,
    "rq5_trends": rq5_trends,
}
