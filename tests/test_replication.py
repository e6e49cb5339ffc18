"""The replication of Makkouk et al. (ICSME 2022): the tests it uses, the fixed-vs-closed rule,
the monthly series, a small synthetic study end to end, and the real study's counts."""

from __future__ import annotations

import csv
import math
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.figure import Figure
from scipy import stats as scipy_stats

from analysis import fixing, queries, replication, stats
from db import open_database, schema, upsert
from miner import makkouk
from miner.store import ensure_repository, save_events, save_issues
from mlissues.cli import main
from tests.analysis_fixtures import PROVENANCE, issue, text_outside, write_synthetic_study

# --- the tests ------------------------------------------------------------------------------


def test_cox_stuart_on_hand_computed_series():
    # Odd length: the middle 5 goes; pairs (1, 4), (3, 6), (2, 8) all rise: p = 1/2^3.
    rising = stats.cox_stuart(pd.Series([1, 3, 2, 5, 4, 6, 8]))
    assert (rising.statistic, rising.n, rising.p_value) == (3, 3, 0.125)
    # Pairs (5, 0) (1, 3) (2, 2) (2, 7) (9, 4): the tie goes; 2 rises of 4: P(X >= 2) = 11/16.
    mixed = stats.cox_stuart(pd.Series([5, 1, 2, 2, 9, 0, 3, 2, 7, 4]))
    assert (mixed.statistic, mixed.n) == (2, 4)
    assert mixed.p_value == pytest.approx(11 / 16)
    assert mixed.effect == 0.5
    # 0.1 * 3 is not 0.3 in floating point, but the same share: a tie, not a rise.
    shares = stats.cox_stuart(pd.Series([0.3, 0.1, np.nan, 0.1 * 3, 0.2]))
    assert (shares.statistic, shares.n, shares.p_value) == (1, 1, 0.5)
    with pytest.raises(stats.NotEnoughDataError):
        stats.cox_stuart(pd.Series([2.0, 2.0, 2.0, 2.0]))


def test_mann_whitney_reports_cliffs_delta_with_a_reproducible_interval():
    # a vs b: 3 > 1, 3 > 2, 3 = 3, 4 > 1, 4 > 2, 4 > 3: delta = 5/6.
    result = stats.mann_whitney(pd.Series([3, 4]), pd.Series([1, 2, 3]))
    assert result.effect == pytest.approx(5 / 6)
    assert result.effect_name == "Cliff's delta"
    low = stats.mann_whitney(pd.Series(range(20)), pd.Series(range(10, 40)), resamples=200)
    again = stats.mann_whitney(pd.Series(range(20)), pd.Series(range(10, 40)), resamples=200)
    assert low == again
    assert -1 <= low.ci_low < low.effect < low.ci_high <= 1 and low.effect < 0
    assert low.statistic == scipy_stats.mannwhitneyu(range(20), range(10, 40)).statistic


def test_cox_hazard_ratio_recovers_a_known_ratio():
    rng = np.random.default_rng(1)
    exposed = pd.Series(np.repeat([True, False], 2000))
    durations = pd.Series(rng.exponential(np.where(exposed, 1.0, 2.0)))  # hazard twice as high
    observed = durations < 3  # censored at 3
    result = stats.cox_hazard_ratio(durations.clip(upper=3), observed, exposed)
    assert result.ci_low < 2 < result.ci_high
    assert result.effect == pytest.approx(2, rel=0.1) and result.p_value < 1e-10


def test_mann_kendall_can_correct_for_autocorrelation():
    walk = pd.Series(np.cumsum(np.random.default_rng(3).normal(size=60)))
    plain, corrected = stats.mann_kendall(walk), stats.mann_kendall(walk, "hamed_rao")
    assert corrected.test.startswith("Mann–Kendall, Hamed–Rao correction")
    assert corrected.statistic == plain.statistic and corrected.p_value != plain.p_value


# --- fixed is not closed --------------------------------------------------------------------


def _event(number: int, commit: str | None, actor: str, when: str) -> dict:
    return {
        "id": 500 + number,
        "event": "closed",
        "actor": {"login": actor, "id": 9000 + number},
        "commit_id": commit,
        "created_at": when,
        "issue": {"number": number},
    }


def test_fixed_means_a_fixing_commit_not_a_close(db_url):
    engine = open_database(db_url, create=True)
    items = [issue(n, 0) for n in (1, 2, 3, 4, 5)]  # 1-4 closed, 5 open
    commit_date = datetime(2020, 3, 1, 12)
    with engine.begin() as connection:
        repo_id = ensure_repository(connection, "acme/x", "http://127.0.0.1")
        save_issues(connection, repo_id, items, PROVENANCE)
        closed = {i["number"]: i["closed_at"] for i in items}
        events = [
            _event(1, "c1", "ada", closed[1]),  # closed by a commit
            _event(2, None, "bob", closed[2]),  # closed without one
            _event(3, "c3", "dee", closed[3]),  # also in the study's list below
        ]
        save_events(connection, repo_id, events, PROVENANCE)
        study = {"additions": 7, "deletions": 3, "changes": 10, "approach": "LINK"}
        upsert(
            connection,
            schema.fixes,
            [
                {"issue_id": items[2]["id"], "hash": "c3", "committed_at": commit_date}
                | {"author": "Cy Author", "source": "study"}
                | study,
                {"issue_id": items[4]["id"], "hash": "c5", "committed_at": commit_date}
                | {"author": "Ed Author", "source": "study"}
                | study,
            ],
            ["issue_id", "hash"],
        )
    fixes = fixing.read_fixes(engine)
    issues = queries.read_issues(engine)
    status = fixing.fix_status(issues, fixes).set_index(issues["number"])
    assert status["fixed"].to_dict() == {1: True, 2: False, 3: True, 4: False, 5: True}
    assert status.loc[1, "fixed_at"] == pd.Timestamp(closed[1].rstrip("Z"))  # its close
    assert status.loc[5, "fixed_at"] == commit_date  # open: its latest commit
    assert math.isnan(status.loc[1, "fix_lines"]) and status.loc[3, "fix_lines"] == 10
    assert status["fix_commits"].tolist() == [1, 0, 1, 0, 1]
    who = fixing.fixers(fixes).merge(issues[["issue_id", "number"]])
    assert sorted(zip(who["number"], who["fixer"], who["source"], strict=True)) == [
        (1, "ada", "events"),
        (3, "Cy Author", "study"),  # the study's row wins over the event's copy
        (5, "Ed Author", "study"),
    ]


# --- the monthly series ---------------------------------------------------------------------


def test_monthly_shares_count_bugs_open_and_fixed_at_each_month_start():
    design = replication.StudyDesign(
        "s", "s", "S", "perf", "non_perf", {"a/b": ("2020-01", "2020-03")}
    )
    t = pd.Timestamp
    bugs = pd.DataFrame(
        {
            "repository": "a/b",
            "focus": [True, False, False],
            "created_at": [t("2019-12-15"), t("2020-01-05"), t("2020-02-29 23:59")],
            # the last is closed at March's first instant: still open at that instant
            "closed_at": [t("2020-02-10"), pd.NaT, t("2020-03-01")],
            "fixed_at": [t("2020-02-10"), pd.NaT, pd.NaT],
        }
    )
    table = replication.monthly_shares(replication.ReplicationData(design, bugs, None), "a/b")
    assert table.index.astype(str).tolist() == ["2020-01", "2020-02", "2020-03"]
    assert table["open_perf"].tolist() == [1, 1, 0]
    assert table["open_all"].tolist() == [1, 2, 2]
    assert table["open_share"].tolist() == [100.0, 50.0, 0.0]
    assert table["fixed_all"].tolist() == [0, 0, 1]
    assert table["fixed_share"].fillna(-1).tolist() == [-1, -1, 100.0]


def test_the_end_of_collection_is_the_first_instant_of_the_last_month():
    assert replication.collection_end(replication.MAKKOUK, "pytorch/pytorch") == pd.Timestamp(
        "2021-04-01"
    )


# --- a small synthetic study, end to end ----------------------------------------------------


def test_replication_of_a_synthetic_study(tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    write_synthetic_study(folder)
    url = f"sqlite:///{tmp_path / 'r.db'}"
    engine = open_database(url, create=True)
    assert replication.report_entries(engine) == {}  # no study: the report is unchanged
    result = CliRunner().invoke(main, ["-q", "import-study", "makkouk", "--db", url, str(folder)])
    assert result.exit_code == 0, result.output
    assert replication.MAKKOUK.study == makkouk.SOURCE
    assert list(replication.report_entries(engine)) == [replication.MAKKOUK.key]
    draw, compute = replication.report_entries(engine)[replication.MAKKOUK.key]
    data = queries.load_study(engine)
    outcome = compute(data)
    counts = outcome.tables["counts"].set_index(["repository", "subset"])
    assert counts["bugs"].tolist() == [16] * 4
    assert counts["closed"].tolist() == [10] * 4  # k % 3 != 0 of k < 16
    assert counts["fixed"].tolist() == [5] * 4  # and k odd
    tests = replication.tests_table(outcome)
    assert tests.columns.tolist() == replication.TEST_COLUMNS
    assert len(tests) == 2 * (4 + 2 + len(replication.CONTRASTS)), outcome.notes
    assert tests["p_value"].between(0, 1).all()
    assert set(tests["group"]) == set(replication.MAKKOUK.windows)
    comments = tests[tests["quantity"] == "comments"]
    assert (comments["effect"] > 0).all()  # performance bugs got more comments
    figure = draw(data, outcome)
    assert isinstance(figure, Figure) and figure.get_figwidth() == pytest.approx(3.5)
    assert text_outside(figure) == []  # legible at one column: nothing clipped
    assert [axis.get_title(loc="left") for axis in figure.axes] == [
        "Performance bugs among open bugs",
        "Performance bugs among fixed bugs",
    ]


# --- the real study -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_study(tmp_path_factory, makkouk_study):
    folder = tmp_path_factory.mktemp("makkouk")
    engine = open_database(f"sqlite:///{folder / 'makkouk.db'}", create=True)
    makkouk.import_study(engine, makkouk_study)
    return replication.read_study_bugs(engine)


def _from_files(folder: Path, name: str) -> dict[str, int]:
    with (folder / name).open(newline="", encoding="utf-8") as handle:
        bugs = list(csv.DictReader(handle))
    fixes_file = folder / name.replace("_bugs_", "_fixes_")
    with fixes_file.open(newline="", encoding="utf-8") as handle:
        fixes = list(csv.DictReader(handle))
    listed = [re.findall(r"\(([0-9a-f]{40}),", row[makkouk.COMMITS_COLUMN]) for row in fixes]
    return {
        "bugs": len(bugs),
        "closed": sum(row["Date.of.last.time.closed"] != "Not found" for row in bugs),
        "fixed": sum(len(hashes) > 0 for hashes in listed),
        "fix_commits": sum(len(set(hashes)) for hashes in listed),  # once per issue
    }


@pytest.mark.study
@pytest.mark.slow
def test_real_study_counts_match_its_files(real_study, makkouk_study):
    counts = replication.counts(real_study).set_index(["repository", "subset"])
    for name, key in makkouk.FILES.items():
        assert counts.loc[key, ["bugs", "closed", "fixed", "fix_commits"]].to_dict() == (
            _from_files(makkouk_study, name)
        ), name


@pytest.mark.study
@pytest.mark.slow
def test_real_study_trend_tests_reproduce_the_published_p_values(real_study):
    result = replication.trends(real_study)
    tests = replication.tests_table(result).set_index(["group", "quantity", "test"])
    assert len(tests) == 8 and tests["p_value"].between(0, 1).all()
    cox_stuart = "Cox–Stuart (one-sided, increasing)"
    tf = tests.loc[("tensorflow/tensorflow", replication.OPEN_SHARE, cox_stuart)]
    assert (tf["statistic"], tf["n"], tf["p_value"]) == (30, 30, 0.5**30)  # 61 months
    torch = tests.loc[("pytorch/pytorch", replication.OPEN_SHARE, cox_stuart)]
    assert (torch["statistic"], torch["n"]) == (20, 26)  # 53 months
    published = result.tables["published"]
    assert len(published) == 4 and published["same"].all(), published.to_string()
    monthly = result.tables["monthly"]
    assert monthly.groupby("repository").size().to_dict() == {
        "pytorch/pytorch": 53,
        "tensorflow/tensorflow": 61,
    }
