"""The group contrast (the Ren et al. design): the report's first view, checked against values
written out from the synthetic study's own rules (tests/analysis_fixtures.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from analysis import groups, queries, results, stats
from analysis.figures import FIGURES
from analysis.report import build_report
from db import schema
from miner.store import save_study_metadata
from tests.analysis_fixtures import (
    PEOPLE,
    REPOSITORIES,
    START,
    add_close_events,
    build_study_db,
    category_of,
    fixed_with_commit,
)

PER_REPO = 30
COLLECTION_END = datetime(2020, 12, 31)
ML, TRADITIONAL = "ml", "traditional"


def _study(url: str):
    """Two groups, every issue labeled by people, close events with commits, a collection end;
    traditional issues have one comment more, and ada is a MEMBER of acme/mlframe (her latest
    issue there says so)."""
    engine = build_study_db(url, PER_REPO, all_human=True)
    add_close_events(engine)
    i = schema.issues
    with engine.begin() as connection:
        save_study_metadata(connection, {"collection_end": f"{COLLECTION_END:%Y-%m-%dT%H:%M:%SZ}"})
        traditional = select_repository(connection, "acme/webframe")
        connection.execute(
            i.update()
            .where(i.c.repository_id == traditional)
            .values(comments_count=i.c.comments_count + 1)
        )
        ml = select_repository(connection, "acme/mlframe")
        connection.execute(
            i.update()
            .where(i.c.repository_id == ml, i.c.number == 28)  # ada's latest issue there
            .values(author_association="MEMBER")
        )
    return engine


def select_repository(connection, name: str) -> int:
    r = schema.repositories
    return connection.execute(r.select().where(r.c.full_name == name)).one().id


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("groups")
    engine = _study(f"sqlite:///{folder / 'study.db'}")
    data = queries.load_study(engine)
    return data, build_report(engine, folder / "report"), results.study_results(data)


def _written_out(repo_index: int):
    """Per issue of one repository, from the fixture's rules: category, comments, closed,
    fixed and the time to fix for survival (days, observed)."""
    rows = []
    for n in range(1, PER_REPO + 1):
        created = START + timedelta(days=7 * n + repo_index)
        closed = n % 5 != 0
        fixed = closed and fixed_with_commit(n)
        close_days = n % 9 + 0.5
        days = close_days if closed else (COLLECTION_END - created) / timedelta(days=1)
        rows.append(
            {
                "number": n,
                "category": category_of(n, repo_index),
                "comments": n % 4 + repo_index,  # traditional (index 1) got one more
                "closed": closed,
                "fixed": fixed,
                "fixer": PEOPLE[n % 2] if fixed else None,
                "days": days,
            }
        )
    return pd.DataFrame(rows)


def _per_group(report, table: str) -> list[tuple[pd.Series, pd.DataFrame]]:
    """Per group: its row of the group contrast's `table`, and its written-out issues."""
    frame = report[2][groups.KEY].tables[table].set_index("group")
    return [(frame.loc[group], _written_out(i)) for i, group in enumerate((ML, TRADITIONAL))]


def test_the_group_contrast_opens_the_report(report):
    _, built, _ = report
    assert built.figures[0].name == "groups_contrast.png"
    tables = built.tables.read_text()
    sections = [line for line in tables.splitlines() if line.startswith("## ")]
    assert sections[0] == f"## {groups.TITLE}"
    page = built.index.read_text()
    assert page.index('id="groups_contrast"') < page.index('id="rq1_frequency"')
    tests = pd.read_csv(built.tests, keep_default_na=False)
    first = tests["question"].tolist()
    assert first[: first.count("GROUPS")] == ["GROUPS"] * first.count("GROUPS")
    assert first.count("GROUPS") >= 6


def test_category_shares_per_group_are_the_written_out_counts(report):
    _, _, computed = report
    contrast = computed[groups.KEY]
    system = contrast.tables["system_share"].set_index("group")["share"]
    expected = {}
    for index, group in enumerate((ML, TRADITIONAL)):
        categories = _written_out(index)["category"]
        expected[group] = (categories != "NSR").mean()  # ml 23/30, traditional 22/30
    assert system.to_dict() == pytest.approx(expected)
    differences = contrast.tables["share_differences"].set_index("category")
    assert differences.loc["system-related", "difference"] == pytest.approx(1 / 30)
    mix = contrast.tests["category mix: ml vs traditional"]
    share = contrast.tests["system-related share: ml vs traditional"]
    assert share.effect == pytest.approx(1 / 30)
    assert share.effect_low <= share.effect <= share.effect_high
    assert mix.test == share.test == "bootstrap Wald (Hotelling)"
    counts = {
        group: _written_out(index)["category"].value_counts(normalize=True)
        for index, group in enumerate((ML, TRADITIONAL))
    }
    tvd = 0.5 * (counts[ML] - counts[TRADITIONAL]).abs().sum()
    assert mix.effect == pytest.approx(tvd)
    assert 0 <= mix.p_value <= 1 and mix.p_adjusted >= mix.p_value


def test_time_to_fix_per_group_matches_kaplan_meier_by_hand(report):
    _, _, computed = report
    contrast = computed[groups.KEY]
    for row, issues in _per_group(report, "time_to_fix"):
        fitter = KaplanMeierFitter().fit(issues["days"], issues["fixed"])
        assert row["fixed"] == issues["fixed"].sum()
        assert row["km_median_days"] == pytest.approx(fitter.median_survival_time_)
    assert {"time to fix by group", "time to fix: traditional vs ml"} <= set(contrast.tests)
    ratio = contrast.tests["time to fix: traditional vs ml"]
    assert ratio.assumption is not None and ratio.assumption.test == stats.PH_CHECK
    assert any(note.startswith("proportional hazards checked") for note in contrast.notes)
    assert "censored at the study's collection end, 2020-12-31" in " ".join(contrast.notes)


def test_fixed_is_not_closed_and_fixers_are_the_commit_closers(report):
    _, _, computed = report
    contrast = computed[groups.KEY]
    for row, issues in _per_group(report, "fixed_vs_closed"):
        assert row["closed"] == issues["closed"].sum() == 24
        assert row["fixed"] == issues["fixed"].sum() == 16
        assert row["closed_without_fix"] == (issues["closed"] & ~issues["fixed"]).sum() == 8
        assert row["fixed_while_open"] == 0
    fixers = contrast.tables["fixers"].set_index("group")
    # ada fixes the even issues; she is a MEMBER of acme/mlframe only; bob's latest is NONE.
    ml = _written_out(0)
    assert fixers.loc[ML, "by_member"] == (ml["fixer"] == "ada").sum()
    assert fixers.loc[ML, "by_none"] == (ml["fixer"] == "bob").sum()
    assert fixers.loc[TRADITIONAL, "by_member"] == 0
    assert fixers.loc[TRADITIONAL, "by_unknown"] == 0
    assert "fixes by members by group" in contrast.tests


def test_specialization_of_fixers_written_out(report):
    for row, issues in _per_group(report, "specialization"):
        system = issues[issues["fixed"] & (issues["category"] != "NSR")]
        per_fixer = system.groupby("fixer")["category"]
        busy = [c for _, c in per_fixer if len(c) >= groups.MIN_FIXES]
        shares = [c.value_counts().max() / len(c) for c in busy]
        assert row["system_fixes"] == len(system)
        assert row["fixers"] == system["fixer"].nunique()
        assert row[f"fixers_{groups.MIN_FIXES}+"] == len(busy)
        assert row["top_category_share_mean"] == pytest.approx(np.mean(shares))


def test_debate_is_mann_whitney_with_cliffs_delta(report):
    _, _, computed = report
    test = computed[groups.KEY].tests["comments per issue: ml vs traditional"]
    ml, traditional = _written_out(0)["comments"], _written_out(1)["comments"]
    # Cliff's delta written out: P(ml > traditional) - P(ml < traditional) over all pairs.
    pairs = [(a, b) for a in ml for b in traditional]
    delta = (sum(a > b for a, b in pairs) - sum(a < b for a, b in pairs)) / len(pairs)
    u = sum(a > b for a, b in pairs) + 0.5 * sum(a == b for a, b in pairs)
    assert test.statistic == pytest.approx(u)
    assert test.effect == pytest.approx(delta) and delta < 0
    assert test.effect_low <= test.effect <= test.effect_high


def test_figure_is_column_wide_with_titled_panels(report):
    data, _, computed = report
    drawn = FIGURES[groups.KEY](data, computed[groups.KEY])
    assert drawn.get_figwidth() == pytest.approx(3.5)
    titles = [axis.get_title(loc="left") for axis in drawn.axes]
    assert titles == [
        "System-related share",
        "System categories by group",
        "Share not yet fixed by group",
        "Comments per issue",
        "Fixers of system-related issues",
    ]


# --- one group, no groups, placeholders, no events --------------------------------------------


def _regroup(engine, names: dict[str, str | None]) -> None:
    r = schema.repositories
    with engine.begin() as connection:
        for full_name, group in names.items():
            connection.execute(
                r.update().where(r.c.full_name == full_name).values(group_name=group)
            )


def test_one_group_skips_the_view_with_a_note(tmp_path):
    engine = build_study_db(f"sqlite:///{tmp_path / 'one.db'}", per_repo=10)
    _regroup(engine, dict.fromkeys(REPOSITORIES, "ml"))
    built = build_report(engine, tmp_path / "report")
    assert not (tmp_path / "report" / "groups_contrast.png").exists()
    assert "groups_contrast.pdf" not in [p.name for p in built.figures]
    tables = built.tables.read_text()
    assert "group contrast skipped: every grouped repository is in one group (ml)." in tables
    page = built.index.read_text()
    assert "group contrast skipped" in page and 'src="groups_contrast.png"' not in page
    assert "GROUPS" not in set(pd.read_csv(built.tests)["question"])


def test_no_study_groups_skips_the_view_and_rq2_tests_repositories(tmp_path):
    engine = build_study_db(f"sqlite:///{tmp_path / 'none.db'}", per_repo=10)
    _regroup(engine, dict.fromkeys(REPOSITORIES))
    computed = results.study_results(queries.load_study(engine))
    assert computed[groups.KEY].skipped.startswith("group contrast skipped: no repository")
    assert "time to close by group" in computed["rq2_time"].tests


def test_placeholder_associations_are_unknown_not_zero(tmp_path):
    engine = build_study_db(f"sqlite:///{tmp_path / 'placeholder.db'}", per_repo=20)
    add_close_events(engine)
    with engine.begin() as connection:  # the corpus' filler: NONE on every issue
        connection.execute(schema.issues.update().values(author_association="NONE"))
    contrast = groups.group_contrast(queries.load_study(engine))
    fixers = contrast.tables["fixers"].set_index("group")
    assert (fixers["by_unknown"] == fixers["fixes"]).all()
    assert (fixers[["by_member", "by_contributor", "by_none"]] == 0).all().all()
    assert fixers["member_share"].isna().all()  # printed as '–', never 0%
    assert "fixes by members by group" not in contrast.tests


def test_without_events_fixes_are_unknown_and_time_is_to_close(tmp_path):
    engine = build_study_db(f"sqlite:///{tmp_path / 'closed.db'}", per_repo=10)
    data = queries.load_study(engine)
    contrast = groups.group_contrast(data)
    assert "fixed_vs_closed" not in contrast.tables and "time_to_close" in contrast.tables
    assert results.FIXES_UNKNOWN in contrast.notes
    assert any(note.startswith("time to close, not to fix") for note in contrast.notes)
    people = results.specialization(data)
    assert "fixed_vs_closed" not in people.tables and results.FIXES_UNKNOWN in people.notes
