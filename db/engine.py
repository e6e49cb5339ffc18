"""Open the study database from a path or a SQLAlchemy URL, with errors a user can act on."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from db import migrate

log = logging.getLogger(__name__)

DEFAULT_DB_URL = "sqlite:///data/issues.db"
DB_ENV_VAR = "MLISSUES_DB"


class DatabaseError(Exception):
    """The database cannot be used as asked; the message says why and what to do."""


def default_db() -> str:
    return os.environ.get(DB_ENV_VAR, DEFAULT_DB_URL)


def parse_db_url(value: str) -> URL:
    """A SQLAlchemy URL from a URL or a plain file path (taken as a SQLite file)."""
    if "://" not in value:
        return URL.create("sqlite", database=str(Path(value)))
    try:
        url = make_url(value)
    except ArgumentError:
        raise DatabaseError(
            f"--db {value!r} is not a database URL; use a file path or a URL such as "
            "sqlite:///data/issues.db or postgresql+psycopg://user@localhost/issues"
        ) from None
    if url.drivername in ("postgresql", "postgres"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    return url


def _sqlite_file(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        # First, so that switching a new file to WAL (which waits for a process creating the
        # schema) waits like every other statement, not sqlite3's default 5 s. Four processes
        # opening a new database at once met "database is locked" once at load 5 with 5 s, and
        # once with 10 s in the test suite while another process read a 13 GB database on the
        # same disk; creating the schema itself holds the lock only briefly.
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")  # readers (notebook) never block the crawler
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL keeps this crash-safe
        cursor.close()


def _check_sqlite_file(path: Path, create: bool) -> None:
    if path.is_dir():
        raise DatabaseError(
            f"{path} is a folder; point --db at a database file, e.g. {path / 'issues.db'}"
        )
    if path.exists():
        with path.open("rb") as handle:
            header = handle.read(16)
        if header and header != b"SQLite format 3\x00":
            raise DatabaseError(f"{path} is not a SQLite database; point --db at another file")
        return
    if not create:
        raise DatabaseError(f"no database at {path}; create it with: mlissues init-db --db {path}")
    path.parent.mkdir(parents=True, exist_ok=True)


def _build_engine(url: URL) -> Engine:
    try:
        engine = create_engine(url, future=True)
    except (NoSuchModuleError, ArgumentError, ImportError) as error:
        raise DatabaseError(f"cannot use database URL {url.render_as_string()}: {error}") from None
    if url.get_backend_name() == "sqlite":
        _tune_sqlite(engine)
    return engine


def _check_reachable(engine: Engine, url: URL) -> None:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError) as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        shown = url.render_as_string(hide_password=True)
        raise DatabaseError(
            f"cannot connect to {shown}: {reason}; is the server running?"
        ) from None


def _check_schema(engine: Engine, url: URL, create: bool) -> None:
    """Check the schema, and create or upgrade it when it is not at head.

    The common case (already at head) reads without locking. Otherwise the checks run again
    under the schema lock (db.migrate.lock_schema), in the transaction that creates or
    upgrades: a process that opens a new database while another creates it waits, then
    finds the schema made, instead of racing it or taking its half-made tables for foreign.
    """
    shown = url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            if migrate.current_revision(connection) == migrate.head_revision():
                return
        with engine.begin() as connection:
            migrate.lock_schema(connection)
            revision = migrate.current_revision(connection)
            _refuse_unusable(connection, revision, shown, create)
            if revision != migrate.head_revision():
                migrate.upgrade_on(connection)
    except (sqlite3.DatabaseError, DBAPIError) as error:
        raise DatabaseError(f"{shown} cannot be read as a database: {error.orig}") from None


def _refuse_unusable(connection, revision: str | None, shown: str, create: bool) -> None:
    if revision is not None and revision not in migrate.known_revisions():
        raise DatabaseError(
            f"{shown} has schema revision {revision}, newer than this mlissues knows "
            f"(head {migrate.head_revision()}); upgrade mlissues (pip install -U mlissues)"
        )
    if revision is None and migrate.has_user_tables(connection):
        raise DatabaseError(
            f"{shown} holds tables that are not an mlissues schema; use another --db"
        )
    if revision is None and not create:
        raise DatabaseError(f"{shown} is not initialized; run: mlissues init-db --db {shown}")


def open_database(value: str | URL | None = None, *, create: bool = False) -> Engine:
    """An engine on an up-to-date mlissues schema.

    With create=True a missing SQLite file or empty database is initialized; otherwise the
    database must exist. A database from an older mlissues is upgraded in one transaction.
    Nothing is written before every check has passed.
    """
    url = value if isinstance(value, URL) else parse_db_url(value or default_db())
    path = _sqlite_file(url)
    if path is not None:
        _check_sqlite_file(path, create)
    engine = _build_engine(url)
    _check_reachable(engine, url)
    _check_schema(engine, url, create)
    return engine
