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

SCRIPT = "<script>alert('x')</script>"


def _resolve(annotations: list[dict], predictions: list[dict], threshold: float = 0.5):
    issues = pd.DataFrame({"issue_id": [1, 2, 3, 4, 5, 6]})
    columns = ["issue_id", "annotator", "category", "status", "kind", "created_at"]
    frame = pd.DataFrame(annotations, columns=columns)
    preds = pd.DataFrame(
        predictions,
        columns=["issue_id", "model_version", "category", "probability", "abstained", "created_at"],
    )
    out = queries.resolve_categories(issues, frame, preds, threshold)
    table = out.set_index("issue_id")[["category", "category_source", "confidence"]]
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
        annotation(3, "b", "COMPL"),  # disagreement, no adjudication: the classifier decides
        annotation(4, "a", None),  # skipped: does not count
    ]
    predictions = [
        prediction(3, "RU", 0.8),
        prediction(4, "IO", 0.4),  # below the threshold
        prediction(5, "IO", 0.9, abstained=True),
        prediction(6, "IO", 0.6) | {"model_version": "old"},
        prediction(6, "CONN", 0.7) | {"model_version": "new", "created_at": later},
    ]
    table = _resolve(annotations, predictions)
    assert table.to_dict("index") == {
        1: {"category": "MA", "category_source": "human", "confidence": None},
        2: {"category": "EXEC", "category_source": "human", "confidence": None},
        3: {"category": "RU", "category_source": "classifier", "confidence": 0.8},
        4: {"category": None, "category_source": "none", "confidence": None},
        5: {"category": None, "category_source": "none", "confidence": None},
        6: {"category": "CONN", "category_source": "classifier", "confidence": 0.7},
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
    # Odd numbers are labeled by a human; numbers divisible by 4 get a confident prediction.
    assert data.source_counts() == {"human": 30, "classifier": 14, "none": 16}
    assert data.source_note().startswith("categories: 30 human, 14 classifier (p ≥ 0.5)")
    closed = data.issues[data.issues["closed"]]
    expected = (closed["closed_at"] - closed["created_at"]).dt.total_seconds() / 86400
    assert closed["time_to_close_days"].tolist() == expected.tolist()
    assert data.issues.loc[~data.issues["closed"], "time_to_close_days"].isna().all()
    assert (data.issues["duration_days"] >= 0).all()
    assert set(data.people["role"]) == {"author", "closer", "commenter"}


def test_results_hold_expected_tables_and_tests(study):
    _, data = study
    frequency = results.frequency(data)
    assert frequency.tables["overall"]["count"].sum() == 44
    assert set(frequency.tables["per_group"]["group"]) == {"ml", "traditional"}
    assert "group × category" in frequency.tests
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
    assert "categories: 30 human, 14 classifier" in page


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
    assert "group × category: not computed" in text


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


def test_threshold_changes_classifier_counts(study):
    engine, _ = study
    strict = queries.load_study(engine, threshold=0.95)
    assert strict.source_counts()["classifier"] == 0
    loose = queries.load_study(engine, threshold=0.2)
    assert loose.source_counts()["classifier"] == 30


def test_load_study_is_the_same_on_every_backend(db_url, tmp_path):
    reference = queries.load_study(build_study_db(f"sqlite:///{tmp_path / 'ref.db'}", per_repo=8))
    data = queries.load_study(build_study_db(db_url, per_repo=8))
    columns = ["issue_id", "category", "category_source", "duration_days", "participants"]
    pd.testing.assert_frame_equal(data.issues[columns], reference.issues[columns])
    assert len(data.people) == len(reference.people)
