"""The study database: tables, connections, migrations and upserts. Imports no other package."""

from db.engine import DEFAULT_DB_URL, DatabaseError, default_db, open_database, parse_db_url
from db.upsert import upsert

__all__ = [
    "DEFAULT_DB_URL",
    "DatabaseError",
    "default_db",
    "open_database",
    "parse_db_url",
    "upsert",
]
