"""Loading the Makkouk et al. (ICSME 2022) data: parsing, ids, subsets, fixing commits, root
causes, idempotence, and one clear error (with nothing imported) for a malformed file."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from click.testing import CliRunner

from db import open_database, schema
from db.migrate import alembic_config, upgrade
from miner import makkouk
from miner.store import ensure_repository, save_issues, save_study_metadata
from mlissues.cli import main
from taxonomy import default_taxonomy
from tests.analysis_fixtures import PROVENANCE, issue, write_synthetic_study

ROWS = 40
COMMITS = makkouk.COMMITS_COLUMN


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def study_folder(tmp_path, makkouk_study) -> Path:
    """The first rows of each real bugs file, their fixes, and a made-up taxonomy (in a
    temporary folder, never in the repository)."""
    folder = tmp_path / "makkouk"
    folder.mkdir()
    numbers = {}
    for name in makkouk.FILES:
        lines = (makkouk_study / name).read_text(encoding="utf-8").splitlines(keepends=True)
        (folder / name).write_text("".join(lines[: ROWS + 1]), encoding="utf-8")
        numbers[name] = [row["Issue.ID"] for row in _read(folder / name)]
    for name, bugs in makkouk.FIX_FILES.items():
        lines = (makkouk_study / name).read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines[1:] if line.split(",", 1)[0] in numbers[bugs]]
        (folder / name).write_text("".join([lines[0], *kept]), encoding="utf-8")
    tf = numbers["tensorflow_perf_bugs_information.csv"]
    torch = numbers["pytorch_perf_bugs_information.csv"]
    (folder / makkouk.TAXONOMY_FILE).write_text(
        "Framework,Category,Issue.ID\n"
        f"TensorFlow,Memory inefficiency (Unreleased memory resources),{tf[0]}  (2 bugs)\n"
        f"TensorFlow,Memory inefficiency (Unreleased memory resources),{tf[0]} (2 bugs)\n"
        f"Pytorch,Threading inefficiency (Excessive usage of multithreading),{torch[0]}\n"
        f"Pytorch,Traditional SE inefficiency,{torch[1]}\n"
        f"Pytorch,Memory inefficiency (Unnecessary memory allocation),{torch[2]}\n"
        f"Pytorch,Memory inefficiency (Unreleased memory resources),{torch[2]} (2 bugs)\n"
        "Pytorch,Memory inefficiency (Unnecessary memory allocation),999999999\n",
        encoding="utf-8",
    )
    return folder


def _tables(engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        return {
            table.name: sorted(connection.execute(sa.select(table)).all(), key=repr)
            for table in schema.metadata.sorted_tables
        }


def _commits_in(folder: Path) -> int:
    return sum(
        int(row["Number.of.issue.solving.commits.found"])
        for name in makkouk.FIX_FILES
        for row in _read(folder / name)
    )


STUDY_TABLES = {"study_issues", "fixes", "root_causes"}


def test_migration_0005_adds_the_study_tables_and_downgrades(db_url):
    engine = sa.create_engine(db_url)
    upgrade(engine, "0004")
    with engine.begin() as connection:
        repo_id = ensure_repository(connection, "pytorch/pytorch", "http://127.0.0.1")
        save_issues(connection, repo_id, [issue(7, 0)], PROVENANCE)
        assert not STUDY_TABLES & set(sa.inspect(connection).get_table_names())
    engine = open_database(db_url)  # upgrades on open
    with engine.begin() as connection:
        assert set(sa.inspect(connection).get_table_names()) >= STUDY_TABLES
        assert connection.execute(sa.select(schema.issues.c.number)).scalars().all() == [7]
        command.downgrade(alembic_config(connection), "0004")
    with engine.connect() as connection:
        assert not STUDY_TABLES & set(sa.inspect(connection).get_table_names())
        assert connection.execute(sa.select(schema.issues.c.number)).scalars().all() == [7]


def test_parsers():
    assert makkouk.parse_date("2018-07-31 3:20") == datetime(2018, 7, 31, 3, 20)
    assert makkouk.parse_date("Not found") is None
    assert makkouk.parse_date("No comments") is None
    for broken in ("2018-07-31", "2018-13-31 3:20", "31/07/2018 3:20"):
        with pytest.raises(ValueError):
            makkouk.parse_date(broken)
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


def test_commits_parse_with_awkward_authors_and_time_zones():
    hash_a, hash_b = "0b93974075844601913c6df50f6566418a35eee8", "ad260ae7fd8e2950"
    value = (
        f"({hash_a}, 2021-02-25 14:32:13 -0800, Doe, Jane (JD), 2, 2, 4, LINK), "
        f"({hash_b}, 2020-01-16 00:20:53 +0900, Frédéric Rechtenstein, 18, 0, 18, REGEX)"
    )
    first, second = makkouk.parse_commits(value)
    assert first == makkouk.Commit(
        hash_a, datetime(2021, 2, 25, 22, 32, 13), "Doe, Jane (JD)", 2, 2, 4, "LINK"
    )
    assert (second.author, second.committed_at) == (
        "Frédéric Rechtenstein",
        datetime(2020, 1, 15, 15, 20, 53),
    )
    assert makkouk.parse_commits("") == []
    for broken in (value[:-1], value.replace("LINK", "GUESS"), f"({hash_a}, yesterday, x, 1)"):
        with pytest.raises(makkouk.StudyDataError, match="cannot read a commit"):
            makkouk.parse_commits(broken)


def test_a_commit_found_by_both_approaches_is_one_commit():
    value = "(abcdef1, 2019-11-28 01:59:22 -0800, Jose, 51, 43, 94, {})"
    commits = makkouk.parse_commits(f"{value.format('LINK')}, {value.format('REGEX')}")
    assert [c.approach for c in makkouk.merge_commits(commits)] == ["LINK+REGEX"]


def test_synthetic_ids_are_stable_negative_and_distinct():
    first = makkouk.synthetic_id("pytorch/pytorch", "issue", 1)
    assert first == makkouk.synthetic_id("pytorch/pytorch", "issue", 1) < 0
    assert first != makkouk.synthetic_id("tensorflow/tensorflow", "issue", 1)


def test_root_cause_codes_are_taxonomy_codes():
    assert set(makkouk.ROOT_CAUSE_CODES.values()) <= set(default_taxonomy().codes)


@pytest.mark.study
def test_import_is_complete_and_idempotent(db_url, study_folder):
    engine = open_database(db_url, create=True)
    summary = makkouk.import_study(engine, study_folder)
    first = _tables(engine)
    makkouk.import_study(engine, study_folder)
    assert _tables(engine) == first
    assert summary.read == len(first["issues"]) == len(first["study_issues"]) == 4 * ROWS
    assert set(summary.bugs.values()) == {ROWS}
    assert sum(summary.fixed.values()) == 11  # 6 TensorFlow and 5 PyTorch performance bugs
    assert sum(summary.commits.values()) == len(first["fixes"]) == _commits_in(study_folder)
    with engine.connect() as connection:
        issues = connection.execute(
            sa.select(schema.issues.c.id, schema.issues.c.state, schema.issues.c.closed_at)
        ).all()
        subsets = connection.execute(
            sa.select(schema.study_issues.c.subset, sa.func.count()).group_by("subset")
        ).all()
        codes = connection.execute(
            sa.select(schema.annotations.c.category, schema.annotations.c.annotator)
        ).all()
        causes = connection.execute(
            sa.select(
                schema.root_causes.c.root_cause,
                schema.root_causes.c.category,
                schema.root_causes.c.bugs,
            )
        ).all()
    assert all(row.id < 0 for row in issues)
    assert all((row.state == "open") == (row.closed_at is None) for row in issues)
    assert sorted(subsets) == [("non_perf", 2 * ROWS), ("perf", 2 * ROWS)]
    assert sorted(codes) == [("MLEAK", makkouk.SOURCE), ("MT", makkouk.SOURCE)]
    assert sorted(causes) == [
        ("Memory inefficiency (Unnecessary memory allocation)", "MA", 1),
        ("Memory inefficiency (Unreleased memory resources)", "MLEAK", 1),
        ("Memory inefficiency (Unreleased memory resources)", "MLEAK", 2),
        ("Threading inefficiency (Excessive usage of multithreading)", "MT", 1),
        ("Traditional SE inefficiency", None, 1),
    ]
    assert (summary.root_causes, summary.root_cause_issues, summary.labeled) == (5, 4, 2)
    assert summary.unknown_root_cause_rows == 1
    assert len(first["issue_participants"]) > 0


@pytest.mark.study
def test_reimport_mirrors_the_files(tmp_path, study_folder):
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}", create=True)
    makkouk.import_study(engine, study_folder)
    fixes_file = study_folder / "pytorch_perf_fixes_information.csv"
    lines = fixes_file.read_text(encoding="utf-8").splitlines(keepends=True)
    fixes_file.write_text("".join(lines[:-1]), encoding="utf-8")  # one fixed bug less
    taxonomy = study_folder / makkouk.TAXONOMY_FILE
    lines = taxonomy.read_text(encoding="utf-8").splitlines(keepends=True)
    taxonomy.write_text("".join(lines[:3]), encoding="utf-8")  # PyTorch's causes dropped
    summary = makkouk.import_study(engine, study_folder)
    tables = _tables(engine)
    assert len(tables["fixes"]) == _commits_in(study_folder)
    assert sum(summary.fixed.values()) == 10
    assert len(tables["root_causes"]) == 1 and len(tables["annotations"]) == 1


@pytest.mark.study
def test_existing_issue_keeps_its_row_and_gets_the_study_rows(tmp_path, study_folder):
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}", create=True)
    fixed = _read(study_folder / "pytorch_perf_fixes_information.csv")[0]
    crawled = issue(int(fixed["Issue.ID"]), 0) | {"id": 42}
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
        subset = connection.execute(
            sa.select(schema.study_issues.c.subset).where(schema.study_issues.c.issue_id == 42)
        ).scalar()
        commits = connection.execute(
            sa.select(sa.func.count()).where(schema.fixes.c.issue_id == 42)
        ).scalar()
    assert tuple(kept) == (42, crawled["title"])
    assert subset == "perf"
    assert commits == int(fixed["Number.of.issue.solving.commits.found"])


@pytest.mark.study
def test_command_reports_counts_and_a_wrong_folder_is_one_error(tmp_path, study_folder):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    ok = CliRunner().invoke(main, ["import-study", "makkouk", "--db", url, str(study_folder)])
    assert ok.exit_code == 0, ok.output
    assert "tensorflow/tensorflow perf: 40 bugs, 6 fixed (7 commits)" in ok.output
    assert "pytorch/pytorch non_perf: 40 bugs, 0 fixed (0 commits)" in ok.output
    assert "160 study issues read; 5 root causes on 4 issues" in ok.output
    assert "2 given a category from their root cause" in ok.output
    wrong = CliRunner().invoke(main, ["import-study", "makkouk", "--db", url, str(tmp_path)])
    assert wrong.exit_code == 1
    assert wrong.output.startswith("Error: ") and "lacks tensorflow_perf" in wrong.output


def _corrupt(folder: Path, name: str, line: int, old: str, new: str) -> None:
    path = folder / name
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8", errors="surrogateescape")


@pytest.mark.study
@pytest.mark.parametrize(
    ("name", "line", "old", "new", "message"),
    [
        ("tensorflow_perf_fixes_information.csv", 3, " -0800,", " yesterday,", "cannot read"),
        ("pytorch_perf_fixes_information.csv", 2, "LINK)", "LINK", "cannot read a commit"),
        ("pytorch_perf_fixes_information.csv", 2, "10661,1,", "10661,2,", "2 announced"),
        ("pytorch_perf_fixes_information.csv", 2, "10661,", "77777777,", "is not in pytorch"),
        ("pytorch_non_perf_bugs_information.csv", 5, "2018-", "July ", "not a date like"),
        ("tensorflow_non_perf_bugs_information.csv", 3, "{'mrry': 1}", "['mrry']", "not a dict"),
        (makkouk.TAXONOMY_FILE, 4, "Pytorch", "Caffe", "expected a framework"),
        ("tensorflow_perf_bugs_information.csv", 4, "Cospel", "Cos\udcffpel", "not UTF-8"),
        ("pytorch_perf_bugs_information.csv", 3, ",13,", ",13,2,", "wrong number of fields"),
    ],
)
def test_malformed_file_is_one_error_line_and_imports_nothing(
    tmp_path, study_folder, name, line, old, new, message
):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    args = ["import-study", "makkouk", "--db", url, str(study_folder)]
    assert CliRunner().invoke(main, args).exit_code == 0
    before = _tables(open_database(url))
    _corrupt(study_folder, name, line, old, new)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    error = result.output.strip()
    assert error.startswith(f"Error: {name} line {line}: ") and "\n" not in error, error
    assert message in error
    assert _tables(open_database(url)) == before


def test_import_describes_the_study_unless_a_study_file_did(tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    write_synthetic_study(folder)
    engine = open_database(f"sqlite:///{tmp_path / 'm.db'}", create=True)
    with engine.begin() as connection:
        save_study_metadata(connection, {"title": "Our replication"})
    makkouk.import_study(engine, folder)
    makkouk.import_study(engine, folder)  # again: nothing changes
    with engine.connect() as connection:
        m = schema.study_metadata
        stored = dict(connection.execute(sa.select(m.c.key, m.c.value)).all())
    assert stored == {
        "title": "Our replication",
        "description": makkouk.STUDY_METADATA["description"],
    }
    assert "Makkouk, Kim and Chen, ICSME 2022" in stored["description"]
