"""Helpers shared by the crawler and stand-in tests (no copy-pasted mock blocks)."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from db import schema
from db.engine import open_database
from miner.crawl import CrawlOptions, RepositorySpec, crawl_all
from miner.fake_github import FakeGitHub
from miner.transport import GitHubClient, RetryPolicy

# Waits shrunk so that rate-limit and retry tests take milliseconds, not minutes.
FAST = RetryPolicy(retries=3, backoff=0.01, backoff_max=0.5, secondary_wait=0.05, timeout=10)

# Columns that may differ between two crawls of the same data: when a row was fetched and the
# exact page URL it came from (a resumed crawl reaches an item through another page), and the
# crawl_state bookkeeping of a run (timing and counts, which include re-fetched pages).
VOLATILE = {
    "repositories": {"fetched_at"},
    "issues": {"fetched_at", "source_url"},
    "comments": {"fetched_at", "source_url"},
    "issue_events": {"fetched_at", "source_url"},
    "crawl_state": {"started_at", "finished_at", "items", "requests"},
}
CRAWLED_TABLES = (
    "repositories",
    "repository_aliases",
    "users",
    "issues",
    "comments",
    "labels",
    "issue_labels",
    "issue_events",
    "crawl_state",
)


def write_folder(root: Path, folder: str, issues: list[dict], comments: list[dict]) -> Path:
    path = root / folder
    path.mkdir(parents=True, exist_ok=True)
    for stem, objects in (("issues", issues), ("comments", comments)):
        with gzip.open(path / f"{stem}.jsonl.gz", "wt", encoding="utf-8") as handle:
            for obj in objects:
                handle.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return root


def issue(number: int, updated: str, **fields) -> dict:
    """A hand-written API-shaped issue."""
    base = f"https://api.github.com/repos/octo/edge/issues/{number}"
    obj = {
        "url": base,
        "id": 9_000 + number,
        "number": number,
        "title": f"issue {number}",
        "user": {"login": f"user{number}", "id": 500 + number, "type": "User"},
        "labels": [],
        "state": "open",
        "locked": False,
        "comments": 0,
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": updated,
        "closed_at": None,
        "author_association": "NONE",
        "body": f"body {number}",
    }
    obj.update(fields)
    return obj


def comment(cid: int, number: int, updated: str, **fields) -> dict:
    obj = {
        "url": f"https://api.github.com/repos/octo/edge/issues/comments/{cid}",
        "issue_url": f"https://api.github.com/repos/octo/edge/issues/{number}",
        "id": cid,
        "user": None,
        "created_at": "2020-01-02T00:00:00Z",
        "updated_at": updated,
        "author_association": "NONE",
        "body": f"comment {cid}",
    }
    obj.update(fields)
    return obj


def edge_corpus(root: Path, count: int = 12) -> Path:
    """A corpus folder of `count` closed octo/edge issues with a comment each (no real data)."""

    def day(n: int) -> str:
        return f"{date(2020, 1, 1) + timedelta(days=n):%Y-%m-%d}T00:00:00Z"

    issues = [issue(n, day(n), state="closed", closed_at=day(n)) for n in range(1, count + 1)]
    comments = [comment(100 + n, n, day(100 + n)) for n in range(1, count + 1)]
    return write_folder(root, "octo__edge", issues, comments)


def crawl(
    db_url: str,
    api_url: str,
    names: list[str],
    tokens: tuple[str, ...] = ("t0",),
    sleep=None,
    policy: RetryPolicy = FAST,
    **options,
):
    """Crawl through the Python API; returns (reports, client)."""
    engine = open_database(db_url, create=True)
    kwargs = {"sleep": sleep} if sleep is not None else {}
    client = GitHubClient(api_url, tokens, policy, **kwargs)
    try:
        specs = [RepositorySpec(n) for n in names]
        options.setdefault("per_page", 100)
        return crawl_all(engine, client, specs, CrawlOptions(**options)), client
    finally:
        client.close()
        engine.dispose()


def dump(db_url: str) -> dict[str, list[tuple]]:
    """Every row of every crawled table, minus the columns allowed to differ, sorted."""
    engine = open_database(db_url)
    tables = {}
    try:
        with engine.connect() as connection:
            for name in CRAWLED_TABLES:
                table = schema.metadata.tables[name]
                columns = [c for c in table.c if c.name not in VOLATILE.get(name, set())]
                rows = connection.execute(select(*columns)).all()
                tables[name] = sorted((tuple(r) for r in rows), key=repr)
    finally:
        engine.dispose()
    return tables


def by_name(db_url: str) -> dict[str, list[tuple]]:
    """Every crawled row minus the columns allowed to differ, with repositories named instead
    of numbered (a parallel crawl numbers them in the order they start)."""
    engine = open_database(db_url)
    tables = {}
    try:
        with engine.connect() as connection:
            repositories = schema.repositories.c
            names = dict(connection.execute(select(repositories.id, repositories.full_name)).all())
            for name in CRAWLED_TABLES:
                table = schema.metadata.tables[name]
                skip = VOLATILE.get(name, set()) | ({"id"} if name == "repositories" else set())
                columns = [c for c in table.c if c.name not in skip]
                rows = []
                for row in connection.execute(select(*columns)).mappings():
                    row = dict(row)
                    if "repository_id" in row:
                        row["repository_id"] = names[row["repository_id"]]
                    rows.append(tuple(sorted(row.items())))
                tables[name] = sorted(rows, key=repr)
    finally:
        engine.dispose()
    return tables


def count(db_url: str, table: str) -> int:
    return len(dump(db_url)[table])


def keyset_requests(stamps: list[str], per_page: int) -> int:
    """Requests a crawl of items with these updated_at makes (no page all at one time), by
    the rule miner.fetch follows: page 1 of since=<newest so far> until a page is the last and
    either not full or brings nothing newer."""
    ordered, since, requests = sorted(stamps), None, 0
    while True:
        listing = [s for s in ordered if since is None or s >= since]
        page, requests = listing[:per_page], requests + 1
        assert len(listing) <= per_page or page[-1] != since, "a page all at one time"
        newest = page[-1] if page else since
        if len(listing) <= per_page and (len(page) < per_page or newest == since):
            return requests
        since = newest


def kill_after(api: FakeGitHub, command: list[str], requests: int, extra: float) -> int | None:
    """Start the crawl, SIGKILL it `requests` requests (+ `extra` s) later; its exit status."""
    target = api.stats.requests + requests
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while api.stats.requests < target and process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the crawl made no progress")
        time.sleep(0.002)
    time.sleep(extra)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait()
    return process.returncode
