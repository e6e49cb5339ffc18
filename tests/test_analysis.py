"""Queries, figures and the report on a small synthetic study database."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from click.testing import CliRunner

from analysis import queries, results
from analysis.figures import FIGURES
from analysis.report import build_report, tables_markdown
from db import open_database, schema
from mlissues.cli import main
from tests.analysis_fixtures import START, annotation, build_study_db, prediction

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
def two_reports(study, tmp_path_factory):
    """The report built twice from the same database: by the command, then by the library."""
    engine, _ = study
    folder = tmp_path_factory.mktemp("reports")
    url = engine.url.render_as_string()
    args = ["-q", "figures", "--db", url, "--out", str(folder / "one")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return folder / "one", build_report(engine, folder / "two")


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
    time = results.time_to_close(data)
    assert time.tables["per_group"]["issues"].sum() == 60
    assert {"survival by group", "survival by category"} <= set(time.tests)
    debate = results.debate(data)
    assert "comments vs time to close (all closed issues)" in debate.tests
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


def test_every_table_of_the_report_is_in_tables_md(study, two_reports):
    _, data = study
    text = two_reports[1].tables.read_text()
    for _, compute in FIGURES.values():
        result = compute(data)
        assert f"## {result.title}" in text
        for name in result.tables:
            assert f"### {name}" in text


def _render_all(engine) -> str:
    """Every figure drawn (PNG in memory) and the tables as markdown."""
    data = queries.load_study(engine)
    computed = []
    for draw, compute in FIGURES.values():
        result = compute(data)
        draw(data, result).savefig(io.BytesIO(), format="png", dpi=30)
        computed.append(result)
    return tables_markdown(data, computed)


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
        + ["index.html", "tables.md"]
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
