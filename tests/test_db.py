"""The study database: round trips, upserts, migrations and clear errors on bad input."""

from __future__ import annotations

import json
import multiprocessing
from datetime import datetime

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from db import DatabaseError, open_database, schema
from db.migrate import head_revision, upgrade
from miner.store import Provenance, ensure_repository, save_comments, save_issues
from mlissues.cli import main
from tests.corpus_sample import comments_of, first_issues

PROVENANCE = Provenance(
    "http://127.0.0.1/repos/pytorch/pytorch/issues", "test", datetime(2026, 1, 1)
)


def _store(engine, issues: list[dict], comments: list[dict]) -> None:
    with engine.begin() as connection:
        repo_id = ensure_repository(connection, "pytorch/pytorch", "http://127.0.0.1")
        save_issues(connection, repo_id, issues, PROVENANCE)
        save_comments(connection, repo_id, comments, PROVENANCE)


def _table(engine, table: sa.Table) -> list[tuple]:
    with engine.connect() as connection:
        return sorted(connection.execute(sa.select(table)).all(), key=repr)


def test_round_trip_twice_gives_same_rows_and_preserves_raw_json(db_url, corpus):
    issues = first_issues(corpus, "pytorch__pytorch", 200)
    comments = comments_of(corpus, "pytorch__pytorch", {i["number"] for i in issues})
    assert any(i["labels"] for i in issues) and any(c["user"] is None for c in comments)
    engine = open_database(db_url, create=True)

    _store(engine, issues, comments)
    first = {t.name: _table(engine, t) for t in schema.metadata.sorted_tables}
    _store(engine, issues, comments)
    second = {t.name: _table(engine, t) for t in schema.metadata.sorted_tables}

    assert first == second
    assert len(first["issues"]) == len(issues)
    assert len(first["comments"]) == len(comments)
    assert len(first["issue_labels"]) == sum(len(i["labels"]) for i in issues)
    with engine.connect() as connection:
        stored = dict(
            connection.execute(sa.select(schema.issues.c.id, schema.issues.c.raw_json)).all()
        )
        stored_comments = dict(
            connection.execute(sa.select(schema.comments.c.id, schema.comments.c.raw_json)).all()
        )
    for issue in issues:
        text = stored[issue["id"]]
        assert json.loads(text) == issue
        assert text == json.dumps(issue, ensure_ascii=False, separators=(",", ":"))
    for comment in comments:
        assert json.loads(stored_comments[comment["id"]]) == comment


def test_changed_issue_updates_row_and_label_set(db_url, corpus):
    issue = next(i for i in first_issues(corpus, "pytorch__pytorch", 300) if len(i["labels"]) >= 2)
    engine = open_database(db_url, create=True)
    _store(engine, [issue], [])
    changed = {**issue, "state": "closed", "title": "changé ✓ <b>", "labels": issue["labels"][:1]}
    _store(engine, [changed], [])
    with engine.connect() as connection:
        row = connection.execute(sa.select(schema.issues)).one()
        links = connection.execute(sa.select(schema.issue_labels)).all()
    assert (row.state, row.title) == ("closed", "changé ✓ <b>")
    assert [link.label_id for link in links] == [issue["labels"][0]["id"]]


def test_migration_upgrades_a_database_made_by_the_first_revision(tmp_path, corpus):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.execute(
            schema.repositories.insert().values(
                id=1, full_name="apache/incubator-mxnet", api_url="x"
            )
        )
        assert "repository_aliases" not in sa.inspect(connection).get_table_names()

    engine = open_database(url)  # upgrades on open

    with engine.connect() as connection:
        assert "repository_aliases" in sa.inspect(connection).get_table_names()
        version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        assert version == head_revision() != "0001"
        assert connection.execute(sa.select(schema.repositories.c.full_name)).scalar() == (
            "apache/incubator-mxnet"
        )


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def _assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    message = result.output.strip()
    assert message.startswith("Error: ") and message.count("\n") == 0, message
    for fragment in fragments:
        assert fragment in message


def test_malformed_url_is_one_clear_line():
    _assert_one_line_error(_run("status", "--db", "::nope::://x"), "not a database URL")


def test_unknown_driver_is_one_clear_line():
    _assert_one_line_error(_run("status", "--db", "foo://"), "cannot use database URL")


def test_missing_file_is_not_created(tmp_path):
    path = tmp_path / "absent.db"
    _assert_one_line_error(_run("status", "--db", str(path)), "mlissues init-db")
    assert not path.exists()


def test_file_that_is_not_sqlite_is_left_untouched(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"my precious notes\n")
    _assert_one_line_error(_run("init-db", "--db", str(path)), "not a SQLite database")
    assert path.read_bytes() == b"my precious notes\n"


def test_newer_schema_revision_is_refused_and_untouched(tmp_path):
    path = tmp_path / "future.db"
    open_database(str(path), create=True).dispose()
    with sa.create_engine(f"sqlite:///{path}").begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    before = path.read_bytes()
    _assert_one_line_error(_run("status", "--db", str(path)), "newer than this mlissues knows")
    assert path.read_bytes() == before


def test_foreign_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    with sa.create_engine(f"sqlite:///{path}").begin() as connection:
        connection.execute(sa.text("CREATE TABLE shopping (item TEXT)"))
    _assert_one_line_error(_run("init-db", "--db", str(path)), "not an mlissues schema")


def test_unreachable_postgres_is_one_clear_line():
    result = _run("status", "--db", "postgresql://nobody@127.0.0.1:9/none")
    _assert_one_line_error(result, "cannot connect", "is the server running?")


def test_open_database_raises_named_error(tmp_path):
    with pytest.raises(DatabaseError):
        open_database(str(tmp_path / "absent.db"))


def test_status_reports_counts(db_url, corpus):
    issues = first_issues(corpus, "pytorch__pytorch", 30)
    comments = comments_of(corpus, "pytorch__pytorch", {i["number"] for i in issues})
    engine = open_database(db_url, create=True)
    _store(engine, issues, comments)
    result = _run("status", "--db", db_url)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("pytorch/pytorch"))
    assert line.split()[1:5] == ["30", "0", str(len(comments)), "0"]


def test_migrations_have_one_head_and_build_exactly_the_declared_schema(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from db.migrate import alembic_config

    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1
    engine = open_database(db_url, create=True)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), schema.metadata)
    assert differences == []


def test_repository_names_match_exactly_and_through_aliases(db_url):
    from db.repositories import find_repository, repository_ids_by_name
    from miner.store import add_alias

    engine = open_database(db_url, create=True)
    with engine.begin() as connection:
        plain = ensure_repository(connection, "axb/cxd", "x")  # first: a LIKE match finds it
        under = ensure_repository(connection, "a_b/c_d", "x")
        add_alias(connection, under, "Old_Name/c_d")
        assert find_repository(connection, "A_B/C_D") == under
        assert find_repository(connection, "axb/cxd") == plain  # '_' is no wildcard
        assert find_repository(connection, "old_name/C_D") == under
        assert find_repository(connection, "oldxname/c_d") is None
        assert repository_ids_by_name(connection) == {
            "a_b/c_d": under,
            "axb/cxd": plain,
            "old_name/c_d": under,
        }


# --- several processes at once (issue 12, item 9) ----------------------------------------------


def _open_and_add_repositories(url: str, barrier, names: list[str], errors) -> None:
    try:
        barrier.wait(timeout=30)
        engine = open_database(url, create=True)
        for name in names:
            with engine.begin() as connection:
                ensure_repository(connection, name, "http://127.0.0.1")
        engine.dispose()
    except Exception as error:  # reported to the test, which shows it
        errors.put(f"{type(error).__name__}: {str(error).splitlines()[0]}")


def test_processes_opening_a_new_database_at_once_all_succeed(db_url):
    """Schema creation is serialized and a repository is created by an upsert, so no process
    sees a migration race, another's half-made schema, or a duplicate repository."""
    context = multiprocessing.get_context("fork")
    processes, barrier, errors = 4, context.Barrier(4), context.Queue()
    names = [f"octo/repo{k}" for k in range(40)]
    workers = [
        context.Process(target=_open_and_add_repositories, args=(db_url, barrier, names, errors))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    reported = [errors.get(timeout=5) for _ in range(errors.qsize())]
    assert reported == [] and [w.exitcode for w in workers] == [0] * processes
    engine = open_database(db_url)
    assert sorted(row.full_name for row in _table(engine, schema.repositories)) == sorted(names)
    engine.dispose()
