"""Paging while the repository changes: an item edited during a crawl loses no other item.

An edit moves an item to the end of a `sort=updated` listing, so every later item shifts one
position earlier; page-number paging then skips the item at the next page boundary, and an
incremental run (since = newest stored) never sees it again. The stand-in edits items already
served while the crawl runs (FakeGitHub.edit_later); the database must end holding every item
in its current version.
"""

from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import select

from db import schema
from db.engine import open_database
from miner.fake_github import FakeGitHub
from miner.transport import CrawlError
from tests.crawl_support import comment, crawl, edge_corpus, issue, write_folder

KERAS = "keras-team/keras"
EDGE = "octo/edge"


def stored(db_url: str, endpoint: str) -> dict[int, dict]:
    """id -> the stored raw JSON, for issues or comments."""
    table = schema.issues if endpoint == "issues" else schema.comments
    engine = open_database(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(table.c.id, table.c.raw_json)).all()
    finally:
        engine.dispose()
    return {row.id: json.loads(row.raw_json) for row in rows}


def assert_complete(db_url: str, api: FakeGitHub, name: str, endpoints=("issues", "comments")):
    for endpoint in endpoints:
        served, kept = api.items(name, endpoint), stored(db_url, endpoint)
        missing = sorted(set(served) - set(kept))
        assert not missing, f"{endpoint} never stored: {missing}"
        stale = [i for i in served if kept[i]["updated_at"] != served[i]["updated_at"]]
        assert not stale, f"{endpoint} stored in an old version: {stale}"
        assert kept == served


def tied_folder(root, rng: random.Random, issues: int = 45, comments: int = 40):
    """A repository whose items share few timestamps: many pages lie entirely at one time."""
    stamps = [f"2020-02-0{d}T00:00:00Z" for d in range(1, 5)]
    return write_folder(
        root,
        "octo__edge",
        [issue(n, rng.choice(stamps)) for n in range(1, issues + 1)],
        [comment(100 + c, 1 + c % issues, rng.choice(stamps)) for c in range(comments)],
    )


@pytest.fixture
def api(corpus):
    with FakeGitHub(corpus, repositories=[KERAS]) as server:
        yield server


def test_an_item_edited_mid_crawl_makes_no_other_item_slip_past(db_url, api):
    # After the first page, its first issue is edited: it moves to the end of the listing and
    # the 11th issue slides onto page 1, already fetched. Page-number paging never sees it.
    api.edit_later("issues", after=1)
    api.edit_later("comments", after=2, served=15)
    crawl(db_url, api.url, [KERAS], per_page=10)
    assert_complete(db_url, api, KERAS)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("data", ["keras", "ties"])
def test_random_edit_schedules_lose_nothing(sqlite_url, corpus, tmp_path, data, seed):
    rng = random.Random(seed)
    if data == "keras":
        root, name = corpus, KERAS
    else:
        root, name = tied_folder(tmp_path / "corpus", rng), EDGE
    with FakeGitHub(root, repositories=[name]) as api:
        per_page = rng.randint(3, 12)
        for endpoint in ("issues", "comments"):
            for _ in range(rng.randint(1, 8)):
                api.edit_later(endpoint, after=rng.randint(1, 12), served=rng.randint(0, 40))
        crawl(sqlite_url, api.url, [name], per_page=per_page)
        assert_complete(sqlite_url, api, name)
        # and a later incremental run keeps it that way
        api.edit_later("issues", after=api.stats.pages["issues"] + 1, served=0)
        crawl(sqlite_url, api.url, [name], per_page=per_page)
        assert_complete(sqlite_url, api, name)


def test_pages_at_one_timestamp_are_walked_and_confirmed_for_free(sqlite_url, tmp_path):
    # 25 issues share one updated_at: with 10 per page, `since` cannot move past them, so the
    # crawler follows the Link pages of that listing and re-asks the full ones with their ETags.
    items = [issue(n, "2020-03-01T00:00:00Z") for n in range(1, 26)]
    items += [issue(n, f"2020-03-0{n - 24}T00:00:00Z") for n in range(26, 29)]
    root = write_folder(tmp_path / "corpus", "octo__edge", items, [])
    with FakeGitHub(root) as api:
        crawl(sqlite_url, api.url, [EDGE], per_page=10, comments=False)
        assert_complete(sqlite_url, api, EDGE, ("issues",))
        # repository; page 1 without since; pages 1-3 of since=03-01, then pages 1-2 again
        # (304: free); since=03-04 (the newer issues were on page 3) confirms the end
        assert api.stats.not_modified == 2
        assert api.stats.counted == 1 + 1 + 3 + 1
        counted = api.stats.counted
        crawl(sqlite_url, api.url, [EDGE], per_page=10, comments=False)
        assert api.stats.counted == counted  # the no-change refresh is still free


def test_a_tied_listing_edited_during_its_walk_is_walked_again(sqlite_url, tmp_path):
    items = [issue(n, "2020-03-01T00:00:00Z") for n in range(1, 36)]
    root = write_folder(tmp_path / "corpus", "octo__edge", items, [])
    with FakeGitHub(root) as api:
        for after, served in ((1, 0), (2, 3), (3, 12), (5, 25)):
            api.edit_later("issues", after=after, served=served)
        crawl(sqlite_url, api.url, [EDGE], per_page=10, comments=False)
        assert_complete(sqlite_url, api, EDGE, ("issues",))
        # page 1 of the tied listing: walked, re-asked and found changed (a restart), then
        # re-asked and found unchanged after the second walk
        assert sum(p.endswith("since=2020-03-01T00%3A00%3A00Z") for p in api.stats.paths) == 3


def test_a_full_last_page_at_one_timestamp_keeps_no_etag(sqlite_url, tmp_path):
    # Exactly one page of items at the newest time: a later item would land on page 2, which a
    # 304 for page 1 would hide. So that page's ETag is not kept and the next run asks again.
    items = [issue(n, "2020-03-01T00:00:00Z") for n in range(1, 11)]
    root = write_folder(tmp_path / "corpus", "octo__edge", items, [])
    with FakeGitHub(root) as api:
        crawl(sqlite_url, api.url, [EDGE], per_page=10, comments=False)
        api.put(EDGE, "issues", [issue(11, "2020-03-01T00:00:00Z")])
        crawl(sqlite_url, api.url, [EDGE], per_page=10, comments=False)
        assert_complete(sqlite_url, api, EDGE, ("issues",))


def test_keyset_paging_never_asks_for_deep_pages(sqlite_url, corpus):
    with FakeGitHub(corpus, repositories=[KERAS], max_page=1) as api:
        crawl(sqlite_url, api.url, [KERAS], per_page=10)
        assert not [p for p in api.stats.paths if "page=" in p.replace("per_page=", "")]
        assert_complete(sqlite_url, api, KERAS)


def test_more_tied_pages_than_github_serves_is_a_clear_error(sqlite_url, tmp_path):
    items = [issue(n, "2020-03-01T00:00:00Z") for n in range(1, 31)]
    root = write_folder(tmp_path / "corpus", "octo__edge", items, [])
    with FakeGitHub(root, max_page=2) as api, pytest.raises(CrawlError, match="share updated_at"):
        crawl(sqlite_url, api.url, [EDGE], per_page=10, comments=False)


@pytest.mark.parametrize(("per_page", "requests"), [(13, 1), (12, 2)])
def test_a_listing_ends_on_a_last_page_with_room_and_refreshes_for_free(
    sqlite_url, tmp_path, per_page, requests
):
    # 12 issues: on a page of 13 they end the listing at once; a full page of 12 could hide a
    # 13th on page 2 from a 304, so one more request (since=<newest>) gets a page with room.
    with FakeGitHub(edge_corpus(tmp_path)) as api:
        crawl(sqlite_url, api.url, [EDGE], per_page=per_page, comments=False)
        assert api.stats.pages["issues"] == requests
        counted = api.stats.counted
        crawl(sqlite_url, api.url, [EDGE], per_page=per_page, comments=False)
        assert api.stats.counted == counted  # the kept page: a 304
        api.put(EDGE, "issues", [issue(13, "2030-01-01T00:00:00Z")])
        crawl(sqlite_url, api.url, [EDGE], per_page=per_page, comments=False)
        assert_complete(sqlite_url, api, EDGE, endpoints=("issues",))
