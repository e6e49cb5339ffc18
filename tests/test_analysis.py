"""Queries, figures and the report on a small synthetic study database."""

from __future__ import annotations

import copy
import dataclasses
import io
import re
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from analysis import groups, queries, results, stats
from analysis.figures import FIGURES
from analysis.report import build_report, tables_markdown
from db import open_database, schema
from miner.store import save_study_metadata
from mlissues.cli import main
from tests.analysis_fixtures import START, annotation, build_study_db, prediction, text_outside

LATER = START.replace(year=2022)

SCRIPT = "<script>alert('x')</script>"


def _resolve(annotations: list[dict], predictions: list[dict]):
    issues = pd.DataFrame({"issue_id": [1, 2, 3, 4, 5, 6]})
    columns = ["issue_id", "annotator", "category", "status", "kind", "created_at"]
    frame = pd.DataFrame(annotations, columns=columns)
    preds = pd.DataFrame(predictions)
    out = queries.resolve_categories(issues, frame, preds)
    table = out.set_index("issue_id")[["category", "category_source", "model_category"]]
    return table.astype(object).where(table.notna(), None)


def test_category_resolution_order():
    later = START.replace(year=2021)
    annotations = [
        annotation(1, "a", "MLEAK"),
        annotation(1, "b", "MA"),  # disagreement ...
        annotation(1, "judge", "MA", kind="adjudication"),  # ... settled by adjudication
        annotation(2, "a", "EXEC"),
        annotation(2, "b", "EXEC"),  # agreement
        annotation(3, "a", "EXEC"),
        annotation(3, "b", "COMPL"),  # disagreement, no adjudication: the model decides
        annotation(4, "a", None),  # skipped: does not count
    ]
    predictions = [
        prediction(2, "NSR", 0.9),  # a human label wins; the model's decision stays beside it
        prediction(3, "RU", 0.8),
        prediction(4, "IO", 0.4),  # low probability: still the model's decision
        prediction(5, "IO", 0.3, abstained=True),  # abstained: marked, never hidden
        prediction(6, "IO", 0.6),
        prediction(6, "CONN", 0.7) | {"created_at": later},  # the newest prediction counts
    ]
    table = _resolve(annotations, predictions)
    assert table.to_dict("index") == {
        1: {"category": "MA", "category_source": "human", "model_category": None},
        2: {"category": "EXEC", "category_source": "human", "model_category": "NSR"},
        3: {"category": "RU", "category_source": "classifier", "model_category": "RU"},
        4: {"category": "IO", "category_source": "classifier", "model_category": "IO"},
        5: {"category": "IO", "category_source": "classifier", "model_category": "IO"},
        6: {"category": "CONN", "category_source": "classifier", "model_category": "CONN"},
    }


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    engine = build_study_db(f"sqlite:///{folder / 'study.db'}", title=SCRIPT)
    return engine, queries.load_study(engine)


@pytest.fixture(scope="module")
def computed(study):
    """The report's results (every p-value adjusted over all of them)."""
    return results.study_results(study[1])


@pytest.fixture(scope="module")
def two_reports(study, tmp_path_factory):
    """The report built twice from the same database: by the command, then by the library."""
    engine, _ = study
    folder = tmp_path_factory.mktemp("reports")
    url = engine.url.render_as_string()
    args = ["-q", "figures", "--db", url, "--out", str(folder / "one")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return folder / "one", build_report(engine, folder / "two")


def test_source_note_warns_when_category_views_cover_only_some_issues(study):
    _, data = study
    # As in a study imported without texts: only 15 of the 60 issues have a category.
    sources = data.issues["category_source"].where(data.issues.index < 15, "none")
    partial = dataclasses.replace(data, issues=data.issues.assign(category_source=sources))
    assert partial.source_note() == (
        "categories: 8 human, 7 decided by model test-1, 45 not classified (category views "
        "describe the 25.0% of issues with a category, which need not be a sample of the rest)"
    )


def test_load_study_counts_sources_and_excludes_pull_requests(study):
    _, data = study
    assert len(data.issues) == 60
    # Odd numbers are labeled by a human, even ones classified (half of them abstained).
    assert data.source_counts() == {"human": 30, "classifier": 30, "none": 0}
    assert data.source_note() == (
        "categories: 30 human, 30 decided by model test-1, 0 not classified"
    )
    closed = data.issues[data.issues["closed"]]
    expected = (closed["closed_at"] - closed["created_at"]).dt.total_seconds() / 86400
    assert closed["time_to_close_days"].tolist() == expected.tolist()
    assert data.issues.loc[~data.issues["closed"], "time_to_close_days"].isna().all()
    assert (data.issues["duration_days"] >= 0).all()
    assert set(data.people["role"]) == {"author", "closer", "commenter"}


def test_results_hold_expected_tables_and_tests(study):
    _, data = study
    frequency = results.frequency(data)
    shares = frequency.tables["shares"]
    assert set(shares["group"]) == {"all", "ml", "traditional"}
    assert shares.groupby("group")["share"].sum().round(9).eq(1).all()
    assert (shares["ci_low"] <= shares["share"]).all()
    assert (shares["share"] <= shares["ci_high"]).all()
    assert set(shares["estimator"]) == {"PACC"}
    overall = shares[shares["group"] == "all"].iloc[0]
    assert (overall["n"], overall["n_human"], overall["n_model"]) == (60, 30, 30)
    assert "group × category (human labels)" in frequency.tests
    system = frequency.tables["system_share"].set_index("group")
    nsr = shares[shares["category"] == "NSR"].set_index("group")
    assert (system["ci_low"] - (1 - nsr["ci_high"])).abs().max() < 1e-12
    assert (system["ci_high"] - (1 - nsr["ci_low"])).abs().max() < 1e-12
    time = results.time_to_close(data)
    assert time.tables["per_group"]["issues"].sum() == 60
    assert "time to close by category" in time.tests
    # Across study groups, time is tested once: in the group contrast, not again here.
    assert not any("ml" in name for name in time.tests)
    contrast = groups.group_contrast(data)
    assert {"time to close by group", "time to close: traditional vs ml"} <= set(contrast.tests)
    ratios = [t for t in time.tests.values() if t.effect_name == "hazard ratio vs NSR"]
    assert {t.group for t in ratios} == {"MLEAK vs NSR", "COMPL vs NSR", "EXEC vs NSR"}
    assert all(t.effect_low <= t.effect <= t.effect_high for t in ratios)
    per_category = time.tables["per_category"]
    assert (per_category["km_median_low"] <= per_category["km_median_days"]).all()
    debate = results.debate(data)
    assert {"time to close vs comments", "comments vs time to close (closed issues only)"} <= set(
        debate.tests
    )
    assert any(note.startswith("Spearman correlations with time") for note in debate.notes)
    people = results.specialization(data)
    assert set(people.tables["concentration"]["role"]) == {"author", "closer", "commenter"}
    trends = results.trends(data)
    assert trends.tables["monthly_by_group"].notna().any().all()


def test_figures_are_byte_identical_across_runs(two_reports):
    first, second = two_reports
    assert len(second.figures) == 2 * len(FIGURES)
    for path in [*second.figures, second.tables, second.index]:
        assert path.read_bytes() == (first / path.name).read_bytes(), path.name
    assert b"CreationDate" not in (first / "rq1_frequency.pdf").read_bytes()


def test_report_escapes_issue_text(two_reports):
    _, report = two_reports
    page = report.index.read_text()
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert SCRIPT not in report.tables.read_text()
    assert "categories: 30 human, 30 decided by model test-1" in page


def test_every_table_of_the_report_is_in_tables_md(computed, two_reports):
    text = two_reports[1].tables.read_text()
    for result in computed.values():
        assert f"## {result.title}" in text
        for name in result.tables:
            assert f"### {name}" in text


def _render_all(engine) -> str:
    """Every figure drawn (PNG in memory) and the tables as markdown."""
    data = queries.load_study(engine)
    computed = results.study_results(data)
    for name, draw in FIGURES.items():
        draw(data, computed[name]).savefig(io.BytesIO(), format="png", dpi=30)
    return tables_markdown(data, list(computed.values()))


def _single_category_db(url: str):
    engine = open_database(url, create=True)
    build_study_db(url, per_repo=6)
    with engine.begin() as connection:
        connection.execute(schema.predictions.delete())
        connection.execute(schema.annotations.update().values(category="EXEC"))
    return engine


def test_degenerate_data_gives_notes_not_crashes(tmp_path):
    engine = _single_category_db(f"sqlite:///{tmp_path / 'one.db'}")
    text = _render_all(engine)
    assert "group × category (human labels): not computed" in text


def test_no_closed_and_no_categorized_issue(tmp_path):
    url = f"sqlite:///{tmp_path / 'open.db'}"
    engine = build_study_db(url, per_repo=4)
    with engine.begin() as connection:
        connection.execute(schema.issues.update().values(state="open", closed_at=None))
        connection.execute(schema.annotations.delete())
        connection.execute(schema.predictions.delete())
    text = _render_all(engine)
    assert "no issue has a category yet" in text
    assert "no issue is closed" in text


def test_empty_database_is_one_clear_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    open_database(url, create=True)
    result = CliRunner().invoke(main, ["figures", "--db", url, "--out", str(tmp_path / "r")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: the database holds no issues; load some first "
        "(mlissues crawl OWNER/REPO, or mlissues import-study makkouk DIR)"
    ]


def test_figures_command_writes_every_file(two_reports):
    assert sorted(p.name for p in two_reports[0].iterdir()) == sorted(
        [f"{name}.{ext}" for name in FIGURES for ext in ("pdf", "png")]
        + ["index.html", "tables.md", "tests.csv"]
    )


def test_one_model_is_used_and_named(tmp_path):
    """Predictions of a newer model that classified fewer issues do not replace the study
    model's decisions unless asked for; an unknown model is one clear line."""
    url = f"sqlite:///{tmp_path / 'models.db'}"
    engine = build_study_db(url, per_repo=8)
    issues = queries.load_study(engine).issues
    first = int(issues.loc[issues["category_source"] == "classifier", "issue_id"].iloc[0])
    with engine.begin() as connection:
        newer = prediction(first, "IO", 0.99) | {"model_version": "test-2", "created_at": LATER}
        connection.execute(schema.predictions.insert(), [newer])
    assert queries.load_study(engine).model_version == "test-1"
    chosen = queries.load_study(engine, "test-2")
    assert chosen.source_counts()["classifier"] == 1
    assert "decided by model test-2" in chosen.source_note()
    result = CliRunner().invoke(
        main, ["figures", "--db", url, "--model", "nope", "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: model nope has no predictions in this database")


def test_load_study_is_the_same_on_every_backend(db_url, tmp_path):
    reference = queries.load_study(build_study_db(f"sqlite:///{tmp_path / 'ref.db'}", per_repo=8))
    data = queries.load_study(build_study_db(db_url, per_repo=8))
    columns = ["issue_id", "category", "category_source", "duration_days", "participants"]
    pd.testing.assert_frame_equal(data.issues[columns], reference.issues[columns])
    assert len(data.people) == len(reference.people)


# --- statistics of the whole report ---------------------------------------------------------


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment, written out: sorted p times (m - rank), running max."""
    order = np.argsort(p, kind="stable")
    steps = np.maximum.accumulate((len(p) - np.arange(len(p))) * p[order])
    adjusted = np.empty(len(p))
    adjusted[order] = np.minimum(steps, 1)
    return adjusted


def test_tests_csv_rows_equal_the_report_tests_and_follow_holm(computed, two_reports):
    frame = pd.read_csv(
        two_reports[0] / "tests.csv", keep_default_na=False, float_precision="round_trip"
    )
    assert list(frame.columns) == list(results.TEST_COLUMNS)
    expected = []
    for r in computed.values():
        for t in r.tests.values():
            expected.append((r.question, t.quantity, t.group, t.test, t.n, t.p_value, t.p_adjusted))
            if t.assumption:  # a Cox model's proportional-hazards check follows it, uncorrected
                check = f"{t.quantity}: proportional-hazards assumption"
                expected.append(
                    (r.question, check, t.group, stats.PH_CHECK, t.assumption.n, None, "")
                )
    columns = ["question", "quantity", "group", "test", "n", "p_value", "p_adjusted"]
    frame["p_adjusted"] = [p if p == "" else float(p) for p in frame["p_adjusted"]]
    rows = list(frame[columns].itertuples(index=False, name=None))
    checks = [i for i, row in enumerate(expected) if row[3] == stats.PH_CHECK]
    assert checks and all(0 <= rows[i][5] <= 1 for i in checks)
    assert [row[:5] + row[6:] for row in rows] == [row[:5] + row[6:] for row in expected]
    assert [rows[i][5] for i in range(len(rows)) if i not in checks] == [
        row[5] for row in expected if row[3] != stats.PH_CHECK
    ]
    assert len(frame) > 10 and set(frame["question"]) == {
        "GROUPS", "RQ1", "RQ2", "RQ3", "RQ4", "RQ5"
    }  # fmt: skip
    assert frame["question"].iloc[0] == "GROUPS"  # the group contrast comes first
    corrected = frame[frame["test"] != stats.PH_CHECK]
    assert corrected["p_adjusted"].astype(float).to_numpy() == pytest.approx(
        _holm(corrected["p_value"].to_numpy())
    )
    tables = two_reports[1].tables.read_text()
    assert f"Holm correction over all {len(corrected)} tests" in tables


def test_benjamini_hochberg_correction(computed):
    recomputed = copy.deepcopy(list(computed.values()))
    results.correct(recomputed, "fdr_bh")
    tests = results.tests_frame(recomputed)
    tests = tests[tests["test"] != stats.PH_CHECK]  # checks of a model, not corrected
    p = tests["p_value"].to_numpy()
    m = len(p)
    # BH written out: p_(k) · m / k, then the running minimum from the largest p down.
    order = np.argsort(p)[::-1]
    steps = np.minimum.accumulate(p[order] * m / (m - np.arange(m)))
    expected = np.empty(m)
    expected[order] = np.minimum(steps, 1)
    assert tests["p_adjusted"].to_numpy() == pytest.approx(expected)


def _kruskal_result(p_value: float) -> results.Result:
    result = results.Result("rq9_test", "RQ9 test", "source")
    test = stats.StatResult(test="Kruskal–Wallis", statistic=1.0, p_value=p_value, n=10)
    result.add("x by category", test, "x", "category")
    result.posthoc["x by category"] = lambda: pd.DataFrame({"pairs": ["a-b"]})
    return result


def test_posthoc_runs_only_when_significant_after_correction():
    significant, corrected_away, other = (_kruskal_result(p) for p in (0.001, 0.03, 0.04))
    results.correct([significant])
    assert "post-hoc: x by category" in significant.tables
    # 0.03 alone would be significant; with a second test Holm makes it 0.06.
    results.correct([corrected_away, other])
    assert corrected_away.tests["x by category"].p_adjusted == pytest.approx(0.06)
    assert "post-hoc: x by category" not in corrected_away.tables
    assert "x by category: not significant after correction, so no post-hoc test" in (
        corrected_away.notes
    )


# --- time: censoring and unknown close times ------------------------------------------------


def test_closed_without_a_close_date_is_left_out_never_open(tmp_path):
    engine = build_study_db(f"sqlite:///{tmp_path / 'unknown.db'}", per_repo=10)
    with engine.begin() as connection:  # issue 1 of acme/mlframe was closed after 1.5 days
        connection.execute(
            schema.issues.update().where(schema.issues.c.id == 10_001).values(closed_at=None)
        )
    data = queries.load_study(engine)
    row = data.issues.set_index("issue_id").loc[10_001]
    assert (row["close_time_unknown"], row["closed"]) == (True, False)
    assert np.isnan(row["duration_days"])
    time = results.time_to_close(data)
    assert groups.group_contrast(data).tests["time to close by group"].n == 19
    assert time.tables["per_group"]["closed_time_unknown"].tolist() == [1, 0]
    assert any(note.startswith("1 issue(s) closed without a close date") for note in time.notes)


def _durations(engine) -> pd.Series:
    data = queries.load_study(engine)
    return data.issues.set_index("issue_id")["duration_days"], data


def test_open_issues_are_censored_at_the_collection_end(tmp_path):
    engine = build_study_db(f"sqlite:///{tmp_path / 'ends.db'}", per_repo=10)
    # Issue 5 of acme/mlframe (id 10005) stays open; it was opened on 2020-02-05.
    opened = START + timedelta(days=35)
    stored, data = _durations(engine)
    latest = data.issues.loc[data.issues["repository"] == "acme/mlframe", "updated_at"].max()
    assert stored[10_005] == (latest - opened) / timedelta(days=1)
    assert "latest time stored" in data.censoring

    crawl_end = datetime(2021, 6, 1)
    with engine.begin() as connection:
        repository = connection.execute(select(schema.repositories.c.id)).scalars().first()
        connection.execute(
            schema.crawl_state.insert(),
            [{"repository_id": repository, "endpoint": "issues", "status": "done",
              "finished_at": crawl_end}],
        )  # fmt: skip
    crawled, data = _durations(engine)
    assert crawled[10_005] == (crawl_end - opened) / timedelta(days=1)
    assert crawled[20_005] == stored[20_005]  # the other repository has no crawl recorded
    assert "latest crawl (1 of 2 repositories)" in data.censoring

    with engine.begin() as connection:
        save_study_metadata(connection, {"collection_end": "2020-02-20T00:00:00Z"})
    study, data = _durations(engine)
    end = datetime(2020, 2, 20)
    assert study[10_005] == (end - opened) / timedelta(days=1)
    issues = data.issues.set_index("issue_id")
    # Issue 6 (opened 2020-02-12) closed on 2020-02-19 12:00: before the end, an event.
    assert issues.loc[10_006, "closed"]
    # Issue 7 (opened 2020-02-19) closed after the end: still open then, censored there.
    assert not issues.loc[10_007, "closed"] and study[10_007] == pytest.approx(1.0)
    assert np.isnan(study[10_008])  # opened after the end: outside the window
    assert data.censoring == (
        "open issues censored at the study's collection end, 2020-02-20 00:00 UTC"
    )
    assert any("opened after the collection end" in n for n in results.time_to_close(data).notes)


# --- small groups and placeholders ----------------------------------------------------------


@pytest.fixture(scope="module")
def thin(tmp_path_factory):
    """60 issues: 3 of them moved into a small category (IO), and author_association a
    placeholder ('NONE' on every issue), as in the shared corpus."""
    url = f"sqlite:///{tmp_path_factory.mktemp('thin') / 'thin.db'}"
    engine = build_study_db(url)
    a = schema.annotations
    with engine.begin() as connection:
        connection.execute(a.update().where(a.c.issue_id.in_([10_001, 10_003, 10_005])).values(
            category="IO"))  # fmt: skip
        connection.execute(schema.issues.update().values(author_association="NONE"))
    data = queries.load_study(engine)
    return data, results.study_results(data)


def test_small_categories_are_pooled_and_left_out_of_tests(thin):
    _, computed = thin
    per_category = computed["rq2_time"].tables["per_category"]
    assert per_category["category"].tolist() == ["COMPL", "EXEC", "MLEAK", "NSR", "other"]
    assert per_category.set_index("category").loc["other", "issues"] == 3
    assert "1 category value(s) with fewer than 10 issues pooled as 'other' (IO)" in " ".join(
        computed["rq2_time"].notes
    )
    tested = results.tests_frame(computed.values())
    assert not tested["group"].str.contains("IO|other").any()
    assert computed["rq3_debate"].tables["per_category"]["category"].iloc[-1] == "other"


def test_placeholder_author_association_is_unknown_not_zero(thin):
    data, computed = thin
    people = computed["rq4_people"]
    assert "member_authors" not in people.tables
    assert any(
        note.startswith("author_association unknown (one placeholder value") and "'NONE'" in note
        for note in people.notes
    )
    # No members panel; and with 4 people the top 5 handle everything, so no panel for that.
    figure = FIGURES["rq4_people"](data, people)
    titles = [axis.get_title(loc="left") for axis in figure.axes]
    assert titles == ["Concentration of issues among people"]


# --- figures and tables a reader reads ------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["groups_contrast", "rq1_frequency", "rq2_time", "rq3_debate", "rq4_people", "rq5_trends"],
)
def test_figures_fit_one_column_without_clipped_text_or_empty_panels(study, computed, thin, name):
    for data, by_key in (thin, (study[1], computed)):
        figure = FIGURES[name](data, by_key[name])
        assert figure.get_figwidth() == pytest.approx(3.5)
        assert text_outside(figure) == []
        for axis in figure.axes:
            if axis.get_label() != "<colorbar>":
                assert axis.has_data(), f"{name}: panel {axis.get_title(loc='left')!r} is empty"
                assert axis.get_title(loc="left"), f"{name}: a panel without a title"


def test_tables_print_no_nan_none_or_float_noise(two_reports):
    for path in (two_reports[1].tables, two_reports[1].index):
        text = path.read_text()
        assert not re.search(r"\bnan\b|\bNone\b|\d[eE][-+]\d", text), path.name
        assert "p = 0.000" not in text and "| 0.0000" not in text
    # Every p-value cell of the tests tables is APA style: '< 0.001' or three decimals.
    rows = [line for line in two_reports[1].tables.read_text().splitlines() if "Kruskal" in line]
    assert rows and all(re.search(r"\| (< 0\.001|[01]\.\d{3}) \|", row) for row in rows)


def test_trend_figure_draws_no_category_series_sparser_than_one_issue_a_month(study, computed):
    data, dense = study[1], computed["rq5_trends"]

    def panel_titles(result) -> list[str]:
        figure = FIGURES["rq5_trends"](data, result)
        return [axis.get_title(loc="left") for axis in figure.axes]

    assert "Issues per month, 3 largest system categories" in panel_titles(dense)
    # 12 memory leaks over 30 months: spikes between zeros, not a series to read a trend in.
    months = pd.period_range("2019-01", periods=30, freq="M")
    sparse = pd.DataFrame({"MLEAK": [2, 0, 0, 0, 0] * 6, "NSR": [40] * 30}, index=months)
    thinned = copy.deepcopy(dense)
    thinned.tables["monthly_by_category"] = sparse
    assert sparse["MLEAK"].sum() >= results.MIN_GROUP_SIZE
    assert not any("largest system categories" in t for t in panel_titles(thinned))
