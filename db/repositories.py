"""Find repositories by name: the canonical full name or an old name kept as an alias."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from db import schema


def find_repository(connection: Connection, full_name: str) -> int | None:
    """The id of a repository by its canonical name or one of its old names (any case)."""
    # Exact comparison of lower-cased names: LIKE would read '_' in a name as a wildcard.
    name = full_name.lower()
    repositories, aliases = schema.repositories, schema.repository_aliases
    found = connection.execute(
        select(repositories.c.id).where(func.lower(repositories.c.full_name) == name)
    ).scalar()
    if found is None:
        found = connection.execute(
            select(aliases.c.repository_id).where(func.lower(aliases.c.alias) == name)
        ).scalar()
    return found


def repository_ids_by_name(connection: Connection) -> dict[str, int]:
    """Every name a repository is known by (canonical and old aliases), lower-cased, to its id."""
    names = dict(
        connection.execute(select(schema.repositories.c.full_name, schema.repositories.c.id)).all()
    )
    names.update(
        connection.execute(
            select(schema.repository_aliases.c.alias, schema.repository_aliases.c.repository_id)
        ).all()
    )
    return {name.lower(): repository_id for name, repository_id in names.items()}
