"""Save GitHub REST objects (issues, comments, events) into the study database.

Savers take one page of API objects and upsert it; the caller decides the transaction, so a page
and its crawl cursor commit together.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from db import schema, upsert
from db.repositories import find_repository
from miner.corpus import issue_number_from_url


@dataclass(frozen=True)
class Provenance:
    """Where and when a page of objects was fetched, and by which tool version."""

    source_url: str
    tool_version: str
    fetched_at: datetime

    def columns(self) -> dict:
        return {
            "fetched_at": self.fetched_at,
            "source_url": self.source_url,
            "tool_version": self.tool_version,
        }


def parse_time(value: str | None) -> datetime | None:
    """GitHub's ISO-8601 UTC timestamp as a naive UTC datetime (how the database stores time)."""
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def raw_json(item: dict) -> str:
    """The object as compact JSON text, keys in the order the API sent them."""
    text = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
    if _UNSTORABLE.search(text):  # a lone surrogate: keep it as the escape it arrived as
        text = json.dumps(item, separators=(",", ":"))
    return text


# NUL, which PostgreSQL's text refuses, and lone surrogates (JSON can carry "\\ud800"), which
# no UTF-8 database can store.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str | None) -> str | None:
    """Text every database stores: NUL and lone surrogates become U+FFFD.

    Only decoded text columns pass through here; raw_json keeps the JSON text as received, in
    which such code points are escapes (\\u0000, \\ud800), so the payload still has them.
    """
    return _UNSTORABLE.sub("\ufffd", text) if text and _UNSTORABLE.search(text) else text


def storable_row(row: dict) -> dict:
    """The row with every text column storable (raw_json is already: see raw_json)."""
    return {
        key: storable(value) if isinstance(value, str) and key != "raw_json" else value
        for key, value in row.items()
    }


def _with_texts(items: Sequence[dict], texts: Sequence[str] | None):
    """Items paired with their JSON text as received, when the caller kept it (else None)."""
    return zip(items, texts if texts is not None else [None] * len(items), strict=True)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# --- repositories ---------------------------------------------------------------------------


def ensure_repository(
    connection: Connection, full_name: str, api_url: str, group_name: str | None = None
) -> int:
    """The id of the repository, inserting it when new."""
    existing = find_repository(connection, full_name)
    if existing is None:
        # Insert-if-absent, then read: another process may insert the same repository
        # between the look-up and the insert (two crawls starting on a new database).
        row = {"full_name": full_name, "api_url": api_url, "group_name": group_name}
        upsert(connection, schema.repositories, [row], key=["full_name"], update=())
        return find_repository(connection, full_name)
    if group_name:
        connection.execute(
            schema.repositories.update()
            .where(schema.repositories.c.id == existing)
            .values(group_name=group_name)
        )
    return existing


def rename_repository(connection: Connection, repository_id: int, canonical_name: str) -> None:
    """Record that a repository is now called `canonical_name`; its old name becomes an alias."""
    old = connection.execute(
        select(schema.repositories.c.full_name).where(schema.repositories.c.id == repository_id)
    ).scalar_one()
    if old.lower() == canonical_name.lower():
        return
    other = find_repository(connection, canonical_name)
    if other is not None and other != repository_id:
        raise ValueError(f"{canonical_name} is already stored as another repository")
    connection.execute(
        schema.repositories.update()
        .where(schema.repositories.c.id == repository_id)
        .values(full_name=canonical_name)
    )
    upsert(
        connection,
        schema.repository_aliases,
        [{"alias": old, "repository_id": repository_id}],
        key=["alias"],
    )


def add_alias(connection: Connection, repository_id: int, alias: str) -> None:
    upsert(
        connection,
        schema.repository_aliases,
        [{"alias": alias, "repository_id": repository_id}],
        key=["alias"],
    )


# --- users ----------------------------------------------------------------------------------


def _user_row(user: dict | None) -> dict | None:
    if not user or user.get("id") is None:
        return None  # deleted accounts come back as null
    return storable_row(
        {
            "id": user["id"],
            "login": user.get("login") or "",
            "type": user.get("type"),
            "site_admin": user.get("site_admin"),
        }
    )


def _user_rows(users: Iterable[dict | None]) -> list[dict]:
    return [row for row in map(_user_row, users) if row is not None]


def save_users(connection: Connection, users: Iterable[dict | None]) -> None:
    upsert(connection, schema.users, _user_rows(users), key=["id"])


def _login(user: dict | None) -> str | None:
    return user.get("login") if user else None


def _user_id(user: dict | None) -> int | None:
    return user.get("id") if user else None


# --- issues ---------------------------------------------------------------------------------


def _issue_row(
    item: dict, repository_id: int, provenance: Provenance, text: str | None = None
) -> dict:
    reactions = item.get("reactions") or {}
    return storable_row(
        {
            "id": item["id"],
            "repository_id": repository_id,
            "number": item["number"],
            "title": item.get("title") or "",
            "body": item.get("body"),
            "state": item["state"],
            "state_reason": item.get("state_reason"),
            "is_pull_request": "pull_request" in item,
            "locked": item.get("locked"),
            "user_id": _user_id(item.get("user")),
            "user_login": _login(item.get("user")),
            "author_association": item.get("author_association"),
            "closed_by_id": _user_id(item.get("closed_by")),
            "comments_count": item.get("comments") or 0,
            "reactions_total": reactions.get("total_count"),
            "created_at": parse_time(item["created_at"]),
            "updated_at": parse_time(item["updated_at"]),
            "closed_at": parse_time(item.get("closed_at")),
            "raw_json": raw_json(item) if text is None else text,
            **provenance.columns(),
        }
    )


def _label_row(label: dict, repository_id: int) -> dict:
    return storable_row(
        {
            "id": label["id"],
            "repository_id": repository_id,
            "name": label["name"],
            "color": label.get("color"),
            "description": label.get("description"),
        }
    )


@dataclass
class PreparedPage:
    """The rows of one page, built without a database: the crawler builds them in its fetch
    thread, so that the writer only executes statements. Tables are written in this order."""

    users: list[dict] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)
    labels: list[dict] = field(default_factory=list)
    issue_labels: list[dict] = field(default_factory=list)
    comments: list[dict] = field(default_factory=list)
    issue_events: list[dict] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        """GitHub ids of the page's main objects."""
        return [row["id"] for row in self.issues or self.comments or self.issue_events]


def prepare_issues(
    repository_id: int,
    items: Sequence[dict],
    provenance: Provenance,
    texts: Sequence[str] | None = None,
) -> PreparedPage:
    return PreparedPage(
        users=_user_rows([i.get("user") for i in items] + [i.get("closed_by") for i in items]),
        issues=[_issue_row(i, repository_id, provenance, t) for i, t in _with_texts(items, texts)],
        labels=[_label_row(lab, repository_id) for i in items for lab in i.get("labels") or []],
        issue_labels=[
            {"issue_id": i["id"], "label_id": lab["id"]}
            for i in items
            for lab in i.get("labels") or []
        ],
    )


def save_prepared(connection: Connection, page: PreparedPage) -> None:
    """Upsert the rows of one prepared page (issues, comments or events)."""
    upsert(connection, schema.users, page.users, key=["id"])
    if page.issues:
        upsert(connection, schema.issues, page.issues, ["id"])
        upsert(connection, schema.labels, page.labels, key=["id"])
        # An issue's label set is replaced as a whole: GitHub sends the current set, not changes.
        connection.execute(
            delete(schema.issue_labels).where(schema.issue_labels.c.issue_id.in_(page.ids))
        )
        upsert(
            connection, schema.issue_labels, page.issue_labels, ["issue_id", "label_id"], update=()
        )
    upsert(connection, schema.comments, page.comments, key=["id"])
    upsert(connection, schema.issue_events, page.issue_events, key=["id"])


def save_issues(
    connection: Connection, repository_id: int, items: Sequence[dict], provenance: Provenance
) -> None:
    """Upsert one page of issue objects with their users, labels and issue-label links."""
    if items:
        save_prepared(connection, prepare_issues(repository_id, items, provenance))


# --- comments and events --------------------------------------------------------------------


def _comment_row(
    item: dict, repository_id: int, provenance: Provenance, text: str | None = None
) -> dict:
    return storable_row(
        {
            "id": item["id"],
            "repository_id": repository_id,
            "issue_number": issue_number_from_url(item["issue_url"]),
            "user_id": _user_id(item.get("user")),
            "user_login": _login(item.get("user")),
            "author_association": item.get("author_association"),
            "body": item.get("body"),
            "created_at": parse_time(item["created_at"]),
            "updated_at": parse_time(item.get("updated_at") or item["created_at"]),
            "raw_json": raw_json(item) if text is None else text,
            **provenance.columns(),
        }
    )


def prepare_comments(
    repository_id: int,
    items: Sequence[dict],
    provenance: Provenance,
    texts: Sequence[str] | None = None,
) -> PreparedPage:
    return PreparedPage(
        users=_user_rows(i.get("user") for i in items),
        comments=[
            _comment_row(i, repository_id, provenance, t) for i, t in _with_texts(items, texts)
        ],
    )


def save_comments(
    connection: Connection, repository_id: int, items: Sequence[dict], provenance: Provenance
) -> None:
    """Upsert one page of comment objects (from the repository-level comments endpoint)."""
    if items:
        save_prepared(connection, prepare_comments(repository_id, items, provenance))


def _event_row(
    item: dict, repository_id: int, provenance: Provenance, text: str | None = None
) -> dict:
    issue = item.get("issue") or {}
    return storable_row(
        {
            "id": item["id"],
            "repository_id": repository_id,
            "issue_number": issue.get("number") or issue_number_from_url(issue.get("url", "/0")),
            "event": item["event"],
            "actor_id": _user_id(item.get("actor")),
            "actor_login": _login(item.get("actor")),
            "label_name": (item.get("label") or {}).get("name"),
            "commit_id": item.get("commit_id"),
            "created_at": parse_time(item["created_at"]),
            "raw_json": raw_json(item) if text is None else text,
            **provenance.columns(),
        }
    )


def prepare_events(
    repository_id: int,
    items: Sequence[dict],
    provenance: Provenance,
    texts: Sequence[str] | None = None,
) -> PreparedPage:
    return PreparedPage(
        users=_user_rows(i.get("actor") for i in items),
        issue_events=[
            _event_row(i, repository_id, provenance, t) for i, t in _with_texts(items, texts)
        ],
    )


def save_events(
    connection: Connection, repository_id: int, items: Sequence[dict], provenance: Provenance
) -> None:
    """Upsert one page of issue events (from the repository-level events endpoint)."""
    if items:
        save_prepared(connection, prepare_events(repository_id, items, provenance))


def save_study_metadata(connection: Connection, metadata: dict[str, object]) -> None:
    """Record what the study file says about the study (miner.config.load_study_metadata);
    keys it does not give keep their stored value."""
    rows = [{"key": key, "value": value} for key, value in metadata.items()]
    upsert(connection, schema.study_metadata, rows, ["key"])
