"""Shared fixtures: databases on SQLite (always) and PostgreSQL (when a server is given)."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("MLISSUES_CORPUS", REPO_ROOT.parent / "shared" / "corpus"))
STUDIES = Path(os.environ.get("MLISSUES_STUDIES", REPO_ROOT.parent / "shared" / "studies"))
PG_URL = os.environ.get("MLISSUES_TEST_PG_URL")


@pytest.fixture(scope="session")
def corpus() -> Path:
    """../shared/corpus: the real issues the tests read (never copied into the repository).

    Every test that needs it, directly or through another fixture, carries the `corpus`
    marker (see pytest_collection_modifyitems), so `-m "not corpus"` runs the rest."""
    if not (CORPUS / "pytorch__pytorch" / "issues.jsonl.gz").exists():
        pytest.skip(f"the shared corpus is missing at {CORPUS}; set MLISSUES_CORPUS to it")
    return CORPUS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The `corpus` marker on every test whose fixtures reach the corpus fixture: one rule,
    so a new corpus test cannot forget it."""
    for item in items:
        if "corpus" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.corpus)


@pytest.fixture(scope="session")
def makkouk_study() -> Path:
    """../shared/studies/makkouk-icsme2022, read at test time and never copied; tests that need
    it carry the `study` marker and skip when it is absent."""
    folder = STUDIES / "makkouk-icsme2022"
    if not folder.exists():
        pytest.skip(f"the Makkouk et al. data is missing at {folder}; set MLISSUES_STUDIES")
    return folder


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'issues.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    if not PG_URL:
        pytest.skip("no PostgreSQL server: set MLISSUES_TEST_PG_URL (CI does)")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with _admin() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with _admin() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty database, on every backend available."""
    return request.getfixturevalue(f"{request.param}_url")


class Templates:
    """Databases built once per session and copied for every test that asks: a test may change
    its copy freely. A copy costs a file copy (SQLite) or CREATE DATABASE ... TEMPLATE
    (PostgreSQL) instead of a schema migration and an import each time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.built: dict[tuple[str, str], str] = {}  # (backend, name) -> template

    def copy(self, url: str, name: str, build: Callable[[str], None]) -> None:
        """Make the empty database at `url` a copy of template `name`; build(template_url)
        fills the template the first time (and must dispose of its engines)."""
        target = make_url(url)
        backend = target.get_backend_name()
        if (backend, name) not in self.built:
            self.built[backend, name] = self._build(target, name, build)
        template = self.built[backend, name]
        if backend == "sqlite":
            shutil.copyfile(template, target.database)
            return
        with _admin() as connection:  # the fixture made the target empty: make it a copy
            connection.execute(text(f'DROP DATABASE "{target.database}"'))
            connection.execute(text(f'CREATE DATABASE "{target.database}" TEMPLATE "{template}"'))

    def _build(self, target, name: str, build: Callable[[str], None]) -> str:
        if target.get_backend_name() == "sqlite":
            path = self.folder / f"{name}.db"
            build(f"sqlite:///{path}")
            engine = create_engine(f"sqlite:///{path}")
            with engine.connect() as connection:  # everything into the file, nothing in -wal
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                connection.exec_driver_sql("PRAGMA journal_mode=DELETE")
            engine.dispose()
            return str(path)
        template = f"tpl_{name}_{uuid.uuid4().hex[:8]}"
        with _admin() as connection:
            connection.execute(text(f'CREATE DATABASE "{template}"'))
        build(target.set(database=template).render_as_string(hide_password=False))
        return template

    def drop(self) -> None:
        names = [t for (backend, _), t in self.built.items() if backend != "sqlite"]
        if names:
            with _admin() as connection:
                for template in names:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))


@contextlib.contextmanager
def _admin() -> Iterator[Connection]:
    """A connection to the PostgreSQL server for CREATE and DROP DATABASE."""
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def templates(tmp_path_factory) -> Iterator[Templates]:
    shared = Templates(tmp_path_factory.mktemp("templates"))
    yield shared
    shared.drop()
