"""The crawl job queue: repositories recorded for team workers sharing one database.

A worker claims the oldest claimable job (queued, or running under a lease that has passed) with
`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers never wait on each other's claims;
the claim is also an UPDATE guarded by the same condition, which keeps SQLite (no row locks)
correct. A worker renews its lease with heartbeats; one that dies stops renewing, and once the
lease passes another worker claims the job and resumes from the repository's stored cursor.
Times are UTC from each worker's clock (leases are minutes, so seconds of skew do not matter).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Engine

from db import schema
from db.upsert import upsert

JOBS = schema.crawl_jobs
STATUSES = ("queued", "running", "done", "failed")


def utcnow() -> datetime:
    """Naive UTC, as every timestamp of the schema (see db.schema.Timestamp)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Job:
    id: int
    full_name: str
    group_name: str | None
    attempts: int


def enqueue(engine: Engine, repositories: Iterable[tuple[str, str | None]]) -> int:
    """Record (full name, group) jobs; failed ones are queued again, others left alone.
    Returns how many jobs are queued now that were not before."""
    rows = [
        {"full_name": name, "group_name": group, "status": "queued", "attempts": 0,
         "enqueued_at": utcnow()}
        for name, group in repositories
    ]  # fmt: skip
    with engine.begin() as connection:
        before = _count(connection, "queued")
        for row in rows:  # one by one: job ids keep the study's order, the order of work
            upsert(connection, JOBS, [row], ["full_name"], update=())
        connection.execute(
            update(JOBS)
            .where(JOBS.c.status == "failed", JOBS.c.full_name.in_([r["full_name"] for r in rows]))
            .values(status="queued", error=None, enqueued_at=utcnow())
        )
        return _count(connection, "queued") - before


def _count(connection, status: str) -> int:
    return connection.execute(
        select(func.count()).select_from(JOBS).where(JOBS.c.status == status)
    ).scalar_one()


def _claimable(now):
    return or_(
        JOBS.c.status == "queued", and_(JOBS.c.status == "running", JOBS.c.lease_until < now)
    )


def claim(engine: Engine, worker: str, lease: float) -> Job | None:
    """The oldest claimable job, now held by `worker` for `lease` seconds; None if none."""
    with engine.begin() as connection:
        now = utcnow()
        row = connection.execute(
            select(JOBS.c.id, JOBS.c.full_name, JOBS.c.group_name, JOBS.c.attempts)
            .where(_claimable(now))
            .order_by(JOBS.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            return None
        claimed = connection.execute(
            update(JOBS)
            .where(JOBS.c.id == row.id, _claimable(now))
            .values(
                status="running",
                worker=worker,
                lease_until=now + timedelta(seconds=lease),
                heartbeat_at=now,
                attempts=JOBS.c.attempts + 1,
                started_at=now,
                error=None,
            )
        ).rowcount
        if claimed != 1:  # SQLite: another worker claimed it between the two statements
            return None
        return Job(row.id, row.full_name, row.group_name, row.attempts + 1)


def heartbeat(engine: Engine, job: Job, worker: str, lease: float) -> bool:
    """Renew the lease; False when the job is no longer this worker's (its lease passed and
    another worker claimed it)."""
    now = utcnow()
    with engine.begin() as connection:
        return (
            connection.execute(
                update(JOBS)
                .where(JOBS.c.id == job.id, JOBS.c.worker == worker, JOBS.c.status == "running")
                .values(lease_until=now + timedelta(seconds=lease), heartbeat_at=now)
            ).rowcount
            == 1
        )


def finish(engine: Engine, job: Job, worker: str, error: str | None = None) -> None:
    """Mark the job done (or failed, with the error's one line), if this worker still holds it."""
    with engine.begin() as connection:
        connection.execute(
            update(JOBS)
            .where(JOBS.c.id == job.id, JOBS.c.worker == worker, JOBS.c.status == "running")
            .values(
                status="failed" if error else "done",
                error=error,
                finished_at=utcnow(),
                lease_until=None,
            )
        )


def release(engine: Engine, job: Job, worker: str) -> None:
    """Queue the job again at once, if this worker still holds it (its worker cannot go on, for
    reasons not of this job: another worker need not wait for the lease to pass)."""
    with engine.begin() as connection:
        connection.execute(
            update(JOBS)
            .where(JOBS.c.id == job.id, JOBS.c.worker == worker, JOBS.c.status == "running")
            .values(status="queued", worker=None, lease_until=None)
        )


def outstanding(engine: Engine) -> int:
    """Jobs queued or running: a worker with nothing to claim waits while any remain."""
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(JOBS).where(JOBS.c.status.in_(("queued", "running")))
        ).scalar_one()


def job_rows(engine: Engine) -> list[dict]:
    """Every job, oldest first, for `mlissues status`."""
    with engine.connect() as connection:
        return [dict(r) for r in connection.execute(select(JOBS).order_by(JOBS.c.id)).mappings()]
