"""Shared fixtures: databases on SQLite (always) and PostgreSQL (when a server is given)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

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
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty database, on every backend available."""
    return request.getfixturevalue(f"{request.param}_url")
