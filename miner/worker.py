"""A team worker: claims crawl jobs from a shared database and crawls them, one at a time.

Jobs come from `mlissues crawl --enqueue` (see db.jobs). While a job runs, a heartbeat thread
renews its lease; a worker that is killed stops renewing, and once the lease passes another
worker claims the job and the ordinary Crawler resumes it from the stored cursor (each page is
committed with its cursor, so nothing is lost or stored twice). A job whose crawl fails is marked
failed with its one-line error and the worker goes on; `crawl --enqueue` queues it again. An
error that is not the job's own (a bad token, an unreachable API: CrawlError.stops_study) puts
the job back in the queue and stops the worker, which would otherwise fail every job. A
worker with nothing to claim waits while other workers' jobs are outstanding (one of them may
die), and stops when every job is done or failed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from db import jobs
from miner.crawl import Crawler, CrawlError, CrawlOptions, RepositorySpec
from miner.fetch import Page
from miner.transport import GitHubClient

log = logging.getLogger(__name__)


class LeaseLost(CrawlError):
    """Another worker claimed the job (this worker's lease had passed); it stops the job."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class WorkerOptions:
    lease: float = 300.0  # seconds a claim holds without a heartbeat
    heartbeat: float = 60.0  # seconds between heartbeats; well under the lease
    poll: float = 5.0  # seconds between looks at the queue when nothing is claimable
    max_idle: float | None = None  # stop after this long with nothing claimable (None: wait)


class _Heartbeat:
    """Renews a job's lease from a thread until stopped; notes when the lease was lost."""

    def __init__(self, engine: Engine, job: jobs.Job, worker: str, options: WorkerOptions):
        self.lost = threading.Event()
        self._stop = threading.Event()

        def beat() -> None:
            while not self._stop.wait(options.heartbeat):
                try:
                    if not jobs.heartbeat(engine, job, worker, options.lease):
                        self.lost.set()
                        return
                except Exception as error:  # the database is away: the next beat tries again
                    log.warning("heartbeat of %s failed: %s", job.full_name, error)

        self._thread = threading.Thread(target=beat, name="mlissues-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_worker(
    engine: Engine,
    client: GitHubClient,
    crawl_options: CrawlOptions | None = None,
    options: WorkerOptions | None = None,
    name: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, int]:
    """Claim and crawl jobs until none is outstanding; counts of jobs done and failed."""
    options = options or WorkerOptions()
    name = name or worker_name()
    counts = {"done": 0, "failed": 0}
    idle_since: float | None = None
    while True:
        job = jobs.claim(engine, name, options.lease)
        if job is None:
            if not jobs.outstanding(engine):
                return counts
            idle_since = idle_since or time.monotonic()
            if options.max_idle is not None and time.monotonic() - idle_since > options.max_idle:
                return counts
            sleep(options.poll)
            continue
        idle_since = None
        counts[_run(engine, client, crawl_options, options, name, job)] += 1


def _run(engine, client, crawl_options, options: WorkerOptions, name: str, job: jobs.Job) -> str:
    log.info("%s: crawling %s (attempt %d)", name, job.full_name, job.attempts)
    beat = _Heartbeat(engine, job, name, options)

    def check_lease(page: Page) -> None:
        if beat.lost.is_set():
            raise LeaseLost(f"{job.full_name} was claimed by another worker")

    crawler = Crawler(engine, client, crawl_options, on_page=check_lease)
    try:
        crawler.crawl(RepositorySpec(job.full_name, job.group_name))
    except LeaseLost as error:
        log.warning("%s", error)
        return "failed"
    except CrawlError as error:
        beat.stop()
        if error.stops_study:
            jobs.release(engine, job, name)
            raise
        jobs.finish(engine, job, name, error=str(error))
        log.warning("%s failed: %s", job.full_name, error)
        return "failed"
    finally:
        beat.stop()
    jobs.finish(engine, job, name)
    return "done"
