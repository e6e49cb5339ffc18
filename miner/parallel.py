"""Token-parallel crawling: several listings at once, one request in flight per token.

Each token gets a worker thread with a client (and HTTP session) of its own, so its requests
go one after another and its quota is its own. The work comes in units: resolving a
repository (its metadata, one request), then each of its listings (issues, comments, events),
which have cursors of their own and so may run on different tokens at once. A repository is
one long unit no more: at the end of a study, when fewer repositories than tokens are left,
their listings still keep several tokens busy. Repositories are resolved in the study's order,
a few per token ahead of the crawl, and their longest listings go out first (see _Scheduler),
each unit to the free worker whose token has the most quota left (asked of GET /rate_limit,
free, before the first unit goes out, so a token spent elsewhere gets work last). Each listing
is crawled by the ordinary Crawler, so every guarantee holds: each page is committed with its
cursor, a killed study resumes where each listing's last commit left off, keyset paging and
ETags as in a serial crawl. A listing is one unit, so no two workers crawl it at once; a
repository named twice (or by an old name) is crawled once.

A repository that fails is set aside (its other listings stop between two pages, keeping what
they stored) and the others go on; once all are done, StudyIncomplete names the failed ones.
An error that concerns every repository (a bad token, an unreachable API) stops the study
between two pages instead, and so does Ctrl-C.
"""

from __future__ import annotations

import collections
import contextlib
import heapq
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy.engine import Engine

from miner.crawl import (
    Crawler,
    CrawlError,
    CrawlOptions,
    Listing,
    RepositoryReport,
    RepositorySpec,
    StudyIncomplete,
    goes_on_after,
)
from miner.fetch import Page
from miner.pipeline import background_checkpoints
from miner.transport import GitHubClient, RetryPolicy

log = logging.getLogger(__name__)


class _Stopped(Exception):
    """Raised between two pages of a unit whose repository failed, or when the study stops."""


# The order listings go out in: the longest first, so that short ones fill the gaps at the end.
# Sizes are unknown in advance; comments (about three per issue) and events usually outnumber
# issues, and a study file lists its largest repositories first.
_LISTING_ORDER = ("comments", "events", "issues")
_AHEAD = 2  # repositories resolved and not finished, per token (see _Scheduler)


@dataclass(frozen=True, order=True)
class _Unit:
    """Work for one token: resolve the repository (no listing), or crawl one of its listings.

    Listings are ordered as they go out: by kind (_LISTING_ORDER), then by the repository's
    place in the study.
    """

    rank: int  # of the listing's kind; -1 to resolve the repository
    index: int  # the repository's place in the study
    spec: RepositorySpec = field(compare=False)
    listing: Listing | None = field(default=None, compare=False)

    def of(self, listing: Listing) -> _Unit:
        """The unit of one of this repository's listings."""
        return _Unit(_LISTING_ORDER.index(listing.endpoint), self.index, self.spec, listing)


@dataclass
class TokenTiming:
    """Where one token's time went in a parallel crawl (for benchmarks/crawl_parallel.py)."""

    requests: int = 0
    request_seconds: float = 0.0  # waiting for answers
    unit_seconds: float = 0.0  # holding units: requests, and decoding between them
    done_at: float = 0.0  # seconds from the start until the worker found no more work


class StudyProgress:
    """One display for the whole study: repositories done, items, requests, quota per token."""

    def __init__(self, total: int, clients: Sequence[GitHubClient], enabled: bool) -> None:
        from tqdm import tqdm

        self._clients = clients
        self._lock = threading.Lock()
        self.items = 0
        self.failed = 0
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
            failed = f" failed={self.failed}" if self.failed else ""
            self._bar.set_postfix_str(
                f"items={self.items} requests={self.requests} quota={self.quotas()}{failed}"
            )

    def repository_done(self, failed: bool = False) -> None:
        with self._lock:
            self.failed += failed
            self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


class _Scheduler:
    """Hands units to free workers, the one whose token has the most quota first.

    Repositories are resolved in the study's order, up to _AHEAD per token open at once (resolved
    and not finished): enough to choose the longest listings among them, few enough that
    repositories finish steadily rather than all at the end. Among the open repositories'
    listings, the longest kind goes out first.
    """

    def __init__(
        self,
        specs: Sequence[RepositorySpec],
        clients: Sequence[GitHubClient],
        on_repository_done: Callable[[int], None],
    ) -> None:
        self._on_repository_done = on_repository_done  # called with the repository's index
        self._resolves = collections.deque(_Unit(-1, i, spec) for i, spec in enumerate(specs))
        self._listings: list[_Unit] = []  # a heap
        self._left: dict[int, int] = {}  # units not finished, per open repository
        self._resolving = 0  # resolve units out
        self._limit = _AHEAD * len(clients)
        self._clients = clients
        self._free = set(range(len(clients)))  # all free at the start: the best goes first
        self._changed = threading.Condition()
        self.stopped = threading.Event()

    def _rank(self, worker: int) -> tuple[bool, float, int]:
        client = self._clients[worker]
        remaining = float("inf") if client.remaining is None else client.remaining
        return (not client.spent, remaining, -worker)

    def next_for(self, worker: int) -> _Unit | None:
        """The next unit for this worker, or None when the study is over (or stopped)."""
        with self._changed:
            self._free.add(worker)
            self._changed.notify_all()
            while True:
                # only a repository being resolved may still add work
                over = not (self._resolves or self._listings or self._resolving)
                if self.stopped.is_set() or over:
                    self._free.discard(worker)
                    self._changed.notify_all()
                    return None
                if (self._resolves or self._listings) and self._is_turn_of(worker):
                    self._free.discard(worker)
                    return self._take()
                self._changed.wait(0.05)

    def _take(self) -> _Unit:
        if self._resolves and (len(self._left) < self._limit or not self._listings):
            unit = self._resolves.popleft()
            self._left[unit.index] = 1
            self._resolving += 1
            return unit
        return heapq.heappop(self._listings)

    def _is_turn_of(self, worker: int) -> bool:
        best = max(self._free, key=self._rank)
        # A spent token waits for a busy one with quota, rather than hold a listing through
        # its reset; when every token is spent, the work goes out anyway.
        wait = self._clients[best].spent and not all(c.spent for c in self._clients)
        return best == worker and not wait

    def finished(self, unit: _Unit, more: Sequence[_Unit] = ()) -> None:
        """A unit is over (done, failed or skipped); `more` are the listings it found."""
        with self._changed:
            self._resolving -= unit.listing is None
            for new in more:
                heapq.heappush(self._listings, new)
            self._left[unit.index] += len(more) - 1
            if not self._left[unit.index]:
                del self._left[unit.index]
                self._on_repository_done(unit.index)
            self._changed.notify_all()

    def stop(self) -> None:
        self.stopped.set()
        with self._changed:
            self._changed.notify_all()


class _Study:
    """The reports and failures of a study's repositories."""

    def __init__(self, specs: Sequence[RepositorySpec]) -> None:
        self.specs = specs
        self._lock = threading.Lock()
        self._reports: dict[int, RepositoryReport] = {}
        self._failed: dict[int, str] = {}
        self._crawled: set[int] = set()  # repository ids whose listings went out

    def is_failed(self, index: int) -> bool:
        return index in self._failed

    def resolved(
        self, unit: _Unit, report: RepositoryReport, listings: list[Listing]
    ) -> list[_Unit]:
        """Record a resolved repository; its listing units (none if it is in the study twice)."""
        with self._lock:
            self._reports[unit.index] = report
            repository_id = listings[0].repository_id if listings else None
            if repository_id in self._crawled:
                log.info("%s is named twice in the study; crawled once", report.name)
                return []
            self._crawled.add(repository_id)
        return [unit.of(listing) for listing in listings]

    def listing_done(self, unit: _Unit, report: RepositoryReport) -> None:
        with self._lock:
            self._reports[unit.index].add(report)

    def fail(self, unit: _Unit, error: CrawlError) -> None:
        """Set the repository aside with its first error; the others go on."""
        with self._lock:
            self._failed.setdefault(unit.index, str(error))
        log.info("%s failed: %s", unit.spec.name, error)

    def results(self) -> list[RepositoryReport]:
        """Reports in the study's order, or StudyIncomplete naming the failed repositories."""
        reports = [r for i, r in sorted(self._reports.items()) if i not in self._failed]
        if self._failed:
            failed = {self.specs[i].name: message for i, message in sorted(self._failed.items())}
            raise StudyIncomplete(failed, reports, len(self.specs))
        return reports


def crawl_parallel(
    engine: Engine,
    api_url: str,
    tokens: Sequence[str],
    specs: Sequence[RepositorySpec],
    options: CrawlOptions | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    timings: list[TokenTiming] | None = None,
) -> list[RepositoryReport]:
    """Crawl the repositories with one worker per token; reports in the order of `specs`.

    Without tokens, one anonymous worker crawls them in turn. Raises StudyIncomplete when some
    repositories failed (after crawling the others), or the first error that stops the study.
    `timings`, if given, receives one TokenTiming per token.
    """
    options = options or CrawlOptions()
    clients = [GitHubClient(api_url, [t], policy, sleep) for t in dict.fromkeys(tokens) if t]
    clients = clients or [GitHubClient(api_url, [], policy, sleep)]
    progress = StudyProgress(len(specs), clients, options.progress)
    study = _Study(specs)
    scheduler = _Scheduler(
        specs, clients, lambda index: progress.repository_done(study.is_failed(index))
    )
    errors: list[BaseException] = []
    quiet = replace(options, progress=False)  # one display for the study, not a bar per page
    started = threading.Barrier(len(clients))
    clock = [TokenTiming() for _ in clients]
    began = time.monotonic()

    def work(worker: int) -> None:
        unit: _Unit | None = None

        def on_page(page: Page) -> None:
            progress.page(page)
            if scheduler.stopped.is_set() or study.is_failed(unit.index):
                raise _Stopped

        crawler = Crawler(engine, clients[worker], quiet, on_page)
        _check_quota(clients[worker], worker, started)
        while (unit := scheduler.next_for(worker)) is not None:
            more: list[_Unit] = []
            holding = time.monotonic()
            try:
                more = _run(crawler, study, unit)
            except BaseException as error:  # handed to the caller, once every worker stopped
                errors.append(error)
                scheduler.stop()
                return
            finally:
                scheduler.finished(unit, more)
                clock[worker].unit_seconds += time.monotonic() - holding
        clock[worker].done_at = time.monotonic() - began

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
        for client, timing in zip(clients, clock, strict=True):
            client.close()
            timing.requests = client.counters.requests  # GET /rate_limit included
            timing.request_seconds = client.counters.seconds
        if timings is not None:
            timings.extend(clock)
    if errors:
        raise errors[0]
    return study.results()


def _check_quota(client: GitHubClient, worker: int, started: threading.Barrier) -> None:
    """Learn the token's quota, then wait until every worker knows its own."""
    try:
        client.check_quota()
    except Exception as error:  # the work itself will meet (and report) the same problem
        log.debug("quota of token %d unknown: %s", worker + 1, type(error).__name__)
    finally:
        started.wait()


def _run(crawler: Crawler, study: _Study, unit: _Unit) -> list[_Unit]:
    """Do one unit; the listing units it found. Errors of this repository alone are recorded
    and the study goes on; others are raised."""
    if study.is_failed(unit.index):
        return []  # its repository failed while the unit waited
    report = RepositoryReport(unit.spec.name)
    try:
        with crawler.counting(report):
            if unit.listing is None:
                return study.resolved(unit, report, crawler.begin(unit.spec, report))
            crawler.crawl_listing(unit.listing, report)
    except _Stopped:
        return []
    except CrawlError as error:
        if not goes_on_after(error, study.specs):
            raise
        study.fail(unit, error)
        return []
    study.listing_done(unit, report)
    return []


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
