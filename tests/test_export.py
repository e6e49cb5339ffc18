"""The exported dataset: round trip, documentation of every column, Frictionless validity."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from analysis import queries
from analysis.export import TABLES, ExportError, agreement, export_dataset, validate_package
from mlissues.cli import main
from tests.analysis_fixtures import annotation, build_study_db


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    engine = build_study_db(f"sqlite:///{folder / 'study.db'}", title="<b>secret title</b>")
    export_dataset(engine, folder / "dataset")
    return engine, folder / "dataset"


def test_export_round_trips_counts(exported):
    engine, folder = exported
    data = queries.load_study(engine)
    issues = pd.read_csv(folder / "issues.csv")
    assert len(issues) == len(data.issues) == 60
    assert issues["category_source"].value_counts().to_dict() == {
        k: v for k, v in data.source_counts().items() if v
    }
    assert issues["category"].value_counts().to_dict() == (
        data.issues["category"].value_counts().to_dict()
    )
    assert issues["closed"].sum() == data.issues["closed"].sum()
    assert issues["time_to_close_days"].round(6).tolist() == pytest.approx(
        data.issues["time_to_close_days"].round(6).tolist(), nan_ok=True
    )
    assert len(pd.read_csv(folder / "annotations.csv")) == len(queries.read_annotations(engine))
    assert len(pd.read_csv(folder / "labels.csv")) == len(data.labels)
    assert len(pd.read_csv(folder / "people.csv")) == len(data.people)
    assert len(pd.read_csv(folder / "predictions.csv")) == len(queries.read_predictions(engine))


def test_no_issue_text_is_exported(exported):
    _, folder = exported
    for path in folder.glob("*.csv"):
        text = path.read_text()
        assert "secret title" not in text and "synthetic comment" not in text, path.name
    header = pd.read_csv(folder / "issues.csv", nrows=0).columns
    assert "title" not in header and "body" not in header
    assert pd.read_csv(folder / "issues.csv")["url"].str.startswith("https://github.com/").all()


def test_every_column_is_documented(exported):
    _, folder = exported
    dictionary = (folder / "data_dictionary.md").read_text()
    for table, fields in TABLES.items():
        assert list(pd.read_csv(folder / f"{table}.csv", nrows=0).columns) == [
            f.name for f in fields
        ]
        for f in fields:
            assert f"| {f.name} | {f.type} |" in dictionary
    assert "closed_at - created_at in days" in dictionary
    sheet = (folder / "datasheet.md").read_text()
    for section in ("Motivation", "Composition", "Collection", "Labeling and agreement", "Limits"):
        assert f"## {section}" in sheet


def test_datapackage_validates_and_catches_a_broken_file(exported, tmp_path):
    _, folder = exported
    descriptor = json.loads((folder / "datapackage.json").read_text())
    assert [r["name"] for r in descriptor["resources"]] == list(TABLES)
    validate_package(folder / "datapackage.json")
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in folder.iterdir():
        (broken / path.name).write_bytes(path.read_bytes())
    lines = (broken / "issues.csv").read_text().splitlines()
    lines[1] = "not-a-number," + lines[1].split(",", 1)[1]
    (broken / "issues.csv").write_text("\n".join(lines) + "\n")

    with pytest.raises(ExportError, match="does not validate"):
        validate_package(broken / "datapackage.json")


def test_agreement_by_hand():
    # Two annotators on three issues, agreeing on two: raw agreement 2/3.
    rows = [
        annotation(1, "a", "MA"),
        annotation(1, "b", "MA"),
        annotation(2, "a", "IO"),
        annotation(2, "b", "IO"),
        annotation(3, "a", "MA"),
        annotation(3, "b", "IO"),
        annotation(4, "a", "IO"),  # one annotator only: not counted
    ]
    result = agreement(pd.DataFrame(rows))
    assert result["issues"] == 3
    assert result["agreement"] == pytest.approx(2 / 3)
    # Krippendorff's alpha by hand: 6 values (3 MA, 3 IO), D_o = 2/6, D_e = 2·3·3/(6·5) = 0.6.
    assert result["alpha"] == pytest.approx(1 - (2 / 6) / 0.6)


def test_export_command(tmp_path):
    url = f"sqlite:///{tmp_path / 'small.db'}"
    build_study_db(url, per_repo=5)
    out = tmp_path / "dataset"
    result = CliRunner().invoke(main, ["-q", "export", "--db", url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{t}.csv" for t in TABLES] + ["data_dictionary.md", "datasheet.md", "datapackage.json"]
    )
