"""Token-parallel crawling: several repositories at once, one request in flight per token.

Each token gets a worker thread with a client (and HTTP session) of its own, so its requests
go one after another and its quota is its own. A worker that is free takes the next repository
when its token has the most quota left of the free ones (each token's quota is asked of
GET /rate_limit, free, before the first repository goes out, so a token spent elsewhere gets
work last). Each repository is crawled by the
ordinary Crawler, so every guarantee holds per repository: each page is committed with its
cursor, a killed study resumes where each repository's last commit left off, keyset paging and
ETags as in a serial crawl. The first error stops the other workers between two pages (after
storing them) and is raised once all have stopped; so does Ctrl-C.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from sqlalchemy.engine import Engine

from miner.crawl import Crawler, CrawlOptions, RepositoryReport, RepositorySpec
from miner.fetch import Page
from miner.pipeline import background_checkpoints
from miner.transport import GitHubClient, RetryPolicy

log = logging.getLogger(__name__)


class _Stopped(Exception):
    """Raised between two pages of a worker when the study stops (another failed, Ctrl-C)."""


class StudyProgress:
    """One display for the whole study: repositories done, items, requests, quota per token."""

    def __init__(self, total: int, clients: Sequence[GitHubClient], enabled: bool) -> None:
        from tqdm import tqdm

        self._clients = clients
        self._lock = threading.Lock()
        self.items = 0
        self._bar = tqdm(
            total=total, desc="repositories", unit=" repos", disable=not enabled, leave=True
        )

    @property
    def requests(self) -> int:
        return sum(c.counters.requests for c in self._clients)

    def quotas(self) -> str:
        return " ".join("?" if c.remaining is None else str(c.remaining) for c in self._clients)

    def page(self, page: Page) -> None:
        with self._lock:
            self.items += len(page.items)
            self._bar.set_postfix_str(
                f"items={self.items} requests={self.requests} quota={self.quotas()}"
            )

    def repository_done(self) -> None:
        with self._lock:
            self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


class _Scheduler:
    """Hands repositories to free workers, the one whose token has the most quota first."""

    def __init__(self, specs: Sequence[RepositorySpec], clients: Sequence[GitHubClient]) -> None:
        self._pending = collections.deque(enumerate(specs))
        self._clients = clients
        self._free = set(range(len(clients)))  # all free at the start: the best goes first
        self._changed = threading.Condition()
        self.stopped = threading.Event()

    def _rank(self, worker: int) -> tuple[bool, float, int]:
        client = self._clients[worker]
        remaining = float("inf") if client.remaining is None else client.remaining
        return (not client.spent, remaining, -worker)

    def next_for(self, worker: int) -> tuple[int, RepositorySpec] | None:
        with self._changed:
            self._free.add(worker)
            self._changed.notify_all()
            while True:
                if self.stopped.is_set() or not self._pending:
                    self._free.discard(worker)
                    self._changed.notify_all()
                    return None
                best = max(self._free, key=self._rank)
                # A spent token waits for a busy one with quota, rather than hold a repository
                # through its reset; when every token is spent, the work goes out anyway.
                wait = self._clients[best].spent and not all(c.spent for c in self._clients)
                if best == worker and not wait:
                    self._free.discard(worker)
                    return self._pending.popleft()
                self._changed.wait(0.05)

    def stop(self) -> None:
        self.stopped.set()
        with self._changed:
            self._changed.notify_all()


def crawl_parallel(
    engine: Engine,
    api_url: str,
    tokens: Sequence[str],
    specs: Sequence[RepositorySpec],
    options: CrawlOptions | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[RepositoryReport]:
    """Crawl the repositories with one worker per token; reports in the order of `specs`.

    Without tokens, one anonymous worker crawls them in turn.
    """
    options = options or CrawlOptions()
    clients = [GitHubClient(api_url, [t], policy, sleep) for t in dict.fromkeys(tokens) if t]
    clients = clients or [GitHubClient(api_url, [], policy, sleep)]
    scheduler = _Scheduler(specs, clients)
    progress = StudyProgress(len(specs), clients, options.progress)
    reports: dict[int, RepositoryReport] = {}
    errors: list[BaseException] = []
    quiet = replace(options, progress=False)  # one display for the study, not a bar per page

    def on_page(page: Page) -> None:
        progress.page(page)
        if scheduler.stopped.is_set():
            raise _Stopped

    started = threading.Barrier(len(clients))

    def work(worker: int) -> None:
        crawler = Crawler(engine, clients[worker], quiet, on_page)
        try:
            clients[worker].check_quota()  # every quota known before a repository goes out
        except Exception as error:  # the work itself will meet (and report) the same problem
            log.debug("quota of token %d unknown: %s", worker + 1, type(error).__name__)
        finally:
            started.wait()
        while (job := scheduler.next_for(worker)) is not None:
            index, spec = job
            try:
                reports[index] = crawler.crawl(spec)
            except _Stopped:
                return
            except BaseException as error:  # handed to the caller, once every worker stopped
                errors.append(error)
                scheduler.stop()
                return
            progress.repository_done()
            log.debug("%s done by worker %d", spec.name, worker)

    threads = [
        threading.Thread(target=work, args=(w,), name=f"mlissues-token-{w + 1}", daemon=True)
        for w in range(len(clients))
    ]
    try:
        with background_checkpoints(engine):
            for thread in threads:
                thread.start()
            _join(threads, scheduler)
    finally:
        progress.close()
        for client in clients:
            client.close()
    if errors:
        raise errors[0]
    return [reports[i] for i in sorted(reports)]


def _join(threads: Sequence[threading.Thread], scheduler: _Scheduler) -> None:
    """Wait for the workers; on Ctrl-C stop them between two pages, then re-raise."""
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except KeyboardInterrupt:
        scheduler.stop()
        with contextlib.suppress(KeyboardInterrupt):
            for thread in threads:
                thread.join()
        raise
