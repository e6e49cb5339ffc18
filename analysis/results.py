"""The numbers behind each research question: tables and tests computed from `StudyData`.

One function per research question returns a `Result`; figures draw from it and the report
quotes every number in it, so a figure and its table can never disagree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import shares, stats
from analysis.queries import StudyData
from taxonomy import default_taxonomy

log = logging.getLogger(__name__)

TOP_K = 5
MIN_GROUP_SIZE = 5  # categories with fewer issues get no curve or test of their own
ROLES = ("closer", "commenter", "author")


class EmptyStudyError(ValueError):
    """The database holds no issues to analyse."""


@dataclass
class Result:
    """Tables, tests and notes of one research question."""

    key: str
    title: str
    source_note: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    tests: dict[str, stats.StatResult] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def test(self, name: str, compute: Callable[[], stats.StatResult]) -> None:
        """Run a test; when the data cannot support it, say so in the notes instead."""
        try:
            self.tests[name] = compute()
        except stats.NotEnoughDataError as error:
            self.notes.append(f"{name}: not computed ({error})")


def category_order(categories: pd.Series) -> list[str]:
    """Categories in taxonomy order, then any unknown codes alphabetically (deterministic)."""
    present = set(categories.dropna())
    known = [code for code in default_taxonomy().codes if code in present]
    return known + sorted(present - set(known))


def require_issues(data: StudyData) -> None:
    if data.issues.empty:
        raise EmptyStudyError(
            "the database holds no issues; load some first "
            "(mlissues crawl OWNER/REPO, or mlissues import-study makkouk DIR)"
        )


def _new(data: StudyData, key: str, title: str) -> Result:
    result = Result(key, title, data.source_note())
    if data.categorized.empty:
        result.notes.append("no issue has a category yet: category tables and tests are empty")
    return result


# --- RQ1 frequency --------------------------------------------------------------------------


def frequency(data: StudyData) -> Result:
    """RQ1: how often each category occurs, overall and per group.

    Shares are estimated (analysis.shares): human categories count as labeled, and the
    model-classified issues enter through a quantifier that corrects for the model's measured
    error, with bootstrap intervals that carry it. No issue is dropped for being uncertain.
    """
    result = _new(data, "rq1_frequency", "RQ1 How often each kind of system issue occurs")
    issues = data.issues[data.issues["category_source"] != "none"]
    try:
        error = shares.ModelError.from_record(data.error_record)
    except shares.NoErrorRecordError as missing:
        error = None
        if (issues["category_source"] == "classifier").any():
            result.notes.append(f"shares not estimated: {missing}")
            return result
    classes = error.classes if error is not None else default_taxonomy().codes
    estimated = [
        shares.estimate_shares(issues, data.probabilities, error, classes, estimator=data.estimator)
    ]
    if issues["group"].nunique() > 1:
        estimated.append(
            shares.estimate_shares(
                issues, data.probabilities, error, classes, by="group", estimator=data.estimator
            )
        )
    table = pd.concat(estimated, ignore_index=True)
    order = category_order(table["category"])
    table["category"] = pd.Categorical(table["category"], order, ordered=True)
    table = table.sort_values(["group", "category"]).reset_index(drop=True)
    table["category"] = table["category"].astype(str)
    result.tables["shares"] = table
    nsr = default_taxonomy().default_code
    system = table[table["category"] == nsr].assign(
        share=lambda t: 1 - t["share"],
        ci_low=lambda t: 1 - t["ci_high"],
        ci_high=lambda t: 1 - t["ci_low"],
    )
    result.tables["system_share"] = system.drop(columns="category").reset_index(drop=True)
    result.notes.append(
        f"shares estimated by {data.estimator} (analysis.shares): human categories as labeled, "
        "model-classified issues corrected for the model's out-of-fold error; 95% bootstrap "
        "intervals include that error"
    )
    human = issues[issues["category_source"] == "human"]
    if human["group"].nunique() > 1:
        result.test(
            "group × category (human labels)",
            lambda: stats.independence_test(_crosstab(human, "group")),
        )
    return result


def _crosstab(issues: pd.DataFrame, by: str) -> pd.DataFrame:
    return pd.crosstab(issues[by], issues["category"])


# --- RQ2 time to close ----------------------------------------------------------------------


def _time_table(issues: pd.DataFrame, by: str, order: list[str]) -> pd.DataFrame:
    rows = []
    for key in order:
        part = issues[issues[by] == key]
        if part.empty:
            continue
        closed = part["time_to_close_days"].dropna()
        fitter = stats.kaplan_meier(part["duration_days"], part["closed"], str(key))
        rows.append(
            {
                by: key,
                "issues": len(part),
                "closed": len(closed),
                "open_censored": len(part) - len(closed),
                "median_days_closed_only": closed.median() if len(closed) else np.nan,
                "km_median_days": stats.median_time(fitter),
            }
        )
    return pd.DataFrame(rows)


def time_to_close(data: StudyData) -> Result:
    """RQ2: time to close per category and group; open issues are censored, not dropped."""
    result = _new(data, "rq2_time", "RQ2 Time to close")
    issues, everyone = data.categorized, data.issues
    order = category_order(issues["category"])
    result.tables["per_category"] = _time_table(issues, "category", order)
    result.tables["per_group"] = _time_table(everyone, "group", sorted(everyone["group"].unique()))
    if everyone["closed"].sum() == 0:
        result.notes.append("no issue is closed: every time to close is censored")
    big = issues[issues["category"].isin(big_categories(issues))]
    closed = big[big["closed"]]
    result.test(
        "time to close by category (closed issues)",
        lambda: stats.kruskal(closed["time_to_close_days"], closed["category"]),
    )
    result.test(
        "survival by category",
        lambda: stats.logrank(big["duration_days"], big["category"], big["closed"]),
    )
    result.test(
        "survival by group",
        lambda: stats.logrank(everyone["duration_days"], everyone["group"], everyone["closed"]),
    )
    return result


def big_categories(issues: pd.DataFrame) -> list[str]:
    counts = issues["category"].value_counts()
    return [c for c in category_order(issues["category"]) if counts[c] >= MIN_GROUP_SIZE]


# --- RQ3 debate -----------------------------------------------------------------------------


def debate(data: StudyData) -> Result:
    """RQ3: comments and participants per category, and their correlation with time to close."""
    result = _new(data, "rq3_debate", "RQ3 Debate: comments and participants")
    issues = data.categorized
    rows = []
    for category in category_order(issues["category"]):
        part = issues[issues["category"] == category]
        rows.append(_debate_row(part).assign(category=category))
    per_category = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    result.tables["per_category"] = per_category
    result.tables["per_group"] = pd.concat(
        [_debate_row(part).assign(group=g) for g, part in data.issues.groupby("group")],
        ignore_index=True,
    )
    closed = data.issues[data.issues["closed"]]
    result.test(
        "comments vs time to close (all closed issues)",
        lambda: stats.spearman(closed["comments_count"], closed["time_to_close_days"]),
    )
    if participants_known(closed):
        result.test(
            "participants vs time to close (all closed issues)",
            lambda: stats.spearman(closed["participants"], closed["time_to_close_days"]),
        )
    big = issues[issues["category"].isin(big_categories(issues))]
    result.test(
        "comments by category", lambda: stats.kruskal(big["comments_count"], big["category"])
    )
    result.tables["most_commented"] = most_commented(issues)
    if not participants_known(data.issues):
        result.notes.append("participants unknown: no comment author is stored")
    return result


def participants_known(issues: pd.DataFrame) -> bool:
    """Whether any discussed issue has known participants (an issue without comments has
    just its author, which says nothing about debate)."""
    return bool((issues["participants"].notna() & (issues["comments_count"] > 0)).any())


def most_commented(issues: pd.DataFrame) -> pd.DataFrame:
    """The most-commented issue of each category: an example to read (titles are untrusted)."""
    columns = ["category", "repository", "number", "title", "comments_count"]
    ranked = issues.sort_values(["comments_count", "issue_id"], ascending=[False, True])
    top = ranked.drop_duplicates("category")[columns]
    order = {c: i for i, c in enumerate(category_order(issues["category"]))}
    return top.sort_values("category", key=lambda s: s.map(order)).reset_index(drop=True)


def _debate_row(part: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "issues": len(part),
                "comments_median": part["comments_count"].median(),
                "comments_mean": part["comments_count"].mean(),
                "participants_known": int(part["participants"].notna().sum()),
                # dropna first: a median of nothing is NaN, without numpy's warning
                "participants_median": part["participants"].dropna().median(),
            }
        ]
    )


# --- RQ4 people -----------------------------------------------------------------------------


def concentration(people: pd.DataFrame, k: int = TOP_K) -> dict:
    """How concentrated issues are among people: one amount per person = issues they touched."""
    per_person = people.groupby("login")["issue_id"].nunique()
    return {
        "people": len(per_person),
        "issues": int(people["issue_id"].nunique()),
        "gini": stats.gini(per_person),
        f"top{k}_share": stats.top_k_share(per_person, k),
    }


def specialization(data: StudyData, k: int = TOP_K) -> Result:
    """RQ4: concentration of closing, commenting and reporting per category; members' share."""
    result = _new(data, "rq4_people", "RQ4 People: specialization")
    issues = data.categorized
    category_of = issues.set_index("issue_id")["category"]
    people = data.people[data.people["issue_id"].isin(category_of.index)]
    people = people.assign(category=people["issue_id"].map(category_of))
    rows = []
    for role in ROLES:
        for category in category_order(issues["category"]):
            part = people[(people["role"] == role) & (people["category"] == category)]
            if len(part):
                rows.append({"role": role, "category": category, **concentration(part, k)})
    result.tables["concentration"] = pd.DataFrame(rows)
    overall = [
        {"role": role, **concentration(data.people[data.people["role"] == role], k)}
        for role in ROLES
        if (data.people["role"] == role).any()
    ]
    result.tables["overall"] = pd.DataFrame(overall)
    for role in ROLES:
        if not (data.people["role"] == role).any():
            result.notes.append(f"no {role} is known in this database")
    known = issues[issues["author_association"].notna()]
    members = known.groupby("category")["member_author"]
    table = stats.rates(members.sum(), members.size()).rename(columns={"successes": "members"})
    result.tables["member_authors"] = table.rename_axis("category").reset_index()
    return result


# --- RQ5 trends -----------------------------------------------------------------------------


def monthly_counts(issues: pd.DataFrame, by: str) -> pd.DataFrame:
    """Issues opened per month (rows, every month between the first and last) per `by` value."""
    if issues.empty:
        return pd.DataFrame()
    table = pd.crosstab(issues["created_at"].dt.to_period("M"), issues[by])
    months = pd.period_range(table.index.min(), table.index.max(), freq="M")
    return table.reindex(months, fill_value=0)


def active_span(table: pd.DataFrame) -> pd.DataFrame:
    """Counts outside each column's first and last non-empty month become NaN: a repository
    that did not exist yet, or was no longer crawled, has no count, not a zero."""
    started = (table > 0).cummax()
    still = (table > 0)[::-1].cummax()[::-1]
    return table.astype(float).where(started & still)


def trends(data: StudyData) -> Result:
    """RQ5: monthly number and share of system-related issues, with Mann–Kendall tests."""
    result = _new(data, "rq5_trends", "RQ5 Monthly trends")
    by_group = active_span(monthly_counts(data.issues, "group"))
    result.tables["monthly_by_group"] = by_group
    for group in by_group.columns:
        result.test(f"issues per month, {group}", lambda g=group: stats.mann_kendall(by_group[g]))
    issues = data.categorized
    by_category = monthly_counts(issues, "category")
    if not by_category.empty:
        by_category = by_category[category_order(issues["category"])]
    result.tables["monthly_by_category"] = by_category
    nsr = default_taxonomy().default_code
    if not by_category.empty:
        system = by_category.drop(columns=[nsr], errors="ignore").sum(axis=1)
        total = by_category.sum(axis=1)
        share = (system / total).where(total > 0)
        result.tables["monthly_system_share"] = pd.DataFrame(
            {"system_related": system, "categorized": total, "share": share}
        )
        result.test("system-related share per month", lambda: stats.mann_kendall(share))
        for category in big_categories(issues):
            result.test(
                f"{category} per month",
                lambda c=category: stats.mann_kendall(by_category[c]),
            )
    return result
