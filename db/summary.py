"""What the database holds, per repository (for `mlissues status`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from db import schema


@dataclass(frozen=True)
class RepositorySummary:
    full_name: str
    issues: int
    pull_requests: int
    comments: int
    events: int
    labeled: int
    classified: int
    last_crawl: datetime | None
    crawl_unfinished: bool = False  # an endpoint's last crawl stopped before the end


def _count_by_repository(connection, statement) -> dict[int, int]:
    return dict(connection.execute(statement).all())


def repository_summaries(engine: Engine) -> list[RepositorySummary]:
    r, i, c, e = schema.repositories, schema.issues, schema.comments, schema.issue_events
    a, p, s = schema.annotations, schema.predictions, schema.crawl_state
    with engine.connect() as connection:
        issues = _count_by_repository(
            connection,
            select(i.c.repository_id, func.count())
            .where(~i.c.is_pull_request)
            .group_by(i.c.repository_id),
        )
        pulls = _count_by_repository(
            connection,
            select(i.c.repository_id, func.count())
            .where(i.c.is_pull_request)
            .group_by(i.c.repository_id),
        )
        comments = _count_by_repository(
            connection, select(c.c.repository_id, func.count()).group_by(c.c.repository_id)
        )
        events = _count_by_repository(
            connection, select(e.c.repository_id, func.count()).group_by(e.c.repository_id)
        )
        labeled = _count_by_repository(
            connection,
            select(i.c.repository_id, func.count(func.distinct(a.c.issue_id)))
            .join(a, a.c.issue_id == i.c.id)
            .where(a.c.category.is_not(None))
            .group_by(i.c.repository_id),
        )
        classified = _count_by_repository(
            connection,
            select(i.c.repository_id, func.count(func.distinct(p.c.issue_id)))
            .join(p, p.c.issue_id == i.c.id)
            .group_by(i.c.repository_id),
        )
        last_crawl = dict(
            connection.execute(
                select(s.c.repository_id, func.max(s.c.finished_at)).group_by(s.c.repository_id)
            ).all()
        )
        unfinished = set(
            connection.execute(select(s.c.repository_id).where(s.c.status != "done")).scalars()
        )
        repositories = connection.execute(
            select(r.c.id, r.c.full_name).order_by(r.c.full_name)
        ).all()
    return [
        RepositorySummary(
            full_name=name,
            issues=issues.get(rid, 0),
            pull_requests=pulls.get(rid, 0),
            comments=comments.get(rid, 0),
            events=events.get(rid, 0),
            labeled=labeled.get(rid, 0),
            classified=classified.get(rid, 0),
            last_crawl=last_crawl.get(rid),
            crawl_unfinished=rid in unfinished,
        )
        for rid, name in repositories
    ]
