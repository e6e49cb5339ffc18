"""The Ren et al. design as the report's first view: the study's groups compared.

Ren, Gay, Kästner and Jamshidi (2020) compared ML frameworks with traditional ones on four
things. This view compares the groups of a study file (`[groups]`, stored as
repositories.group_name) on the same four; repositories without a group stay out of it, and with
fewer than two groups the view is skipped with a note.

1. Category frequency: each group's category shares, *estimated* (analysis.shares: human labels
   as they are, the model's issues corrected for its measured error, no issue dropped), the
   system-related share apart from NSR, and whether the mix differs (`_mix_tests`).
2. Time to fix: Kaplan–Meier medians with 95% intervals, log-rank and Cox hazard ratios (with
   their proportional-hazards check), open issues censored at the study's collection end.
   *Fixed* means a fixing commit is known (analysis.fixing, the one rule). When some group's
   repositories have no fix data, every group is compared on time to close instead, and the
   view says so: closed is not fixed.
3. Debate: comments and participants, Mann–Whitney U with Cliff's delta and its bootstrap CI.
4. Fixers: who fixes system-related issues (their association with the project) and whether
   they specialize (`specialization_table`).

Every test joins the report-wide multiple-comparison correction (results.study_results).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from analysis import results, shares, stats
from analysis.queries import StudyData
from analysis.results import Result
from taxonomy import default_taxonomy

KEY = "groups_contrast"
TITLE = "Groups compared (the Ren et al. design): frequency, time to fix, debate, fixers"
# A fixer with one or two fixes is trivially "specialized": their share in one category says
# nothing. Specialization is measured over fixers with at least this many system fixes.
MIN_FIXES = 3


def group_contrast(data: StudyData) -> Result:
    """The groups compared on frequency, time to fix, debate and fixers (see the module)."""
    result = Result(KEY, TITLE, data.source_note())
    groups = results.study_groups(data)
    if len(groups) < 2:
        result.skipped = _why_skipped(groups)
        result.notes.append(result.skipped)
        return result
    issues = data.issues[data.issues["study_group"].notna()]
    ungrouped = sorted(set(data.issues["repository"]) - set(issues["repository"]))
    if ungrouped:
        result.notes.append(f"repositories without a study group, left out: {', '.join(ungrouped)}")
    _frequency(result, data, issues)
    _time_to_fix(result, data, issues, groups)
    _debate(result, issues, groups)
    _fixers(result, data, issues, groups)
    return result


def _why_skipped(groups: list[str]) -> str:
    if not groups:
        return (
            "group contrast skipped: no repository belongs to a study group (give the study's "
            "groups in a study file, [groups] ml = [...], traditional = [...], and crawl it "
            "with mlissues crawl --config)"
        )
    return f"group contrast skipped: every grouped repository is in one group ({groups[0]})"


def pairs(groups: list[str]) -> list[tuple[str, str]]:
    """Each pair of groups once, in sorted order (two groups: one pair)."""
    return list(combinations(groups, 2))


# --- 1. category frequency ------------------------------------------------------------------


def _frequency(result: Result, data: StudyData, issues: pd.DataFrame) -> None:
    categorized = issues[issues["category_source"] != "none"]
    try:
        error = results.model_error(data, categorized)
    except shares.NoErrorRecordError as missing:
        result.notes.append(f"category shares not estimated: {missing}")
        return
    classes = results.share_classes(error)
    table = shares.estimate_shares(
        categorized, data.probabilities, error, classes, by="group", estimator=data.estimator
    )
    if table.empty:
        result.notes.append("category shares not estimated: no issue of a group has a category")
        return
    table = results.in_category_order(table)
    result.tables["system_share"] = results.system_share(table)
    # Categories no issue of any group can have (interval [0, 0]) would only lengthen tables.
    possible = table.groupby("category")["ci_high"].transform("max") > 0
    table = table[possible | (table["category"] == default_taxonomy().default_code)]
    result.tables["shares"] = table.reset_index(drop=True)
    parts = shares.parts(categorized, data.probabilities, error, classes, by="group")
    points, draws = shares.joint_draws(parts, error, data.estimator)
    index = {name: i for i, name in enumerate(parts)}
    order = list(table["category"].unique())
    rows = []
    for a, b in pairs(sorted(parts)):
        difference = points[index[a]] - points[index[b]]
        replicates = draws[:, index[a]] - draws[:, index[b]]
        _mix_tests(result, a, b, difference, replicates, classes, n=_size(parts, a, b))
        rows += _difference_rows(a, b, difference, replicates, classes, order)
    result.tables["share_differences"] = pd.DataFrame(rows)
    result.notes.append(
        f"shares estimated by {data.estimator} per group, 95% bootstrap intervals include the "
        "model's error; differences and their tests resample both groups and the model's error "
        "record together (analysis.shares.joint_draws)"
    )


def _size(parts: dict[str, shares.Part], *groups: str) -> int:
    return int(sum(parts[g].human.sum() + len(parts[g].probabilities) for g in groups))


def _total_variation(differences: np.ndarray) -> np.ndarray:
    return 0.5 * np.abs(differences).sum(axis=-1)


def _mix_tests(
    result: Result,
    a: str,
    b: str,
    difference: np.ndarray,
    replicates: np.ndarray,
    classes: list[str],
    n: int,
) -> None:
    """Whether the category mix, and the system-related share, differ between groups a and b.

    A chi-square test on estimated counts would be invalid: they are not multinomial counts
    (fractional, and carrying the classifier's error, whose variance is not the multinomial
    one). A chi-square on the human-labeled issues alone (RQ1 reports it) holds only if those
    were a random sample of each group; the seed labels were enriched by keywords, so they are
    not. So the test is a Wald test on the difference of the two estimated share vectors, its
    covariance taken from the joint bootstrap, which resamples both groups' issues and the
    model's error record (stats.bootstrap_wald, referred to Hotelling's distribution since the
    covariance is estimated from the replicates; benchmarks/group_mix_size.py measures how often
    it rejects equal mixes). Effect: the total variation distance between the two mixes (0 the
    same, 1 disjoint), without an interval: a distance is never below zero, so its replicates
    sit above a small true value and a percentile interval would exclude the estimate. The
    system-related share's difference comes with its interval.
    """
    pair = f"{a} vs {b}"
    result.test(
        f"category mix: {pair}",
        lambda: stats.bootstrap_wald(
            difference, replicates, _total_variation, "total variation distance", n, False
        ),
        quantity="category mix (estimated shares)",
        group=pair,
    )
    system = [i for i, code in enumerate(classes) if code != default_taxonomy().default_code]
    result.test(
        f"system-related share: {pair}",
        lambda: stats.bootstrap_wald(
            difference[system].sum(keepdims=True),
            replicates[:, system].sum(axis=1, keepdims=True),
            lambda d: d[..., 0],
            f"difference in system-related share ({a} − {b})",
            n,
        ),
        quantity="system-related share (estimated)",
        group=pair,
    )


def _difference_rows(
    a: str,
    b: str,
    difference: np.ndarray,
    replicates: np.ndarray,
    classes: list[str],
    order: list[str],
) -> list[dict]:
    """Per category (and system-related, apart from NSR): the difference of shares with its
    95% percentile interval from the joint bootstrap."""
    nsr = default_taxonomy().default_code
    system = [code != nsr for code in classes]
    named = {"system-related": (difference[system].sum(), replicates[:, system].sum(axis=1))}
    for code in order:
        if code != nsr:
            i = classes.index(code)
            named[code] = (difference[i], replicates[:, i])
    rows = []
    for name, (point, draws) in named.items():
        low, high = np.quantile(draws, [stats.ALPHA / 2, 1 - stats.ALPHA / 2])
        rows.append(
            {"groups": f"{a} − {b}", "category": name, "difference": point, "ci_low": low}
            | {"ci_high": high}
        )
    return rows


# --- 2. time to fix -------------------------------------------------------------------------


def survival_frame(data: StudyData, issues: pd.DataFrame) -> tuple[str, pd.DataFrame, str]:
    """The event compared ('fix' where every group has fix data, else 'close'), `issues` with
    that event's survival time in duration_days (NaN when unknown) and whether it happened in
    closed, and a note saying what was compared."""
    frame = results.fix_frame(data)
    frame = frame[frame["issue_id"].isin(issues["issue_id"])]
    known = frame.groupby("group")["fix_known"].all()
    if known.all():
        timed = frame.assign(duration_days=frame["fix_days"], closed=frame["fix_observed"])
        note = (
            "time to fix: open issues censored at the end of observation, issues closed "
            "without a fix at their close (after it, no fix is observed)"
        )
        return "fix", timed, note
    if frame["fix_known"].any():
        missing = ", ".join(str(g) for g in known[~known].index)
        why = f"some repositories of {missing} have no fix data"
    else:
        why = "no fixing commit is stored"
    note = (
        f"time to close, not to fix: {why} (crawl with --events, or import fix data); closed "
        "is not fixed"
    )
    return "close", frame, note


def _time_to_fix(result: Result, data: StudyData, issues: pd.DataFrame, groups: list) -> None:
    """Kaplan–Meier, log-rank and Cox per group (see survival_frame)."""
    event, frame, note = survival_frame(data, issues)
    result.notes += [note, data.censoring]
    table = results.time_table(frame, "group", groups)
    timed = frame[frame["duration_days"].notna()]
    event_column = "fixed" if event == "fix" else "closed"
    result.tables[f"time_to_{event}"] = table.rename(
        columns={"closed": event_column, "open_censored": "censored"}
    )
    result.test(
        f"time to {event} by group",
        lambda: stats.logrank(timed["duration_days"], timed["group"], timed["closed"]),
        quantity=f"time to {event} (survival curves)",
        group="group",
    )
    results.hazard_tests(result, timed, "group", results.baseline(timed, "group"), event)


# --- 3. debate ------------------------------------------------------------------------------

DEBATE = (("comments_count", "comments per issue"), ("participants", "participants per issue"))


def _debate(result: Result, issues: pd.DataFrame, groups: list) -> None:
    """Comments and participants per group: Mann–Whitney U with Cliff's delta per pair."""
    result.tables["debate"] = results.debate_table(issues, "group", groups)
    for column, quantity in DEBATE:
        if column == "participants" and not results.participants_known(issues):
            result.notes.append("participants unknown: no comment author is stored")
            continue
        for a, b in pairs(groups):
            first, second = (issues.loc[issues["group"] == g, column] for g in (a, b))
            result.test(
                f"{quantity}: {a} vs {b}",
                lambda x=first, y=second: stats.mann_whitney(x, y),
                quantity=quantity,
                group=f"{a} vs {b}",
            )
    result.notes.append("Cliff's delta > 0: the first group of the pair has more")


# --- 4. fixers ------------------------------------------------------------------------------


def specialization_table(fixers: pd.DataFrame, groups: list, k: int = results.TOP_K):
    """Per group, over fixes of system-related issues (one per issue and fixer):

    - fixers, fixes, and the share of fixes by the k busiest fixers (concentration);
    - specialization of fixers with at least MIN_FIXES such fixes: the median number of distinct
      categories they fixed, and the mean share of their fixes in their own most frequent
      category (1 = they fix one kind of system issue only).

    Returns the table and, per group, the top-category share of each of those fixers.
    """
    rows, per_fixer = [], {}
    for group in groups:
        part = fixers[fixers["group"] == group]
        counts = part.groupby(["fixer", "category"])["issue_id"].nunique().unstack(fill_value=0)
        fixes = counts.sum(axis=1)
        busy = counts[fixes >= MIN_FIXES]
        top_share = busy.max(axis=1) / busy.sum(axis=1)
        per_fixer[group] = top_share
        rows.append(
            {
                "group": group,
                "fixers": len(fixes),
                "system_fixes": int(fixes.sum()),
                f"top{k}_share": stats.top_k_share(fixes, k) if len(fixes) else np.nan,
                f"fixers_{MIN_FIXES}+": len(busy),
                "categories_median": (busy > 0).sum(axis=1).median(),
                "top_category_share_mean": top_share.mean(),
            }
        )
    return pd.DataFrame(rows), per_fixer


def _fixers(result: Result, data: StudyData, issues: pd.DataFrame, groups: list) -> None:
    """Fixed vs closed, who fixed (association) and whether fixers specialize, per group."""
    frame = results.fix_frame(data)
    frame = frame[frame["issue_id"].isin(issues["issue_id"])]
    if not frame["fix_known"].any():
        result.notes.append(results.FIXES_UNKNOWN)
        return
    result.tables["fixed_vs_closed"] = results.fixed_vs_closed(frame, "group", groups)
    fixers = results.fixer_frame(data, frame)
    result.tables["fixers"] = results.fixer_associations(fixers, "group", groups)
    result.notes.append(results.FIXERS_NOTE)
    known = fixers[fixers["association_class"] != "unknown"]
    if known["group"].nunique() > 1:
        result.test(
            "fixes by members by group",
            lambda: stats.independence_test(
                pd.crosstab(known["group"], known["association_class"] == "member")
            ),
            quantity="share of fixes by members (association known)",
            group="group",
        )
    nsr = default_taxonomy().default_code
    system = fixers[fixers["category"].notna() & (fixers["category"] != nsr)]
    table, per_fixer = specialization_table(system, groups)
    result.tables["specialization"] = table
    result.notes.append(
        f"specialization over fixes of system-related issues (issue category: human label, "
        f"else the model's decision); fixers with at least {MIN_FIXES} such fixes"
    )
    for a, b in pairs(groups):
        result.test(
            f"fixer specialization: {a} vs {b}",
            lambda a=a, b=b: stats.mann_whitney(per_fixer[a], per_fixer[b]),
            quantity="share of a fixer's system fixes in their main category",
            group=f"{a} vs {b}",
        )
