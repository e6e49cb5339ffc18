"""Fetchers: generators of pages from the repository-level endpoints, following `Link` URLs.

A fetcher never writes. Each page it yields carries the crawl cursor to store *with* it, so the
writer commits items and cursor in one transaction and a crash at any moment loses nothing:
the next run resumes from the stored `next_url`, or from `since` when there is none.

Issues and comments are read in windows: `sort=updated&direction=asc&since=<cursor>` followed
through `Link: rel="next"`. When a window ends, the next one starts at the newest `updated_at`
seen; a window that brings nothing newer than its `since` ends the crawl and its ETag is kept,
so the next run asks the same URL with `If-None-Match` and a no-change refresh costs a free 304.
A deep page refused with 422 restarts the window at the cursor.

Events (`--events`) come newest first without `since`; a run stops at the first event id it
already has (the high-water mark stored in `since`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from miner.transport import CrawlError, DeepPageRefused, GitHubClient

log = logging.getLogger(__name__)

PER_PAGE = 100
ENDPOINT_PATHS = {"issues": "issues", "comments": "issues/comments", "events": "issues/events"}
_LINK = re.compile(r'<([^>]+)>;\s*rel="([^"]+)"')


@dataclass(frozen=True)
class Cursor:
    """What crawl_state stores for one repository and endpoint."""

    since: str | None = None  # issues/comments: newest updated_at stored; events: top id
    next_url: str | None = None  # the rest of an unfinished window
    etag: str | None = None  # of the window that ended the last finished run
    done: bool = False


@dataclass(frozen=True)
class Page:
    """One fetched page and the cursor that is true once it is stored."""

    endpoint: str
    url: str
    items: list[dict]
    cursor: Cursor
    last_page: int | None = None  # from Link rel="last", for progress
    not_modified: bool = False
    texts: list[str] | None = None  # each item's JSON as received


def parse_links(header: str | None) -> dict[str, str]:
    """`Link` header -> {rel: url}."""
    return {rel: url for url, rel in _LINK.findall(header or "")}


def _page_number(url: str | None) -> int | None:
    match = re.search(r"[?&]page=(\d+)", url or "")
    return int(match.group(1)) if match else None


def listing_url(
    client: GitHubClient, full_name: str, endpoint: str, since: str | None, per_page: int
) -> str:
    params: dict[str, str | int] = {"per_page": per_page}
    if endpoint == "issues":
        params["state"] = "all"
    if endpoint != "events":
        params.update(sort="updated", direction="asc")
        if since:
            params["since"] = since
    return client.url(f"repos/{full_name}/{ENDPOINT_PATHS[endpoint]}?{urlencode(params)}")


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def decode_array(text: str) -> tuple[list[dict], list[str]]:
    """A JSON array's elements and each element's text exactly as received.

    Storing the received text as raw_json spares encoding every object again; decoding
    element by element costs the same as decoding the whole array at once.
    """
    items, texts = [], []
    index = _SPACE.match(text, 0).end()
    if text[index : index + 1] != "[":
        raise ValueError("not a JSON array")
    index = _SPACE.match(text, index + 1).end()
    if text[index : index + 1] == "]":
        return items, texts
    while True:
        item, end = _DECODER.raw_decode(text, index)
        items.append(item)
        texts.append(text[index:end])
        index = _SPACE.match(text, end).end()
        separator = text[index : index + 1]
        if separator == "]":
            return items, texts
        if separator != ",":
            raise ValueError(f"unexpected {separator!r} at {index}")
        index = _SPACE.match(text, index + 1).end()


def _get_page(client: GitHubClient, url: str, etag: str | None):
    response = client.get(url, etag=etag)
    links = parse_links(response.headers.get("Link"))
    if response.status_code == 304:
        return response, [], [], links
    try:
        items, texts = decode_array(response.content.decode("utf-8"))
    except ValueError as error:  # also UnicodeDecodeError
        raise CrawlError(f"{url.split('?')[0]} did not answer a JSON list: {error}") from None
    return response, items, texts, links


def fetch_updated(
    client: GitHubClient, full_name: str, endpoint: str, start: Cursor, per_page: int = PER_PAGE
) -> Iterator[Page]:
    """Pages of issues or comments updated since the cursor, oldest update first."""
    cursor = start
    url = cursor.next_url or listing_url(client, full_name, endpoint, cursor.since, per_page)
    etag = cursor.etag if cursor.done and not cursor.next_url else None
    window_since, first_of_window = cursor.since, cursor.next_url is None
    restarts_at: str | None = "\0"
    while True:
        try:
            response, items, texts, links = _get_page(client, url, etag)
        except DeepPageRefused:
            if restarts_at == cursor.since:
                raise CrawlError(
                    f"{full_name} {endpoint}: a deep page was refused and restarting at "
                    f"since={cursor.since} makes no progress"
                ) from None
            log.info(
                "%s %s: deep page refused; restarting at since=%s",
                full_name,
                endpoint,
                cursor.since,
            )
            restarts_at = cursor.since
            url = listing_url(client, full_name, endpoint, cursor.since, per_page)
            etag, window_since, first_of_window = None, cursor.since, True
            continue
        if response.status_code == 304:
            yield Page(endpoint, url, [], replace(cursor, done=True), not_modified=True)
            return
        newest = max((i.get("updated_at") or i["created_at"] for i in items), default=None)
        since = max(filter(None, (cursor.since, newest)), default=None)
        next_url = links.get("next")
        finished = first_of_window and next_url is None and since == window_since
        cursor = Cursor(
            since=since,
            next_url=next_url,
            etag=response.headers.get("ETag") if finished else None,
            done=finished,
        )
        yield Page(endpoint, url, items, cursor, _page_number(links.get("last")), texts=texts)
        if finished:
            return
        if next_url:
            url, first_of_window = next_url, False
        else:  # window over: confirm with one more window from the newest update seen
            url = listing_url(client, full_name, endpoint, since, per_page)
            window_since, first_of_window = since, True
        etag = None


def fetch_events(
    client: GitHubClient,
    full_name: str,
    start: Cursor,
    top_id: int | None,
    per_page: int = PER_PAGE,
) -> Iterator[Page]:
    """Pages of issue events newer than the stored high-water mark, newest first.

    `top_id` is the newest event id already stored (it becomes the mark when the run ends).
    """
    known = int(start.since) if start.since else None  # the mark of the last finished run
    url = start.next_url or listing_url(client, full_name, "events", None, per_page)
    etag = start.etag if start.done and not start.next_url else None
    first_etag = start.etag if start.next_url else None
    first = start.next_url is None
    while True:
        response, items, texts, links = _get_page(client, url, etag)
        if response.status_code == 304:
            yield Page("events", url, [], replace(start, done=True), not_modified=True)
            return
        if first:
            first_etag = response.headers.get("ETag")
        keep = [known is None or e["id"] > known for e in items]
        fresh = [e for e, k in zip(items, keep, strict=True) if k]
        fresh_texts = [t for t, k in zip(texts, keep, strict=True) if k]
        top_id = max([top_id or 0, *(e["id"] for e in fresh)]) or None
        next_url = links.get("next") if len(fresh) == len(items) else None
        done = next_url is None
        since = str(top_id) if done and top_id else start.since
        # The first page's ETag is kept from the start: a finished run's first URL is the next
        # run's first URL, so an unchanged repository answers it with 304.
        cursor = Cursor(since=since, next_url=next_url, etag=first_etag, done=done)
        yield Page("events", url, fresh, cursor, _page_number(links.get("last")), texts=fresh_texts)
        if done:
            return
        url, etag, first = next_url, None, False
