"""Ordered, transactional schema migrations (Alembic), recorded in the database itself."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def has_user_tables(connection: Connection) -> bool:
    return bool(set(inspect(connection).get_table_names()) - {"alembic_version"})


# Any fixed number: the PostgreSQL advisory lock that one process at a time holds to check and
# create or upgrade the schema.
SCHEMA_LOCK_KEY = 0x6D6C697373756573  # "mlissues"


def lock_schema(connection: Connection) -> None:
    """Make the connection's transaction the only one that may check and change the schema
    until it ends; another process waits (SQLite: busy_timeout; PostgreSQL: until commit).

    Two processes opening a new database at once otherwise both create it: PostgreSQL refused
    the second alembic_version table, SQLite the second CREATE TABLE. Must be the first
    statement of the transaction (SQLite's BEGIN IMMEDIATE starts it; pysqlite would not
    begin a transaction before DDL at all, so migrations run inside this one).
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY})")
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade_on(connection: Connection, revision: str = "head") -> None:
    """Bring the schema to `revision` within the connection's transaction."""
    before = current_revision(connection)
    command.upgrade(alembic_config(connection), revision)
    after = current_revision(connection)
    if before != after:
        log.info("database schema upgraded from %s to %s", before or "empty", after)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` in one transaction, holding the schema lock."""
    with engine.begin() as connection:
        lock_schema(connection)
        upgrade_on(connection, revision)
