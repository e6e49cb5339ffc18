"""The numbers behind each research question: tables and tests computed from `StudyData`.

One function per research question returns a `Result`; figures draw from it and the report
quotes every number in it, so a figure and its table can never disagree. `study_results` runs
them all and corrects every p-value of the report for multiple comparisons at once.

Time to close is always analysed as survival (Kaplan–Meier, log-rank, Cox): open issues are
censored at the end of observation, never dropped. A statistic over closed issues only says so
in its name and in a note. Groups of fewer than MIN_GROUP_SIZE issues are pooled into OTHER.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from analysis import fixing, shares, stats
from analysis.formatting import p_text
from analysis.queries import MEMBER_ASSOCIATIONS, StudyData
from taxonomy import default_taxonomy

log = logging.getLogger(__name__)

TOP_K = 5
MIN_GROUP_SIZE = 10  # fewer issues: no curve, box or test of its own (pooled into OTHER)
OTHER = "other"
ROLES = ("closer", "commenter", "author")
DEFAULT_CORRECTION = "holm"
# tests.csv: one row per test of the report.
TEST_COLUMNS = (
    "question",
    "quantity",
    "group",
    "test",
    "statistic",
    "p_value",
    "p_adjusted",
    "n",
    "effect",
    "effect_name",
)
# One value on at least this share of a repository's issues marks a placeholder (the shared
# corpus writes "NONE" everywhere but for a few exact API objects), not GitHub's own data.
PLACEHOLDER_SHARE = 0.99
FIXES_UNKNOWN = (
    "fixes unknown: no fixing commit is stored (crawl with --events for close events with a "
    "commit, or import a study's fix data); issues are only known as closed or open, and "
    "closed is not fixed"
)
FIXERS_NOTE = (
    "fixed = a fixing commit is known (a close event with a commit, or a study's fix data); "
    "fixer = the commit's author where known, else who closed the issue with the commit; "
    "association = the author_association GitHub last gave that login on the project's issues "
    "and comments, unknown for commit author names and placeholder data"
)
COMMENT_BANDS = ((0, "no comments"), (1, "1–2 comments"), (3, "3–9 comments"), (10, "10+ comments"))


@dataclass
class Result:
    """Tables, tests and notes of one research question.

    `posthoc` holds, per test name, the pairwise comparison to run when that test is
    significant after the report-wide correction (`correct`). `skipped` says why a view has
    nothing to show (it then has no figure, only that note).
    """

    key: str
    title: str
    source_note: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    tests: dict[str, stats.StatResult] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    posthoc: dict[str, Callable[[], pd.DataFrame]] = field(default_factory=dict)
    skipped: str | None = None

    @property
    def question(self) -> str:
        """RQ1, RQ2, ...: the research question, as tests.csv names it."""
        return self.key.split("_", 1)[0].upper()

    def test(
        self,
        name: str,
        compute: Callable[[], stats.StatResult],
        *,
        quantity: str | None = None,
        group: str = "",
    ) -> None:
        """Run a test of `quantity` across `group`; when the data cannot support it, say so in
        the notes instead."""
        try:
            self.add(name, compute(), quantity or name, group)
        except stats.NotEnoughDataError as error:
            self.notes.append(f"{name}: not computed ({error})")

    def add(self, name: str, test: stats.StatResult, quantity: str, group: str) -> None:
        """Record a computed test of `quantity` across `group`."""
        self.tests[name] = replace(test, quantity=quantity, group=group)

    def run_posthoc(self) -> None:
        """Pairwise tables of the tests that stay significant after correction."""
        for name, compute in self.posthoc.items():
            test = self.tests.get(name)
            if test is None or test.p_adjusted is None:
                continue
            if test.p_adjusted < stats.ALPHA:
                self.tables[f"post-hoc: {name}"] = compute()
                self.notes.append(f"post-hoc: {name}: Dunn's test, p Holm-adjusted over its pairs")
            else:
                self.notes.append(f"{name}: not significant after correction, so no post-hoc test")

    def note_assumptions(self) -> None:
        """One note on the proportional-hazards checks of this question's Cox models."""
        checked = {name: t.assumption for name, t in self.tests.items() if t.assumption}
        if not checked:
            return
        doubtful = [
            f"{name} ({p_text(check.p_value)})"
            for name, check in checked.items()
            if check.p_value < stats.ALPHA
        ]
        text = (
            f"proportional hazards checked for {len(checked)} Cox hazard ratio(s) (Schoenfeld "
            "residuals against the rank of time; rows in tests.csv, not corrected: a check of "
            "the model, not a finding)"
        )
        if doubtful:
            text += (
                f"; doubtful (p < {stats.ALPHA}) for {', '.join(doubtful)}: there the ratio "
                "averages a hazard that changes over time, read the Kaplan–Meier curves"
            )
        else:
            text += f"; no evidence against it (every p ≥ {stats.ALPHA})"
        self.notes.append(text)


def correct(computed: Iterable[Result], method: str = DEFAULT_CORRECTION) -> None:
    """Adjust every p-value of the report together (stats.adjust), then run the post-hoc
    tests of those still significant."""
    computed = list(computed)
    named = [(result, name) for result in computed for name in result.tests]
    adjusted = stats.adjust([result.tests[name].p_value for result, name in named], method)
    for (result, name), p in zip(named, adjusted, strict=True):
        result.tests[name] = replace(result.tests[name], p_adjusted=float(p), correction=method)
    for result in computed:
        result.run_posthoc()
        result.note_assumptions()


def tests_frame(computed: Iterable[Result]) -> pd.DataFrame:
    """Every test of the report, one row each, with columns TEST_COLUMNS (tests.csv); a test's
    assumption check (a Cox model's proportional hazards) follows it in a row of its own, with
    no adjusted p-value: it is not one of the report's findings."""
    rows = []
    for result in computed:
        for test in result.tests.values():
            rows.append({"question": result.question, **test.as_dict()})
            if test.assumption is not None:
                quantity = f"{test.quantity}: proportional-hazards assumption"
                check = replace(test.assumption, quantity=quantity, group=test.group)
                rows.append({"question": result.question, **check.as_dict()})
    return pd.DataFrame(rows, columns=list(TEST_COLUMNS))


def category_order(categories: pd.Series) -> list[str]:
    """Categories in taxonomy order, then any unknown codes alphabetically (deterministic)."""
    present = set(categories.dropna())
    known = [code for code in default_taxonomy().codes if code in present]
    return known + sorted(present - set(known))


def study_groups(data: StudyData) -> list[str]:
    """The study groups of the database's issues (repositories.group_name), sorted."""
    return sorted(str(g) for g in data.issues["study_group"].dropna().unique())


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
        error = model_error(data, issues)
    except shares.NoErrorRecordError as missing:
        result.notes.append(f"shares not estimated: {missing}")
        return result
    classes = share_classes(error)
    estimated = [
        shares.estimate_shares(issues, data.probabilities, error, classes, estimator=data.estimator)
    ]
    if issues["group"].nunique() > 1:
        estimated.append(
            shares.estimate_shares(
                issues, data.probabilities, error, classes, by="group", estimator=data.estimator
            )
        )
    table = in_category_order(pd.concat(estimated, ignore_index=True))
    result.tables["shares"] = table
    result.tables["system_share"] = system_share(table)
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


def model_error(data: StudyData, issues: pd.DataFrame) -> shares.ModelError | None:
    """The study model's measured error, for estimating the shares of `issues`; None when
    people labeled all of them. Raises shares.NoErrorRecordError when model-classified issues
    need it and the model was saved without it."""
    try:
        return shares.ModelError.from_record(data.error_record)
    except shares.NoErrorRecordError:
        if (issues["category_source"] == "classifier").any():
            raise
        return None


def share_classes(error: shares.ModelError | None) -> list[str]:
    """The classes shares are estimated over: the model's, else the taxonomy's."""
    return list(error.classes) if error is not None else list(default_taxonomy().codes)


def in_category_order(table: pd.DataFrame) -> pd.DataFrame:
    """A shares table sorted by group, then category in taxonomy order (category_order)."""
    order = category_order(table["category"])
    table = table.assign(category=pd.Categorical(table["category"], order, ordered=True))
    table = table.sort_values(["group", "category"]).reset_index(drop=True)
    return table.assign(category=table["category"].astype(str))


def system_share(table: pd.DataFrame) -> pd.DataFrame:
    """Per group of an estimated shares table, the system-related share (every category but
    NSR) with its interval."""
    nsr = default_taxonomy().default_code
    nsr_rows = table[table["category"] == nsr]
    # The system-related share is 1 - NSR's, so its interval is NSR's turned around.
    system = nsr_rows.assign(
        share=1 - nsr_rows["share"], ci_low=1 - nsr_rows["ci_high"], ci_high=1 - nsr_rows["ci_low"]
    )
    return system.drop(columns="category").reset_index(drop=True)


def _crosstab(issues: pd.DataFrame, by: str) -> pd.DataFrame:
    return pd.crosstab(issues[by], issues["category"])


# --- pooling and time ---------------------------------------------------------------------


def pool_small(issues: pd.DataFrame, by: str, order: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Issues with every value of `by` held by fewer than MIN_GROUP_SIZE issues replaced by
    OTHER, and the order of the values shown (the kept ones in `order`, then OTHER)."""
    counts = issues[by].value_counts()
    small = [value for value in order if counts.get(value, 0) < MIN_GROUP_SIZE]
    kept = [value for value in order if value not in small and value in counts.index]
    pooled = issues.assign(**{by: issues[by].where(~issues[by].isin(small), OTHER)})
    return pooled, kept + ([OTHER] if small else [])


def pooling_note(issues: pd.DataFrame, by: str) -> str | None:
    """Which values pool_small puts into OTHER, for the notes; None when none."""
    counts = issues[by].value_counts()
    small = sorted(str(value) for value in counts.index if counts[value] < MIN_GROUP_SIZE)
    if not small:
        return None
    return (
        f"{len(small)} {by} value(s) with fewer than {MIN_GROUP_SIZE} issues pooled as "
        f"'{OTHER}' ({', '.join(small)}); tests leave '{OTHER}' out"
    )


def big_categories(issues: pd.DataFrame) -> list[str]:
    """Categories with at least MIN_GROUP_SIZE issues, in taxonomy order: the ones tested."""
    counts = issues["category"].value_counts()
    return [c for c in category_order(issues["category"]) if counts[c] >= MIN_GROUP_SIZE]


def timed_issues(data: StudyData) -> pd.DataFrame:
    """The issues with a known time: open ones (censored) and those closed with a close date."""
    return data.issues[data.issues["duration_days"].notna()]


def _time_notes(data: StudyData) -> list[str]:
    issues = data.issues
    unknown = int(issues["close_time_unknown"].sum())
    outside = int((issues["duration_days"].isna() & ~issues["close_time_unknown"]).sum())
    notes = [data.censoring]
    if unknown:
        notes.append(
            f"{unknown} issue(s) closed without a close date (closed, time unknown): left out "
            "of every time analysis, never counted as open"
        )
    if outside:
        notes.append(f"{outside} issue(s) opened after the collection end: left out of time")
    return notes


def time_table(issues: pd.DataFrame, by: str, order: list) -> pd.DataFrame:
    """Per value of `by`: issues, how many closed, stayed open (censored) or closed at an
    unknown time, and the Kaplan–Meier median time to close with its 95% interval."""
    rows = []
    for key in order:
        part = issues[issues[by] == key]
        timed = part[part["duration_days"].notna()]
        if timed.empty:
            continue
        fitter = stats.kaplan_meier(timed["duration_days"], timed["closed"], str(key))
        low, high = stats.median_interval(fitter)
        rows.append(
            {
                by: key,
                "issues": len(part),
                "closed": int(timed["closed"].sum()),
                "open_censored": int((~timed["closed"]).sum()),
                "closed_time_unknown": int(part["close_time_unknown"].sum()),
                "km_median_days": stats.median_time(fitter),
                "km_median_low": low,
                "km_median_high": high,
            }
        )
    return pd.DataFrame(rows)


def hazard_tests(
    result: Result, issues: pd.DataFrame, by: str, baseline: str, event: str = "close"
) -> None:
    """Cox hazard ratios of the `event` (close, or fix with fix durations in duration_days and
    closed), each value of `by` against `baseline` (one model)."""
    try:
        ratios = stats.hazard_ratios(
            issues["duration_days"], issues["closed"], issues[by], baseline
        )
    except stats.NotEnoughDataError as error:
        result.notes.append(f"hazard ratios by {by}: not computed ({error})")
        return
    quantity = f"time to {event} (hazard ratio of {event.rstrip('e')}ing)"
    for level, ratio in ratios.items():
        pair = f"{level} vs {baseline}"
        result.add(f"time to {event}: {pair}", ratio, quantity, pair)


def baseline(issues: pd.DataFrame, by: str, preferred: str | None = None) -> str:
    """The reference level of hazard ratios: `preferred` when present, else the largest."""
    counts = issues[by].value_counts()
    if preferred in counts.index:
        return preferred
    return str(counts.sort_index().sort_values(ascending=False, kind="stable").index[0])


# --- RQ2 time to close ----------------------------------------------------------------------


def time_to_close(data: StudyData) -> Result:
    """RQ2: time to close per category and group, as survival: Kaplan–Meier medians with 95%
    intervals, log-rank tests, and Cox hazard ratios against NSR and the largest group."""
    result = _new(data, "rq2_time", "RQ2 Time to close")
    timed = timed_issues(data)
    result.notes += _time_notes(data)
    categorized = data.categorized
    pooled, order = pool_small(categorized, "category", category_order(categorized["category"]))
    result.tables["per_category"] = time_table(pooled, "category", order)
    groups = sorted(data.issues["group"].unique())
    result.tables["per_group"] = time_table(data.issues, "group", groups)
    if not timed["closed"].any():
        result.notes.append("no issue is closed: every time to close is censored")
    note = pooling_note(categorized, "category")
    if note:
        result.notes.append(note)
    timed_categorized = timed[timed["category_source"] != "none"]
    big = timed_categorized[timed_categorized["category"].isin(big_categories(categorized))]
    result.test(
        "time to close by category",
        lambda: stats.logrank(big["duration_days"], big["category"], big["closed"]),
        quantity="time to close (survival curves)",
        group="category",
    )
    if big["category"].nunique() > 1:
        nsr = default_taxonomy().default_code
        hazard_tests(result, big, "category", baseline(big, "category", nsr))
    if len(study_groups(data)) > 1:
        # The same tests as the group contrast's when fixes are unknown: testing twice would
        # count one question twice in the correction.
        result.notes.append("tests across study groups: in the group contrast (the first view)")
    elif timed["group"].nunique() > 1:
        result.test(
            "time to close by group",
            lambda: stats.logrank(timed["duration_days"], timed["group"], timed["closed"]),
            quantity="time to close (survival curves)",
            group="group",
        )
        hazard_tests(result, timed, "group", baseline(timed, "group"))
    return result


# --- RQ3 debate -----------------------------------------------------------------------------


def comment_band(counts: pd.Series) -> pd.Series:
    """Each issue's band of comments (COMMENT_BANDS), for survival curves by debate."""
    edges = [low for low, _ in COMMENT_BANDS] + [np.inf]
    labels = [label for _, label in COMMENT_BANDS]
    return pd.cut(counts, edges, right=False, labels=labels).astype(str)


def debate(data: StudyData) -> Result:
    """RQ3: comments and participants per category (Kruskal–Wallis, then Dunn), and how debate
    relates to time to close: a Cox hazard ratio over every issue (open ones censored) and
    Spearman over closed issues only."""
    result = _new(data, "rq3_debate", "RQ3 Debate: comments and participants")
    issues = data.categorized
    pooled, order = pool_small(issues, "category", category_order(issues["category"]))
    result.tables["per_category"] = debate_table(pooled, "category", order)
    result.tables["per_group"] = debate_table(
        data.issues, "group", sorted(data.issues["group"].unique())
    )
    note = pooling_note(issues, "category")
    if note:
        result.notes.append(note)
    big_order = big_categories(issues)
    big = issues[issues["category"].isin(big_order)]
    _compare(result, big, "comments_count", "comments per issue", big_order)
    if participants_known(issues):
        known = big[big["participants"].notna()]
        _compare(result, known, "participants", "participants per issue", big_order)
    else:
        result.notes.append("participants unknown: no comment author is stored")
    _debate_and_time(result, data)
    result.tables["most_commented"] = most_commented(issues)
    return result


def _compare(result: Result, issues: pd.DataFrame, column: str, quantity: str, order) -> None:
    """Kruskal–Wallis of `column` across categories, with Dunn's pairs when significant."""
    name = f"{quantity} by category"
    result.test(
        name,
        lambda: stats.kruskal(issues[column], issues["category"]),
        quantity=quantity,
        group="category",
    )
    present = [c for c in order if c in set(issues["category"])]
    result.posthoc[name] = lambda: stats.dunn(issues[column], issues["category"], present)


def _debate_and_time(result: Result, data: StudyData) -> None:
    timed = timed_issues(data)
    result.tables["time_by_comments"] = time_table(
        timed.assign(comments=comment_band(timed["comments_count"])),
        "comments",
        [label for _, label in COMMENT_BANDS],
    )
    result.test(
        "time to close vs comments",
        lambda: stats.hazard_ratio(
            timed["duration_days"],
            timed["closed"],
            np.log2(timed["comments_count"] + 1),
            "hazard ratio per doubling of comments + 1",
        ),
        quantity="time to close vs comments (all issues, open ones censored)",
        group="all issues",
    )
    closed = timed[timed["closed"]]
    result.test(
        "comments vs time to close (closed issues only)",
        lambda: stats.spearman(closed["comments_count"], closed["time_to_close_days"]),
        quantity="comments vs time to close (closed issues only)",
        group="closed issues",
    )
    if participants_known(closed):
        result.test(
            "participants vs time to close (closed issues only)",
            lambda: stats.spearman(closed["participants"], closed["time_to_close_days"]),
            quantity="participants vs time to close (closed issues only)",
            group="closed issues",
        )
    result.notes.append(
        f"Spearman correlations with time to close cover the {len(closed)} closed issues only "
        f"(of {len(timed)} with a known time; {len(timed) - len(closed)} open ones left out); "
        "the Cox hazard ratio covers all of them, open issues censored"
    )


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


def debate_table(issues: pd.DataFrame, by: str, order: list) -> pd.DataFrame:
    rows = []
    for key in order:
        part = issues[issues[by] == key]
        if part.empty:
            continue
        rows.append(
            {
                by: key,
                "issues": len(part),
                "comments_median": part["comments_count"].median(),
                "comments_mean": part["comments_count"].mean(),
                "participants_known": int(part["participants"].notna().sum()),
                # dropna first: a median of nothing is NaN, without numpy's warning
                "participants_median": part["participants"].dropna().median(),
            }
        )
    return pd.DataFrame(rows)


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


def placeholder_repositories(issues: pd.DataFrame, column: str) -> dict[str, str]:
    """Repositories whose issues (nearly) all carry one value of `column`, and that value:
    a source's placeholder, not data (see PLACEHOLDER_SHARE)."""
    found = {}
    for repository, values in issues.groupby("repository")[column]:
        shares_ = values.value_counts(normalize=True, dropna=False)
        if len(values) >= MIN_GROUP_SIZE and shares_.iloc[0] >= PLACEHOLDER_SHARE:
            found[str(repository)] = str(shares_.index[0])
    return found


def specialization(data: StudyData, k: int = TOP_K) -> Result:
    """RQ4: concentration of closing, commenting and reporting per category; members' share
    where author_association is real data."""
    result = _new(data, "rq4_people", "RQ4 People: specialization")
    issues = data.categorized
    pooled, order = pool_small(issues, "category", category_order(issues["category"]))
    category_of = pooled.set_index("issue_id")["category"]
    people = data.people[data.people["issue_id"].isin(category_of.index)]
    people = people.assign(category=people["issue_id"].map(category_of))
    rows, thin = [], []
    # Split once: comparing every person's role and category anew for each pair takes
    # seconds per pair for a million issues.
    parts = dict(list(people.groupby(["role", "category"], sort=False)))
    for role in ROLES:
        for category in order:
            part = parts.get((role, category), people.iloc[:0])
            if part["issue_id"].nunique() >= MIN_GROUP_SIZE:
                rows.append({"role": role, "category": category, **concentration(part, k)})
            elif len(part):
                thin.append(f"{role}s of {category}")
    result.tables["concentration"] = pd.DataFrame(rows)
    if thin:
        result.notes.append(
            f"not shown, known for fewer than {MIN_GROUP_SIZE} issues: {', '.join(thin)}"
        )
    overall = [
        {"role": role, **concentration(data.people[data.people["role"] == role], k)}
        for role in ROLES
        if (data.people["role"] == role).any()
    ]
    result.tables["overall"] = pd.DataFrame(overall)
    for role in ROLES:
        if not (data.people["role"] == role).any():
            result.notes.append(f"no {role} is known in this database")
    _member_authors(result, issues)
    _fix_tables(result, data, "repository")
    return result


def fix_frame(data: StudyData) -> pd.DataFrame:
    """The study's issues with the fixing rule applied (analysis.fixing): fixed, fixed_at,
    fix_commits, fix_lines, fix_known (the repository has fix data), fix_days, fix_observed."""
    issues = data.issues
    status = fixing.fix_status(issues, data.fixes).drop(columns="issue_id")
    known = fixing.fix_data_known(issues, data.fixes).rename("fix_known")
    out = pd.concat([issues, status, known], axis=1)
    return pd.concat([out, fixing.time_to_fix(out)], axis=1)


def fixed_vs_closed(issues: pd.DataFrame, by: str, order: list) -> pd.DataFrame:
    """Per value of `by` (issues of `fix_frame`): issues, closed, how many repositories have
    fix data, and among their issues: fixed, closed without a fix, fixed while open. Where no
    repository has fix data those are unknown (NaN), not zero."""
    rows = []
    for key in order:
        part = issues[issues[by] == key]
        known = part[part["fix_known"]]
        closed = known["state"].eq("closed")
        counts = {
            "fixed": int(known["fixed"].sum()),
            "closed_without_fix": int((closed & ~known["fixed"]).sum()),
            "fixed_while_open": int((~closed & known["fixed"]).sum()),
        }
        repositories = part.groupby("repository")["fix_known"].any()
        rows.append(
            {
                by: key,
                "issues": len(part),
                "closed": int(part["state"].eq("closed").sum()),
                "fix_data": f"{int(repositories.sum())} of {len(repositories)} repositories",
                "issues_with_fix_data": len(known),
                **{name: count if len(known) else np.nan for name, count in counts.items()},
            }
        )
    return pd.DataFrame(rows)


def association_class(associations: pd.Series) -> pd.Series:
    """GitHub's author_association in four classes: member (OWNER, MEMBER, COLLABORATOR, as
    queries.MEMBER_ASSOCIATIONS), contributor (CONTRIBUTOR: has committed before), none (every
    other value GitHub gives) and unknown."""
    return pd.Series(
        np.select(
            [
                associations.eq(fixing.UNKNOWN) | associations.isna(),
                associations.isin(MEMBER_ASSOCIATIONS),
                associations.eq("CONTRIBUTOR"),
            ],
            [fixing.UNKNOWN, "member", "contributor"],
            "none",
        ),
        index=associations.index,
    )


def fixer_frame(data: StudyData, issues: pd.DataFrame) -> pd.DataFrame:
    """Who fixed which of `issues` (fixing.fixers), with the issue's group and category and the
    fixer's association with the project (fixing.with_associations; unknown in repositories
    whose author_association is a placeholder) and its class (`association_class`)."""
    rows = fixing.fixers(data.fixes)
    rows = rows[rows["issue_id"].isin(issues["issue_id"])]
    placeholders = placeholder_repositories(data.issues, "author_association")
    rows = fixing.with_associations(rows, data.issues, data.associations, placeholders)
    of_issue = issues.set_index("issue_id")
    return rows.assign(
        group=rows["issue_id"].map(of_issue["group"]),
        category=rows["issue_id"].map(of_issue["category"]),
        association_class=association_class(rows["association"]),
    ).reset_index(drop=True)


def fixer_associations(fixers: pd.DataFrame, by: str, order: list) -> pd.DataFrame:
    """Per value of `by`: fixes (issue and fixer pairs), fixers, fixes by each association
    class, and members' share of the fixes whose fixer's association is known (Wilson CI)."""
    classes = ["member", "contributor", "none", fixing.UNKNOWN]
    counts = pd.crosstab(fixers[by], fixers["association_class"]).reindex(
        index=order, columns=classes, fill_value=0
    )
    known = counts.drop(columns=fixing.UNKNOWN).sum(axis=1)
    share = stats.rates(counts["member"], known).drop(columns=["successes", "n"])
    table = pd.DataFrame(
        {
            "fixes": counts.sum(axis=1),
            "fixers": fixers.groupby(by)["fixer"].nunique().reindex(order, fill_value=0),
            **{f"by_{name}": counts[name] for name in classes},
            "association_known": known,
        }
    ).join(share.rename(columns=lambda c: f"member_{c}"))
    return table.rename_axis(by).reset_index()


def _fix_tables(result: Result, data: StudyData, by: str) -> None:
    """Fixed vs closed and who fixed, per value of `by`; without fix data, a note saying that
    fixes are unknown (closed is not fixed), and no table."""
    issues = fix_frame(data)
    if not issues["fix_known"].any():
        result.notes.append(FIXES_UNKNOWN)
        return
    order = sorted(issues[by].unique())
    result.tables["fixed_vs_closed"] = fixed_vs_closed(issues, by, order)
    fixers = fixer_frame(data, issues)
    result.tables["fixers"] = fixer_associations(fixers, by, order)
    result.notes.append(FIXERS_NOTE)


def _member_authors(result: Result, issues: pd.DataFrame) -> None:
    """Members' share of opened issues per category, over issues whose association is data."""
    placeholders = placeholder_repositories(issues, "author_association")
    if placeholders:
        listed = ", ".join(f"{repo} ('{value}')" for repo, value in placeholders.items())
        result.notes.append(
            "author_association unknown (one placeholder value on at least "
            f"{PLACEHOLDER_SHARE:.0%} of the issues) for: {listed}; their issues are left out "
            "of the members' share"
        )
    known = issues[
        issues["author_association"].notna() & ~issues["repository"].isin(list(placeholders))
    ]
    if known.empty:
        result.notes.append("members' share not reported: no issue has a known author_association")
        return
    pooled, order = pool_small(known, "category", category_order(known["category"]))
    members = pooled.groupby("category")["member_author"]
    table = stats.rates(members.sum(), members.size()).rename(columns={"successes": "members"})
    result.tables["member_authors"] = table.reindex(order).rename_axis("category").reset_index()
    big = known[known["category"].isin(big_categories(known))]
    result.test(
        "member authors by category",
        lambda: stats.independence_test(pd.crosstab(big["category"], big["member_author"])),
        quantity="share of issues opened by members",
        group="category",
    )


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
        result.test(
            f"issues per month, {group}",
            lambda g=group: stats.mann_kendall(by_group[g]),
            quantity="issues opened per month",
            group=str(group),
        )
    issues = data.categorized
    by_category = monthly_counts(issues, "category")
    if not by_category.empty:
        by_category = by_category[category_order(issues["category"])]
    result.tables["monthly_by_category"] = by_category
    nsr = default_taxonomy().default_code
    if not by_category.empty:
        system = by_category.drop(columns=[nsr], errors="ignore").sum(axis=1)
        total = by_category.sum(axis=1)
        # A month of a handful of categorized issues has a share, but no information.
        share = (system / total).where(total >= MIN_GROUP_SIZE)
        result.tables["monthly_system_share"] = pd.DataFrame(
            {"system_related": system, "categorized": total, "share": share}
        )
        result.notes.append(
            f"system-related share: months with fewer than {MIN_GROUP_SIZE} categorized "
            "issues have none"
        )
        result.test(
            "system-related share per month",
            lambda: stats.mann_kendall(share),
            quantity="system-related share of categorized issues per month",
            group="all",
        )
        for category in big_categories(issues):
            result.test(
                f"{category} per month",
                lambda c=category: stats.mann_kendall(by_category[c]),
                quantity="issues opened per month",
                group=category,
            )
    return result


# --- the whole report -----------------------------------------------------------------------

QUESTIONS: dict[str, Callable[[StudyData], Result]] = {
    "rq1_frequency": frequency,
    "rq2_time": time_to_close,
    "rq3_debate": debate,
    "rq4_people": specialization,
    "rq5_trends": trends,
}


def study_results(
    data: StudyData,
    correction: str = DEFAULT_CORRECTION,
    extra: dict[str, Callable[[StudyData], Result]] | None = None,
) -> dict[str, Result]:
    """Every research question's Result, keyed like QUESTIONS, and those of `extra` (e.g. a
    replicated study), with every p-value of the report adjusted together by `correction`
    (stats.CORRECTIONS) and the post-hoc tests run."""
    # The group contrast (the Ren et al. design) opens the report. It lives in analysis.groups,
    # which builds on this module's helpers, hence the import here rather than at the top.
    from analysis import groups

    computations = {groups.KEY: groups.group_contrast, **QUESTIONS, **(extra or {})}
    computed = {key: compute(data) for key, compute in computations.items()}
    correct(computed.values(), correction)
    return computed
