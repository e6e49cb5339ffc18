"""Loading the Makkouk et al. (ICSME 2022) metadata: parsing, ids, idempotence, root causes."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from db import open_database, schema
from miner import makkouk
from miner.store import ensure_repository, save_issues
from mlissues.cli import main
from taxonomy import default_taxonomy
from tests.analysis_fixtures import PROVENANCE, issue

STUDY = Path(__file__).resolve().parents[2] / "shared" / "studies" / "makkouk-icsme2022"
ROWS = 40


@pytest.fixture
def study_folder(tmp_path) -> Path:
    """The first rows of each real file (in a temporary folder, never in the repository)."""
    if not STUDY.exists():
        pytest.skip(f"the Makkouk et al. metadata is missing at {STUDY}")
    folder = tmp_path / "makkouk"
    folder.mkdir()
    numbers = {}
    for name in makkouk.FILES:
        lines = (STUDY / name).read_text(encoding="utf-8").splitlines(keepends=True)
        (folder / name).write_text("".join(lines[: ROWS + 1]), encoding="utf-8")
        with (folder / name).open(newline="") as handle:
            numbers[name] = [row["Issue.ID"] for row in csv.DictReader(handle)]
    tf = numbers["tensorflow_perf_bugs_information.csv"]
    torch = numbers["pytorch_perf_bugs_information.csv"]
    (folder / makkouk.TAXONOMY_FILE).write_text(
        "Framework,Category,Issue.ID\n"
        f"TensorFlow,Memory inefficiency (Unreleased memory resources),{tf[0]}  (2 bugs)\n"
        f"Pytorch,Threading inefficiency (Excessive usage of multithreading),{torch[0]}\n"
        f"Pytorch,Traditional SE inefficiency,{torch[1]}\n"
        "Pytorch,Memory inefficiency (Unnecessary memory allocation),999999999\n",
        encoding="utf-8",
    )
    return folder


def _table(engine, table) -> list[tuple]:
    with engine.connect() as connection:
        return sorted(connection.execute(sa.select(table)).all(), key=repr)


def test_parsers():
    assert makkouk.parse_date("2018-07-31 3:20") == datetime(2018, 7, 31, 3, 20)
    assert makkouk.parse_date("Not found") is None
    assert makkouk.parse_date("No comments") is None
    assert makkouk.parse_commenters("{'a': 2, 'b-c': 1}") == {"a": 2, "b-c": 1}
    assert makkouk.parse_commenters("{}") == {}
    assert makkouk.parse_labels("module:nn, module:rnn, triaged") == [
        "module:nn",
        "module:rnn",
        "triaged",
    ]
    assert makkouk.parse_labels("No labels") == []
    with pytest.raises(makkouk.StudyDataError):
        makkouk.parse_commenters("['a', 'b']")


def test_synthetic_ids_are_stable_negative_and_distinct():
    first = makkouk.synthetic_id("pytorch/pytorch", "issue", 1)
    assert first == makkouk.synthetic_id("pytorch/pytorch", "issue", 1) < 0
    assert first != makkouk.synthetic_id("tensorflow/tensorflow", "issue", 1)


def test_root_cause_codes_are_taxonomy_codes():
    assert set(makkouk.ROOT_CAUSE_CODES.values()) <= set(default_taxonomy().codes)


def test_import_is_complete_and_idempotent(db_url, study_folder):
    engine = open_database(db_url, create=True)
    assert makkouk.import_study(engine, study_folder) == (4 * ROWS, 2)
    first = {t.name: _table(engine, t) for t in schema.metadata.sorted_tables}
    makkouk.import_study(engine, study_folder)
    second = {t.name: _table(engine, t) for t in schema.metadata.sorted_tables}
    assert first == second
    assert len(first["issues"]) == 4 * ROWS
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(schema.issues.c.id, schema.issues.c.state, schema.issues.c.closed_at)
        ).all()
        codes = connection.execute(
            sa.select(schema.annotations.c.category, schema.annotations.c.annotator)
        ).all()
    assert all(row.id < 0 for row in rows)
    assert all((row.state == "open") == (row.closed_at is None) for row in rows)
    assert sorted(codes) == [("MLEAK", makkouk.SOURCE), ("MT", makkouk.SOURCE)]
    assert len(first["issue_participants"]) > 0


def test_existing_issue_keeps_its_row_and_gets_participants(tmp_path, study_folder):
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}", create=True)
    with (study_folder / "pytorch_perf_bugs_information.csv").open(newline="") as handle:
        row = next(csv.DictReader(handle))
    crawled = issue(int(row["Issue.ID"]), 0) | {"id": 42}
    with engine.begin() as connection:
        repo_id = ensure_repository(connection, "pytorch/pytorch", "http://127.0.0.1")
        save_issues(connection, repo_id, [crawled], PROVENANCE)
    makkouk.import_study(engine, study_folder)
    with engine.connect() as connection:
        kept = connection.execute(
            sa.select(schema.issues.c.id, schema.issues.c.title).where(
                schema.issues.c.number == crawled["number"],
                schema.issues.c.repository_id == repo_id,
            )
        ).one()
        participants = connection.execute(
            sa.select(sa.func.count()).where(schema.issue_participants.c.issue_id == 42)
        ).scalar()
    assert tuple(kept) == (42, crawled["title"])
    assert participants == len(
        makkouk.parse_commenters(row[next(k for k in row if "Commentators" in k)])
    )


def test_command_and_clear_error_for_a_wrong_folder(tmp_path, study_folder):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    ok = CliRunner().invoke(main, ["import-study", "makkouk", "--db", url, str(study_folder)])
    assert ok.exit_code == 0, ok.output
    assert "160 study issues read; 2 given a category" in ok.output
    wrong = CliRunner().invoke(main, ["import-study", "makkouk", "--db", url, str(tmp_path)])
    assert wrong.exit_code == 1
    assert wrong.output.startswith("Error: ") and "lacks tensorflow_perf" in wrong.output
