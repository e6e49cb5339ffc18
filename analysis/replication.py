"""Replicating a published study from its own data: Makkouk et al. (ICSME 2022).

"An Empirical Study on Performance Bugs in Deep Learning Frameworks" compares performance bugs
with all other bugs of TensorFlow and PyTorch. Its design is stored with the issues by
`mlissues import-study makkouk` (miner/makkouk.py): each bug's subset (`study_issues`) and the
commits that fixed it (`fixes`). This module reruns its analyses on those rows and returns
`analysis.results.Result`s (tables, tests, notes) that the report renders like the others:

- counts per framework: performance and non-performance bugs, closed, and fixed in the study's
  sense (a fixing commit is known: analysis/fixing.py, the one rule);
- the study's trend test, exactly as published: a one-sided Cox–Stuart test for an increasing
  monthly percentage of performance bugs among all bugs open at the start of each month, and
  among all bugs fixed before it, over the study's window (`StudyDesign.windows`); next to it a
  Mann–Kendall test corrected for autocorrelation (Hamed–Rao) on the same series, and the
  published p-values beside ours (`StudyDesign.published`);
- the contrasts the study is about, performance vs non-performance per framework: time to fix
  (Kaplan–Meier medians with 95% CI, log-rank, Cox hazard ratio; bugs not fixed by the end of
  collection are censored there), comments, participants and lines changed by the fix
  (Mann–Whitney U with Cliff's delta and its bootstrap CI).

`trends` and `contrasts` return a Result each; `replicate` joins them with the counts.
`tests_table` lists every test as one machine-readable row (question, quantity, group, test,
statistic, p_value, n, effect, effect_name and the effect's CI).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sqlalchemy import select
from sqlalchemy.engine import Engine

from analysis import fixing, queries, results, stats, style
from analysis.queries import SECONDS_PER_DAY, StudyData, load_study
from analysis.results import Result
from db import schema


class StudyNotLoadedError(ValueError):
    """The database holds no issue of the study to replicate."""


@dataclass(frozen=True)
class StudyDesign:
    """What a replication needs to know about a study beyond its rows."""

    study: str  # `study_issues.study` of its issues
    key: str  # name of the result and its figure
    title: str
    focus: str  # the subset the study is about ...
    rest: str  # ... and the one it is compared with
    # repository -> first and last month (inclusive) of the trend series. Each month's value is
    # the state at its first instant, so the last month's start is the end of collection, where
    # bugs not yet fixed are censored.
    windows: dict[str, tuple[str, str]]
    # (repository, quantity) -> the p-value the study published for its Cox–Stuart trend test
    published: dict[tuple[str, str], float] = field(default_factory=dict)
    published_source: str = ""


OPEN_SHARE = "% perf among bugs open at month start"
FIXED_SHARE = "% perf among bugs fixed before month start"

# Why month *starts*: the study's published monthly series (the *_trend_analysis.csv files of its
# replication repository) count, for month M, the bugs open at M's first instant and the bugs
# fixed before it. Its fixed-bug series match this module's month for month (PyTorch: 2 of 28
# fixed bugs in 2016-12 ... 113 of 2,788 in 2021-04), and its data end before its last month
# begins (TensorFlow's last bug was opened on 2021-01-27, PyTorch's on 2021-03-16). Counting at
# month ends instead shifts the series by a month and adds a month with no data, which moves
# PyTorch's fixed-bug p-value from the published 4.4e-05 to 5.2e-06.
MAKKOUK = StudyDesign(
    study="makkouk-icsme2022",
    key="makkouk_replication",
    title="Replication: Makkouk et al. (ICSME 2022), performance vs non-performance bugs",
    focus="perf",
    rest="non_perf",
    windows={
        "tensorflow/tensorflow": ("2016-02", "2021-02"),
        "pytorch/pytorch": ("2016-12", "2021-04"),
    },
    published={
        ("tensorflow/tensorflow", OPEN_SHARE): 9.313e-10,
        ("tensorflow/tensorflow", FIXED_SHARE): 9.313e-10,
        ("pytorch/pytorch", OPEN_SHARE): 0.004678,
        ("pytorch/pytorch", FIXED_SHARE): 4.399e-05,
    },
    published_source="README of github.com/dlframeworkperfbugs/performance-bugs-in-dl-frameworks",
)
DESIGNS = (MAKKOUK,)
# tests.csv's columns before the report-wide correction, with the effect's interval
TEST_COLUMNS = [c for c in results.TEST_COLUMNS if c != "p_adjusted"] + ["ci_low", "ci_high"]


@dataclass(frozen=True)
class ReplicationData:
    """The study's bugs, one row each, with subset, fix status and time to fix."""

    design: StudyDesign
    bugs: pd.DataFrame
    fixes: pd.DataFrame

    def repositories(self) -> list[str]:
        return [r for r in self.design.windows if (self.bugs["repository"] == r).any()]

    def source_note(self) -> str:
        return (
            f"{len(self.bugs):,} bugs of {self.design.study}; fixed = a fixing commit is known, "
            "not merely closed"
        )


# --- reading --------------------------------------------------------------------------------


def studies_present(engine: Engine) -> list[StudyDesign]:
    """The known study designs whose issues the database holds."""
    s = schema.study_issues
    with engine.connect() as connection:
        present = set(connection.execute(select(s.c.study).distinct()).scalars())
    return [design for design in DESIGNS if design.study in present]


def collection_end(design: StudyDesign, repository: str) -> pd.Timestamp:
    """The first instant of the design's last month for this repository (see MAKKOUK)."""
    return pd.Period(design.windows[repository][1], "M").to_timestamp()


def read_study_bugs(
    engine: Engine, design: StudyDesign = MAKKOUK, issues: pd.DataFrame | None = None
) -> ReplicationData:
    """The study's bugs in repositories with a window: subset, dates, comments, participants,
    fix status and time to fix.

    `issues` is `StudyData.issues` when at hand (it has participants, counted by the project's
    one rule: author and distinct commenters); otherwise the issues are read without them, and
    participants are NaN (enough for counts and trends).
    """
    s = schema.study_issues
    with engine.connect() as connection:
        subsets = pd.read_sql(
            select(s.c.issue_id, s.c.subset).where(s.c.study == design.study), connection
        )
    issues = queries.read_issues(engine) if issues is None else issues
    columns = ["issue_id", "repository", "number", "state", "created_at", "closed_at"]
    columns += ["comments_count", "participants"]
    bugs = issues.reindex(columns=columns).merge(subsets, on="issue_id")
    bugs = bugs[bugs["repository"].isin(design.windows)].reset_index(drop=True)
    if bugs.empty:
        raise StudyNotLoadedError(
            f"the database holds no issue of {design.study} in {', '.join(design.windows)}; "
            "load it first (mlissues import-study makkouk DIR)"
        )
    fixes = fixing.read_fixes(engine)
    fixes = fixes[fixes["issue_id"].isin(bugs["issue_id"])].reset_index(drop=True)
    bugs = pd.concat([bugs, fixing.fix_status(bugs, fixes).drop(columns="issue_id")], axis=1)
    bugs["focus"] = bugs["subset"].eq(design.focus)
    end = bugs["repository"].map({r: collection_end(design, r) for r in design.windows})
    # Time to fix, censored at the end of collection for bugs not fixed by then.
    bugs["fix_observed"] = bugs["fixed"] & (bugs["fixed_at"] < end)
    stop = bugs["fixed_at"].where(bugs["fix_observed"], end)
    bugs["days_to_fix"] = (stop - bugs["created_at"]).dt.total_seconds() / SECONDS_PER_DAY
    return ReplicationData(design, bugs[bugs["created_at"] < end].reset_index(drop=True), fixes)


def load_replication(
    engine: Engine, data: StudyData | None = None, design: StudyDesign = MAKKOUK
) -> ReplicationData:
    """Everything the replication needs, from `data` (or a fresh `load_study`)."""
    data = data if data is not None else load_study(engine)
    return read_study_bugs(engine, design, data.issues)


# --- tables ---------------------------------------------------------------------------------


def counts(rep: ReplicationData) -> pd.DataFrame:
    """Per repository and subset: bugs, closed, fixed, closed without a fix, fixing commits."""
    rows = []
    for repository in rep.repositories():
        for subset in (rep.design.focus, rep.design.rest):
            part = rep.bugs[(rep.bugs["repository"] == repository) & (rep.bugs["subset"] == subset)]
            closed = part["closed_at"].notna()
            rows.append(
                {
                    "repository": repository,
                    "subset": subset,
                    "bugs": len(part),
                    "closed": int(closed.sum()),
                    "fixed": int(part["fixed"].sum()),
                    "fixed_share": part["fixed"].mean() if len(part) else np.nan,
                    "closed_not_fixed": int((closed & ~part["fixed"]).sum()),
                    "fix_commits": int(part["fix_commits"].sum()),
                }
            )
    return pd.DataFrame(rows)


def monthly_shares(rep: ReplicationData, repository: str) -> pd.DataFrame:
    """Per month of the window: perf and all bugs open at its first instant, and fixed before
    it, with the percentage of perf bugs among each (NaN while no bug is fixed yet)."""
    first, last = rep.design.windows[repository]
    months = pd.period_range(first, last, freq="M")
    starts = months.to_timestamp().to_numpy()
    bugs = rep.bugs[rep.bugs["repository"] == repository]
    created = bugs["created_at"].to_numpy()[:, None] < starts
    # NaT compares False: an issue never closed (or never fixed) is never closed before a start.
    closed = bugs["closed_at"].to_numpy()[:, None] < starts
    fixed = bugs["fixed_at"].to_numpy()[:, None] < starts
    focus = bugs["focus"].to_numpy()[:, None]
    open_ = created & ~closed
    table = pd.DataFrame(
        {
            "open_perf": (open_ & focus).sum(axis=0),
            "open_all": open_.sum(axis=0),
            "fixed_perf": (fixed & focus).sum(axis=0),
            "fixed_all": fixed.sum(axis=0),
        },
        index=months,
    )
    table["open_share"] = _percent(table["open_perf"], table["open_all"])
    table["fixed_share"] = _percent(table["fixed_perf"], table["fixed_all"])
    return table.rename_axis("month")


def _percent(part: pd.Series, whole: pd.Series) -> pd.Series:
    return (100 * part / whole).where(whole > 0)


def time_to_fix(rep: ReplicationData) -> pd.DataFrame:
    """Kaplan–Meier median days to fix per repository and subset, with 95% CI."""
    rows = []
    for repository in rep.repositories():
        for subset in (rep.design.focus, rep.design.rest):
            part = rep.bugs[(rep.bugs["repository"] == repository) & (rep.bugs["subset"] == subset)]
            fitter = stats.kaplan_meier(part["days_to_fix"], part["fix_observed"], subset)
            low, high = stats.median_time_ci(fitter)
            rows.append(
                {
                    "repository": repository,
                    "subset": subset,
                    "bugs": len(part),
                    "fixed_by_end": int(part["fix_observed"].sum()),
                    "km_median_days": stats.median_time(fitter),
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    return pd.DataFrame(rows)


# (question, quantity, column, the bugs it is defined for) of each Mann–Whitney contrast
CONTRASTS = (
    ("time to fix", "days to fix (bugs fixed by the end)", "days_to_fix", "fix_observed"),
    ("discussion", "comments", "comments_count", None),
    ("discussion", "participants (author and commenters)", "participants", None),
    ("fix size", "lines changed by the fixing commits", "fix_lines", "fixed"),
)


def medians(rep: ReplicationData) -> pd.DataFrame:
    """Median of each contrasted quantity per repository and subset."""
    rows = []
    for repository in rep.repositories():
        bugs = rep.bugs[rep.bugs["repository"] == repository]
        for _, quantity, column, among in CONTRASTS:
            part = bugs[bugs[among]] if among else bugs
            for subset, values in part.groupby("subset")[column]:
                values = values.dropna().astype(float)
                rows.append(
                    {
                        "repository": repository,
                        "quantity": quantity,
                        "subset": subset,
                        "n": len(values),
                        "median": values.median(),
                        "mean": values.mean(),
                    }
                )
    return pd.DataFrame(rows)


# --- tests ----------------------------------------------------------------------------------


def tests_table(result: Result) -> pd.DataFrame:
    """Every test of a replication result as one row (see TEST_COLUMNS)."""
    rows = []
    for name, test in result.tests.items():
        question, quantity, group = name.split(" | ")[:3]
        values = test.as_dict()
        rows.append({**values, "question": question, "quantity": quantity, "group": group})
    return pd.DataFrame(rows).reindex(columns=TEST_COLUMNS)


def _test_name(question: str, quantity: str, group: str, test: str) -> str:
    # The name carries the row's keys, so `tests_table` can be rebuilt from `Result.tests`.
    return " | ".join((question, quantity, group, test))


def _new(rep: ReplicationData, part: str) -> Result:
    design = rep.design
    return Result(f"{design.key}_{part}", f"{design.title}: {part}", rep.source_note())


def trends(rep: ReplicationData) -> Result:
    """The study's trend tests: Cox–Stuart (as published) and Hamed–Rao Mann–Kendall on the
    monthly percentage of performance bugs among open bugs and among fixed bugs."""
    result = _new(rep, "trends")
    monthly = []
    for repository in rep.repositories():
        table = monthly_shares(rep, repository)
        for quantity, column in ((OPEN_SHARE, "open_share"), (FIXED_SHARE, "fixed_share")):
            series = table[column]
            result.test(
                _test_name("trend", quantity, repository, "Cox–Stuart"),
                lambda s=series: stats.cox_stuart(s),
                quantity=quantity,
                group=repository,
            )
            result.test(
                _test_name("trend", quantity, repository, "Mann–Kendall (Hamed–Rao)"),
                lambda s=series: stats.mann_kendall(s, correction="hamed_rao"),
                quantity=quantity,
                group=repository,
            )
        monthly.append(table.reset_index().assign(repository=repository))
    table = pd.concat(monthly, ignore_index=True) if monthly else pd.DataFrame()
    result.tables["monthly"] = table.assign(month=table["month"].astype(str)) if monthly else table
    if rep.design.published:
        result.tables["published"] = published_comparison(result, rep.design)
    result.notes += [
        "trend windows (state at each month's first instant; the last month's start is the end "
        "of collection): "
        + "; ".join(f"{r} {a} to {b}" for r, (a, b) in rep.design.windows.items()),
        "Cox–Stuart: one-sided for an increasing trend; statistic = increasing pairs, "
        "n = untied pairs. Mann–Kendall p-values are two-sided",
    ]
    return result


def published_comparison(result: Result, design: StudyDesign) -> pd.DataFrame:
    """The study's published Cox–Stuart p-values beside ours; `same` when they agree to the
    four significant digits the study printed."""
    rows = []
    for (repository, quantity), published in design.published.items():
        test = result.tests.get(_test_name("trend", quantity, repository, "Cox–Stuart"))
        ours = test.p_value if test is not None else np.nan
        rows.append(
            {
                "repository": repository,
                "quantity": quantity,
                "published_p": published,
                "our_p": ours,
                "same": bool(np.isclose(float(f"{ours:.4g}"), published, rtol=1e-9, atol=0)),
            }
        )
    return pd.DataFrame(rows)


def contrasts(rep: ReplicationData) -> Result:
    """Performance vs non-performance bugs per repository: time to fix, discussion, fix size."""
    result = _new(rep, "contrasts")
    for repository in rep.repositories():
        bugs = rep.bugs[rep.bugs["repository"] == repository]
        result.test(
            _test_name("time to fix", "days to fix (censored)", repository, "log-rank"),
            lambda b=bugs: stats.logrank(b["days_to_fix"], b["subset"], b["fix_observed"]),
            quantity="days to fix (censored)",
            group=repository,
        )
        result.test(
            _test_name("time to fix", "days to fix (censored)", repository, "Cox"),
            lambda b=bugs: stats.cox_hazard_ratio(b["days_to_fix"], b["fix_observed"], b["focus"]),
            quantity="days to fix (censored)",
            group=repository,
        )
        for question, quantity, column, among in CONTRASTS:
            part = bugs[bugs[among]] if among else bugs
            focus = part.loc[part["focus"], column].astype(float)
            rest = part.loc[~part["focus"], column].astype(float)
            result.test(
                _test_name(question, quantity, repository, "Mann–Whitney"),
                lambda a=focus, b=rest: stats.mann_whitney(a, b),
                quantity=quantity,
                group=repository,
            )
    result.tables["time_to_fix"] = time_to_fix(rep)
    result.tables["medians"] = medians(rep)
    result.notes += [
        "Cliff's delta and the hazard ratio compare performance with non-performance bugs: "
        "delta > 0 means larger values for performance bugs, hazard ratio > 1 faster fixes",
        "participants are the author and distinct commenters (the project's rule); the "
        "study's own count also includes people who did not comment",
        "fix size sums the lines changed by each distinct fixing commit",
    ]
    return result


def replicate(rep: ReplicationData) -> Result:
    """Counts, trends and contrasts as one Result (one section and figure of the report)."""
    result = Result(rep.design.key, rep.design.title, rep.source_note())
    result.tables["counts"] = counts(rep)
    for part in (trends(rep), contrasts(rep)):
        result.tables |= part.tables
        result.tests |= part.tests
        result.notes += part.notes
    return result


# --- figure and report ----------------------------------------------------------------------


@style.styled
def draw(data: StudyData | None, result: Result) -> Figure:
    """Monthly percentage of performance bugs among open and among fixed bugs, per framework,
    one panel each, column wide."""
    monthly = result.tables["monthly"]
    panels: list[style.Panel] = []
    if not monthly.empty:
        panels = [
            (2.0, partial(_trend_panel, monthly=monthly, result=result, trend=trend, title=title))
            for trend, title in (
                (("open_share", OPEN_SHARE), "Performance bugs among open bugs"),
                (("fixed_share", FIXED_SHARE), "Performance bugs among fixed bugs"),
            )
        ]
    windows = "; ".join(f"{r} {start} to {end}" for r, (start, end) in _windows(result))
    text = (
        f"{result.source_note}; shares at each month's start (open bugs then, bugs fixed before "
        f"it); months: {windows}; p: one-sided Cox–Stuart test of an increasing trend, "
        "unadjusted as the study reports it (adjusted in tables.md)"
    )
    return style.column_figure(panels, "no repository of the study has a trend window", text)


def _windows(result: Result) -> list[tuple[str, tuple[str, str]]]:
    """Each repository's trend window (first and last month) in the monthly table."""
    monthly = result.tables["monthly"]
    return [
        (str(repository), (str(part["month"].min()), str(part["month"].max())))
        for repository, part in monthly.groupby("repository")
    ]


def _trend_panel(
    axis, monthly: pd.DataFrame, result: Result, trend: tuple[str, str], title: str
) -> None:
    """One share's monthly series per repository; `trend` is (its column, its test quantity)."""
    column, quantity = trend
    series = monthly.groupby("repository")
    for (repository, part), look in zip(series, style.styles(), strict=False):
        test = result.tests.get(_test_name("trend", quantity, repository, "Cox–Stuart"))
        p = f"p = {test.p_value:.2g}" if test else "test not computed"
        months = pd.PeriodIndex(part["month"], freq="M").to_timestamp()
        axis.plot(months, part[column], label=f"{repository} ({p})", linewidth=0.9, **look)
    axis.set_ylim(bottom=0)
    axis.set_ylabel("% of the bugs", fontsize=style.SMALL)
    style.year_axis(axis)
    style.panel_title(axis, title)
    style.legend(axis, loc="upper left")


def report_entries(engine: Engine) -> dict[str, tuple[Callable, Callable]]:
    """(draw, compute) per study the database holds, in the shape of analysis.figures.FIGURES."""
    return {
        design.key: (draw, lambda data, d=design: replicate(load_replication(engine, data, d)))
        for design in studies_present(engine)
    }
