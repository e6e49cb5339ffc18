"""The exported dataset: round trip, documentation of every column, Frictionless validity."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from analysis import export, queries
from analysis.export import TABLES, ExportError, agreement, export_dataset, validate_package
from miner.store import save_study_metadata
from mlissues.cli import main
from tests.analysis_fixtures import PEOPLE, annotation, build_study_db

ROOT = Path(__file__).resolve().parent.parent


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


GEBRU_SECTIONS = (
    "Motivation",
    "Composition",
    "Collection process",
    "Preprocessing, cleaning and labeling",
    "Uses",
    "Distribution",
    "Maintenance",
)


def test_datasheet_has_every_section_and_states_what_is_not_stated(exported):
    _, folder = exported
    sheet = (folder / "datasheet.md").read_text()
    assert [line[3:] for line in sheet.splitlines() if line.startswith("## ")] == list(
        GEBRU_SECTIONS
    )
    for line in ("- Creators: not stated", "- Version: not stated", "- Contact: not stated"):
        assert line in sheet
    assert "labels, predictions and derived columns): not stated" in sheet
    assert "metadata): no license granted;" in sheet
    assert "CC-BY" not in sheet  # no license is assumed
    # The personal data: 4 logins of the synthetic people, in every login column.
    assert "The dataset holds 4 distinct GitHub logins, in issues.author (4)" in sheet
    assert "collection end: not stated" in sheet
    descriptor = json.loads((folder / "datapackage.json").read_text())
    assert "licenses" not in descriptor and "no license granted" in descriptor["description"]


def _broken_copy(folder, tmp_path, table: str, edit) -> object:
    """A copy of the dataset with the first data row of `table` edited."""
    broken = tmp_path / f"broken-{table}"
    broken.mkdir()
    for path in folder.iterdir():
        (broken / path.name).write_bytes(path.read_bytes())
    lines = (broken / f"{table}.csv").read_text().splitlines()
    lines[1] = edit(lines[1])
    (broken / f"{table}.csv").write_text("\n".join(lines) + "\n")
    return broken / "datapackage.json"


def test_datapackage_validates_and_catches_a_broken_file(exported, tmp_path):
    _, folder = exported
    descriptor = json.loads((folder / "datapackage.json").read_text())
    assert [r["name"] for r in descriptor["resources"]] == list(TABLES)
    schemas = {r["name"]: r["schema"] for r in descriptor["resources"]}
    assert (
        schemas["issues"]["primaryKey"] == ["issue_id"] and "foreignKeys" not in schemas["issues"]
    )
    for name in ("annotations", "labels", "people", "predictions"):
        assert schemas[name]["foreignKeys"] == [
            {"fields": "issue_id", "reference": {"resource": "issues", "fields": "issue_id"}}
        ]
    validate_package(folder / "datapackage.json")
    not_a_number = _broken_copy(
        folder, tmp_path, "issues", lambda line: "not-a-number," + line.split(",", 1)[1]
    )
    with pytest.raises(ExportError, match="does not validate"):
        validate_package(not_a_number)
    no_such_issue = _broken_copy(folder, tmp_path, "people", lambda line: "1" + line)
    with pytest.raises(ExportError, match="violates the foreign key"):
        validate_package(no_such_issue)


def test_keys_are_checked_on_every_row_not_only_frictionless_sample(
    exported, tmp_path, monkeypatch
):
    _, folder = exported
    monkeypatch.setattr(export, "VALIDATED_ROWS", 1)  # frictionless reads the first row only
    validate_package(folder / "datapackage.json")
    second = (folder / "people.csv").read_text().splitlines()[2]
    repeated = _broken_copy(folder, tmp_path, "people", lambda line: second)
    with pytest.raises(ExportError, match=r"people\.csv line 3: its primary key is missing"):
        validate_package(repeated)
    lines = (folder / "labels.csv").read_text().splitlines()
    dangling = tmp_path / "dangling"
    dangling.mkdir()
    for path in folder.iterdir():
        (dangling / path.name).write_bytes(path.read_bytes())
    (dangling / "labels.csv").write_text("\n".join([*lines, "999999,bug"]) + "\n")
    with pytest.raises(ExportError, match=f"labels.csv line {len(lines) + 1} violates the foreign"):
        validate_package(dangling / "datapackage.json")


def test_datasheet_and_package_take_what_the_study_file_states(tmp_path):
    url = f"sqlite:///{tmp_path / 'stated.db'}"
    engine = build_study_db(url, per_repo=5)
    stated = {
        "title": "System issues in two frameworks",
        "description": "Issues of two frameworks, one ML and one web, compared.",
        "creators": ["Ada Lovelace (Example University)", "Bob Byte"],
        "version": "1.2",
        "license": "CC-BY-4.0",
        "contact": "issues@example.org",
        "collection_end": "2021-01-01T00:00:00Z",
    }
    with engine.begin() as connection:
        save_study_metadata(connection, stated)
    export_dataset(engine, tmp_path / "dataset")
    sheet = (tmp_path / "dataset" / "datasheet.md").read_text()
    assert sheet.startswith("# Datasheet: System issues in two frameworks\n")
    assert "## Motivation\nIssues of two frameworks, one ML and one web, compared.\n\n" in sheet
    for line in (
        "- Creators: Ada Lovelace (Example University); Bob Byte",
        "- Version: 1.2",
        "- Contact: issues@example.org",
        "- License of this dataset (labels, predictions and derived columns): CC-BY-4.0",
    ):
        assert line in sheet
    assert "collection end: 2021-01-01T00:00:00Z" in sheet
    assert "open issues censored at the study's collection end, 2021-01-01 00:00 UTC" in sheet
    descriptor = json.loads((tmp_path / "dataset" / "datapackage.json").read_text())
    assert descriptor["licenses"] == [{"name": "CC-BY-4.0"}]
    assert (descriptor["version"], descriptor["title"]) == ("1.2", stated["title"])
    assert descriptor["description"].startswith(stated["description"] + " License of the upstream")


def test_pseudonymized_logins_are_keyed_hashes_the_same_in_every_table(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'people.db'}"
    build_study_db(url, per_repo=5)
    out = tmp_path / "dataset"
    monkeypatch.delenv("MLISSUES_LOGIN_KEY", raising=False)
    args = ["-q", "export", "--db", url, "--out", str(out), "--pseudonymize-logins"]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1 and not out.exists()
    assert refused.output.strip() == (
        "Error: pseudonymizing logins needs a key: pass --login-key or set MLISSUES_LOGIN_KEY"
    )
    key = "correct horse battery staple"
    monkeypatch.setenv("MLISSUES_LOGIN_KEY", key)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    digest = lambda login: hmac.new(key.encode(), login.encode(), hashlib.sha256).hexdigest()  # noqa: E731
    issues = pd.read_csv(out / "issues.csv").set_index("issue_id")
    people = pd.read_csv(out / "people.csv")
    # Issue 1 of acme/mlframe was opened by bob and closed by bob (see analysis_fixtures).
    assert issues.loc[10_001, "author"] == digest("bob") == issues.loc[10_001, "closed_by"]
    assert set(people["login"]) == {digest(login) for login in PEOPLE}
    authors = people[people["role"] == "author"].set_index("issue_id")["login"]
    assert authors.to_dict() == issues["author"].to_dict()  # the same pseudonym everywhere
    for path in out.iterdir():
        text = path.read_text()
        assert key not in text, path.name
        assert not any(f",{login}," in text for login in PEOPLE), path.name
    assert "replaced by its keyed hash (HMAC-SHA256" in (out / "datasheet.md").read_text()


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


def test_every_classified_issue_carries_the_models_decision(exported):
    """issues.csv gives the model's category for every classified issue, abstained or not and
    whether or not a human label is the study's category, and names the one model used."""
    engine, folder = exported
    issues = pd.read_csv(folder / "issues.csv")
    classified = set(queries.read_predictions(engine)["issue_id"])
    rows = issues[issues["issue_id"].isin(classified)]
    assert len(rows) == len(classified) > 0
    assert rows["model_category"].notna().all() and rows["model_probability"].notna().all()
    assert set(rows["model_abstained"]) == {True, False}
    assert set(issues["model_version"]) == {"test-1"}
    decided = rows[rows["category_source"] == "classifier"]
    assert (decided["category"] == decided["model_category"]).all()


def test_descriptor_check_skips_only_the_iri_grammars(exported, tmp_path):
    """In a fresh process (here jsonschema may be loaded already): a broken descriptor is still
    refused by jsonschema, which was imported without the rfc3987-syntax grammars."""
    _, folder = exported
    broken = tmp_path / "descriptor"
    broken.mkdir()
    for path in folder.iterdir():
        (broken / path.name).write_bytes(path.read_bytes())
    descriptor = json.loads((folder / "datapackage.json").read_text())
    descriptor["resources"][0]["schema"]["fields"][0]["type"] = {"not": "a type"}
    (broken / "datapackage.json").write_text(json.dumps(descriptor))
    script = (
        "import sys\n"
        "from analysis.export import ExportError, validate_package\n"
        "try:\n"
        f"    validate_package({str(broken / 'datapackage.json')!r})\n"
        "except ExportError:\n"
        "    print('refused', 'jsonschema' in sys.modules, 'rfc3987_syntax' in sys.modules)\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert ran.stdout.split() == ["refused", "True", "False"]


def test_datasheet_of_a_study_without_model_decisions(tmp_path):
    engine = build_study_db(f"sqlite:///{tmp_path / 'human.db'}", all_human=True)
    export_dataset(engine, tmp_path / "dataset")
    sheet = (tmp_path / "dataset" / "datasheet.md").read_text()
    assert "60 from humans,\nnone decided by a model (the database holds no model's" in sheet
