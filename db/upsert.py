"""Insert-or-update keyed on GitHub ids, the same call on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

_DIALECT_INSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
# Both backends cap bound parameters per statement (SQLite 32766, PostgreSQL 65535).
_MAX_PARAMETERS = 30000


def _chunks(rows: Sequence[dict], size: int) -> Iterable[Sequence[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _last_per_key(rows: Sequence[dict], key: Sequence[str]) -> list[dict]:
    # PostgreSQL refuses a statement that would update the same row twice.
    return list({tuple(row[k] for k in key): row for row in rows}.values())


def upsert(
    connection: Connection,
    table: Table,
    rows: Sequence[dict],
    key: Sequence[str],
    update: Sequence[str] | None = None,
) -> None:
    """Insert rows; on a clash of `key`, overwrite the `update` columns (default: all others).

    With update=() existing rows are left as they are (insert-if-absent).
    """
    if not rows:
        return
    insert = _DIALECT_INSERT[connection.dialect.name]
    rows = _last_per_key(rows, key)
    columns = list(rows[0])
    if update is None:
        update = [c for c in columns if c not in key]
    size = max(1, _MAX_PARAMETERS // max(1, len(columns)))
    for chunk in _chunks(rows, size):
        statement = insert(table).values(list(chunk))
        if update:
            statement = statement.on_conflict_do_update(
                index_elements=list(key), set_={c: statement.excluded[c] for c in update}
            )
        else:
            statement = statement.on_conflict_do_nothing(index_elements=list(key))
        connection.execute(statement)
