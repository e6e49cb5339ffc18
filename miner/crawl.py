"""The crawler: resolve each repository, then fetch and save its listings page by page.

A repository's listings (issues, comments, events) are independent, each with its own cursor,
so a token-parallel crawl may give them to different tokens (miner.parallel). A fetch thread
(miner.pipeline) sends a listing's requests and decodes the pages while the calling thread
builds their rows and writes: every page is saved in its own transaction together with its
crawl_state cursor (see miner.fetch), so the database is consistent after a SIGKILL at any
moment and the next run resumes where the last commit left off. Errors of the fetch thread
surface in the writer after the pages before them are stored.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import astuple, dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from db import schema, upsert
from miner.fetch import PER_PAGE, Cursor, Page, fetch_events, fetch_updated
from miner.pipeline import background_checkpoints, prefetch, tune_writer
from miner.store import (
    PreparedPage,
    Provenance,
    add_alias,
    ensure_repository,
    find_repository,
    parse_time,
    prepare_comments,
    prepare_events,
    prepare_issues,
    rename_repository,
    save_prepared,
    utcnow,
)
from miner.transport import (
    RESUME_HINT,
    CrawlError,
    GitHubClient,
    InvalidRepositoryName,
    RepositoryNotFound,
    without_resume_hint,
)
from mlissues import __version__

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
REPOSITORY_ENDPOINT = "repository"  # crawl_state row holding the metadata ETag


def is_repository_name(name: str) -> bool:
    """OWNER/REPO in the characters GitHub allows, neither part '.' or '..': a name goes into
    API URLs (`/repos/OWNER/REPO/...`), where such a part would climb out of /repos/ (the
    token then went to `/user`)."""
    return (
        bool(_NAME.match(name))
        and not name.endswith(".")
        and not any(part in (".", "..") for part in name.split("/"))
    )


@dataclass(frozen=True)
class RepositorySpec:
    """A repository to crawl, as named by the user, and its study group."""

    name: str
    group: str | None = None

    def __post_init__(self) -> None:
        if not is_repository_name(self.name):
            raise InvalidRepositoryName(
                f"{self.name!r} is not a repository name; write it as OWNER/REPO, "
                "e.g. tensorflow/tensorflow"
            )


def _repository_object(text: str) -> dict:
    """GET /repos/O/R decoded; ValueError (asked again, like a 5xx) when it is not one."""
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("id"), int):
        raise ValueError("not a repository object")
    return data


@dataclass(frozen=True)
class CrawlOptions:
    since: str | None = None  # ISO time: start of the first crawl of a repository
    max_issues: int | None = None  # stop issues after this many (whole pages) in this run
    comments: bool = True
    events: bool = False
    per_page: int = PER_PAGE
    progress: bool = False


@dataclass
class RepositoryReport:
    """What one repository's crawl did, for the summary."""

    name: str
    new: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    not_modified: int = 0
    seconds: float = 0.0  # spent crawling it (summed over tokens in a parallel crawl)
    write_seconds: float = 0.0  # in the transactions that stored its pages

    def add(self, other: RepositoryReport) -> None:
        """Count in the report of another part of the same repository (one of its listings)."""
        for mine, theirs in ((self.new, other.new), (self.updated, other.updated)):
            for endpoint, value in theirs.items():
                mine[endpoint] = mine.get(endpoint, 0) + value
        self.requests += other.requests
        self.not_modified += other.not_modified
        self.seconds += other.seconds
        self.write_seconds += other.write_seconds


@dataclass(frozen=True)
class Listing:
    """One listing (endpoint) of a resolved repository: crawled with a cursor of its own."""

    repository_id: int
    full_name: str
    endpoint: str


class StudyIncomplete(CrawlError):
    """Some repositories of a study failed; the others were crawled to the end (`reports`)."""

    def __init__(self, failed: dict[str, str], reports: list[RepositoryReport], total: int):
        listed = "; ".join(f"{name}: {without_resume_hint(m)}" for name, m in failed.items())
        super().__init__(
            f"{len(failed)} of {total} repositories failed ({listed}); {total - len(failed)} "
            f"of {total} complete; {RESUME_HINT} (the complete ones cost only free 304s), or "
            "leave the failed ones out"
        )
        self.failed, self.reports = failed, reports


def goes_on_after(error: CrawlError, specs: Sequence[RepositorySpec]) -> bool:
    """Whether a study's other repositories go on after this repository's error: not when the
    error concerns them all (see CrawlError.stops_study), nor when there are no others."""
    return not error.stops_study and len(specs) > 1


def normalize_since(value: str) -> str:
    """A date or ISO time as GitHub's `since` (UTC, `Z`), or ValueError."""
    moment = parse_time(value.strip())
    if moment is None:
        raise ValueError("empty date")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- state -----------------------------------------------------------------------------------


def load_cursor(connection: Connection, repository_id: int, endpoint: str) -> tuple[Cursor, dict]:
    row = (
        connection.execute(
            select(schema.crawl_state).where(
                schema.crawl_state.c.repository_id == repository_id,
                schema.crawl_state.c.endpoint == endpoint,
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return Cursor(), {"items": 0, "requests": 0}
    cursor = Cursor(row["since"], row["next_url"], row["etag"], row["status"] == "done")
    return cursor, {"items": row["items"], "requests": row["requests"]}


def store_cursor(
    connection: Connection,
    repository_id: int,
    endpoint: str,
    cursor: Cursor,
    started_at: datetime,
    totals: dict,
) -> None:
    row = {
        "repository_id": repository_id,
        "endpoint": endpoint,
        "since": cursor.since,
        "next_url": cursor.next_url,
        "etag": cursor.etag,
        "status": "done" if cursor.done else "running",
        "started_at": started_at,
        "finished_at": utcnow() if cursor.done else None,
        "items": totals["items"],
        "requests": totals["requests"],
    }
    upsert(connection, schema.crawl_state, [row], key=["repository_id", "endpoint"])


# --- repository metadata ---------------------------------------------------------------------


def _stored_repository(engine: Engine, name: str) -> tuple[int | None, str | None, str | None]:
    with engine.connect() as connection:
        repository_id = find_repository(connection, name)
        if repository_id is None:
            return None, None, None
        full_name = connection.execute(
            select(schema.repositories.c.full_name).where(schema.repositories.c.id == repository_id)
        ).scalar_one()
        cursor, _ = load_cursor(connection, repository_id, REPOSITORY_ENDPOINT)
        return repository_id, full_name, cursor.etag


def _by_github_id(connection: Connection, github_id: int) -> int | None:
    return connection.execute(
        select(schema.repositories.c.id).where(schema.repositories.c.github_id == github_id)
    ).scalar()


def resolve_repository(
    engine: Engine, client: GitHubClient, spec: RepositorySpec
) -> tuple[int, str]:
    """(repository id, canonical name), following renames; one conditional request.

    A renamed repository answers 301; requests follows it, and the canonical name comes from
    the repository object. Old names are kept as aliases, so either name finds the same data.
    """
    repository_id, stored_name, etag = _stored_repository(engine, spec.name)
    try:
        response, data = client.get_json(
            f"repos/{stored_name or spec.name}", etag=etag, decode=_repository_object
        )
    except RepositoryNotFound:
        raise RepositoryNotFound(
            f"no repository {spec.name} at {client.api_url} (404); check the OWNER/REPO "
            "spelling, and that your token can read it if it is private"
        ) from None
    if data is None and repository_id is None:
        raise CrawlError(f"{client.api_url} answered 304 for {spec.name} without being asked")
    with engine.begin() as connection:
        if data is None:
            canonical = stored_name
            ensure_repository(connection, canonical, client.api_url, spec.group)
        else:
            canonical = data.get("full_name")
            if not isinstance(canonical, str) or not is_repository_name(canonical):
                raise InvalidRepositoryName(
                    f"{client.api_url} named {spec.name} {str(canonical)[:100]!r}, which is not "
                    "OWNER/REPO; nothing was stored (is --api-url a GitHub API?)"
                )
            repository_id = repository_id or _by_github_id(connection, data["id"])
            if repository_id is None:
                repository_id = ensure_repository(connection, canonical, client.api_url, spec.group)
            else:
                rename_repository(connection, repository_id, canonical)
                ensure_repository(connection, canonical, client.api_url, spec.group)
            connection.execute(
                schema.repositories.update()
                .where(schema.repositories.c.id == repository_id)
                .values(
                    github_id=data["id"],
                    raw_json=response.content.decode("utf-8"),
                    fetched_at=utcnow(),
                    api_url=client.api_url,
                )
            )
            store_cursor(
                connection,
                repository_id,
                REPOSITORY_ENDPOINT,
                Cursor(etag=response.headers.get("ETag"), done=True),
                utcnow(),
                {"items": 1, "requests": 1},
            )
        if spec.name.lower() != canonical.lower():
            add_alias(connection, repository_id, spec.name)
            log.info("%s is now %s; the old name is kept as an alias", spec.name, canonical)
    return repository_id, canonical


# --- saving pages ----------------------------------------------------------------------------

_PREPARERS: dict[str, tuple[Callable, object]] = {
    "issues": (prepare_issues, schema.issues),
    "comments": (prepare_comments, schema.comments),
    "events": (prepare_events, schema.issue_events),
}


def prepared(pages: Iterator[Page], repository_id: int) -> Iterator[tuple[Page, PreparedPage]]:
    """Pages with their rows built (in the writer's thread, off the path between requests)."""
    for page in pages:
        prepare = _PREPARERS[page.endpoint][0]
        provenance = Provenance(page.url, __version__, utcnow())
        try:
            rows = prepare(repository_id, page.items, provenance, page.texts)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise CrawlError(
                f"an item of {page.url.split('?')[0]} lacks what every GitHub {page.endpoint} "
                f"object has ({type(error).__name__}: {str(error)[:80]}); is --api-url a "
                "GitHub API?"
            ) from None
        yield page, rows


def _row_count(connection: Connection, endpoint: str, repository_id: int) -> int:
    table = _PREPARERS[endpoint][1]
    return connection.execute(
        select(func.count()).select_from(table).where(table.c.repository_id == repository_id)
    ).scalar_one()


class _Tally:
    """New and updated items of one endpoint, without a query per page.

    New: the rows added. Updated: the distinct items changed after the run's starting cursor
    that were not new (items at the cursor itself are re-read ties, not changes).
    """

    def __init__(self, connection: Connection, endpoint: str, repository_id: int, start: Cursor):
        self.endpoint, self.repository_id = endpoint, repository_id
        self.since = start.since if endpoint != "events" else None
        self.before = _row_count(connection, endpoint, repository_id)
        self.changed: set[int] = set()

    def add(self, items: list[dict]) -> None:
        if self.endpoint == "events":
            return
        self.changed.update(
            i["id"] for i in items if self.since is None or i["updated_at"] > self.since
        )

    def report(self, connection: Connection, report: RepositoryReport) -> None:
        new = _row_count(connection, self.endpoint, self.repository_id) - self.before
        updated = max(len(self.changed) - new, 0)
        for counts, value in ((report.new, new), (report.updated, updated)):
            if value:
                counts[self.endpoint] = counts.get(self.endpoint, 0) + value


# --- the crawl -------------------------------------------------------------------------------


def _pages_for(
    engine: Engine,
    client: GitHubClient,
    full_name: str,
    repository_id: int,
    endpoint: str,
    options: CrawlOptions,
    start: Cursor,
) -> Iterator[Page]:
    if endpoint == "events":
        with engine.connect() as connection:
            top_id = connection.execute(
                select(func.max(schema.issue_events.c.id)).where(
                    schema.issue_events.c.repository_id == repository_id
                )
            ).scalar()
        return fetch_events(client, full_name, start, top_id, options.per_page)
    if start.since is None and start.next_url is None and options.since:
        start = Cursor(since=options.since)
    return fetch_updated(client, full_name, endpoint, start, options.per_page)


def _progress(options: CrawlOptions, full_name: str, endpoint: str):
    from tqdm import tqdm

    return tqdm(
        desc=f"{full_name} {endpoint}",
        unit=" items",
        disable=not options.progress,
        dynamic_ncols=True,
        leave=True,
    )


class Crawler:
    """Crawl repositories into the database through one API client."""

    def __init__(
        self,
        engine: Engine,
        client: GitHubClient,
        options: CrawlOptions | None = None,
        on_page: Callable[[Page], None] | None = None,
    ):
        self.engine = engine
        self.client = client
        self.options = options or CrawlOptions()
        # Called after each page is committed with its cursor (progress; an exception raised
        # there stops the crawl between two pages, losing nothing).
        self.on_page = on_page

    def endpoints(self) -> list[str]:
        chosen = ["issues"]
        if self.options.comments:
            chosen.append("comments")
        if self.options.events:
            chosen.append("events")
        return chosen

    def crawl(self, spec: RepositorySpec) -> RepositoryReport:
        """Crawl one repository; raises CrawlError subclasses after storing what it could."""
        report = RepositoryReport(spec.name)
        with self.counting(report):
            for listing in self.begin(spec, report):
                self.crawl_listing(listing, report)
        return report

    @contextlib.contextmanager
    def counting(self, report: RepositoryReport) -> Iterator[None]:
        """Add the requests, 304s and seconds of the work inside to `report`. The client must
        serve nothing else meanwhile (one request in flight per token)."""
        started, counters = time.monotonic(), self.client.counters
        requests, not_modified = counters.requests, counters.not_modified
        try:
            yield
        finally:
            report.requests += counters.requests - requests
            report.not_modified += counters.not_modified - not_modified
            report.seconds += time.monotonic() - started

    def begin(self, spec: RepositorySpec, report: RepositoryReport) -> list[Listing]:
        """Resolve the repository (one conditional request) and name its listings to crawl."""
        repository_id, report.name = resolve_repository(self.engine, self.client, spec)
        self._mark_begun(repository_id)
        return [Listing(repository_id, report.name, e) for e in self.endpoints()]

    def _mark_begun(self, repository_id: int) -> None:
        """A 'running' state for each endpoint never crawled before, so that `status` shows
        the crawl unfinished until every endpoint is done, even one stopped before its first
        page."""
        rows = [
            {"repository_id": repository_id, "endpoint": endpoint, "status": "running",
             "started_at": utcnow(), "items": 0, "requests": 0}
            for endpoint in self.endpoints()
        ]  # fmt: skip
        with self.engine.begin() as connection:
            upsert(connection, schema.crawl_state, rows, ["repository_id", "endpoint"], update=())

    def crawl_listing(self, listing: Listing, report: RepositoryReport) -> None:
        """Fetch and store one listing from its cursor on, each page with its cursor."""
        repository_id, full_name, endpoint = astuple(listing)
        with self.engine.connect() as connection:
            start, totals = load_cursor(connection, repository_id, endpoint)
            tally = _Tally(connection, endpoint, repository_id, start)
        pages = _pages_for(
            self.engine, self.client, full_name, repository_id, endpoint, self.options, start
        )
        started_at, stored = utcnow(), 0
        bar = _progress(self.options, full_name, endpoint)
        with bar, self.engine.connect() as connection:
            tune_writer(connection)
            try:
                # with --max-issues, fetch no further ahead than the page being written
                depth = 1 if endpoint == "issues" and self.options.max_issues else 8
                # Rows are built here, not in the fetch thread: the next request waits only for
                # the page to be decoded (its `since` is the page's newest updated_at).
                for page, rows in prepared(prefetch(pages, depth), repository_id):
                    totals["items"] += len(page.items)
                    totals["requests"] += 1
                    writing = time.monotonic()
                    with connection.begin():  # the page and its cursor, all or nothing
                        save_prepared(connection, rows)
                        store_cursor(
                            connection, repository_id, endpoint, page.cursor, started_at, totals
                        )
                    report.write_seconds += time.monotonic() - writing
                    tally.add(page.items)
                    stored += len(page.items)
                    self._show(bar, page, stored)
                    if self.on_page is not None:
                        self.on_page(page)
                    if endpoint == "issues" and self._enough(stored, page):
                        break
                else:  # the listing is done: its total was an estimate from Link rel="last"
                    bar.total = bar.n
                    bar.refresh()
            finally:
                tally.report(connection, report)
                connection.commit()

    def _enough(self, stored: int, page: Page) -> bool:
        limit = self.options.max_issues
        if limit is not None and stored >= limit and not page.cursor.done:
            log.info("stopped after %d issues (--max-issues); the next run continues", stored)
            return True
        return False

    def _show(self, bar, page: Page, stored: int) -> None:
        bar.update(len(page.items))
        if page.last_page:
            current = int(re.search(r"[?&]page=(\d+)", page.url + "&page=1").group(1))
            bar.total = stored + max(page.last_page - current, 0) * self.options.per_page
        bar.set_postfix(
            requests=self.client.counters.requests, quota=self.client.remaining, refresh=False
        )


def crawl_all(
    engine: Engine,
    client: GitHubClient,
    specs: Sequence[RepositorySpec],
    options: CrawlOptions | None = None,
) -> list[RepositoryReport]:
    """Crawl each repository in turn; reports in the order of `specs`.

    A repository that fails does not stop the others (unless the error concerns them all, see
    goes_on_after); once all are tried, StudyIncomplete names the failed ones.
    """
    crawler = Crawler(engine, client, options)
    reports, failed = [], {}
    with background_checkpoints(engine):
        for spec in specs:
            try:
                reports.append(crawler.crawl(spec))
            except CrawlError as error:
                if not goes_on_after(error, specs):
                    raise
                log.info("%s failed: %s", spec.name, error)
                failed[spec.name] = str(error)
    if failed:
        raise StudyIncomplete(failed, reports, len(specs))
    return reports


__all__ = [
    "CrawlError",
    "CrawlOptions",
    "Crawler",
    "Listing",
    "RepositoryReport",
    "RepositorySpec",
    "StudyIncomplete",
    "crawl_all",
    "normalize_since",
]
