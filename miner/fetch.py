"""Fetchers: generators of pages from the repository-level endpoints, following `Link` URLs.

A fetcher never writes. Each page it yields carries the crawl cursor to store *with* it, so the
writer commits items and cursor in one transaction and a crash at any moment loses nothing:
the next run resumes from the stored `since`.

Issues and comments are read by keyset: each request is `sort=updated&direction=asc&since=<the
newest updated_at stored>` (see fetch_updated for why not page N of one listing). The listing
ends on the first page that is its last (no `Link: rel="next"`) and not full: that page holds
everything from its `since` on, so nothing is left to ask. Its URL and ETag are kept, so the
next run asks the same URL with `If-None-Match` and a no-change refresh costs a free 304.

Events (`--events`) come newest first without `since`; a run stops at the first event id it
already has (the high-water mark stored in `since`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, urlencode, urlsplit

from miner.transport import CrawlError, DeepPageRefused, GitHubClient

log = logging.getLogger(__name__)

PER_PAGE = 100
ENDPOINT_PATHS = {"issues": "issues", "comments": "issues/comments", "events": "issues/events"}
_LINK = re.compile(r'<([^>]+)>;\s*rel="([^"]+)"')


@dataclass(frozen=True)
class Cursor:
    """What crawl_state stores for one repository and endpoint."""

    since: str | None = None  # issues/comments: newest updated_at stored; events: top id
    # events: the rest of an unfinished window; issues/comments, once done: the request that
    # ended the run, which the next run asks again with `etag`
    next_url: str | None = None
    etag: str | None = None  # of the page that ended the last finished run
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
        if not isinstance(item, dict):
            raise ValueError(f"element {len(items) + 1} is not a JSON object")
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
    """(answer, items, their JSON texts, links); a body that is not a JSON list is asked for
    again by the client, like a 5xx."""
    answer, decoded = client.get_json(url, etag=etag, decode=decode_array)
    items, texts = decoded or ([], [])
    return answer, items, texts, parse_links(answer.headers.get("Link"))


@dataclass(frozen=True)
class _Answer:
    """One answered listing request."""

    url: str
    status: int
    items: list[dict]
    texts: list[str]
    links: dict[str, str]
    etag: str | None

    @property
    def newest(self) -> str | None:
        return max(map(_updated, self.items), default=None)

    @property
    def versions(self) -> list[tuple[int, str]]:
        return [(i["id"], _updated(i)) for i in self.items]

    def page(self, endpoint: str, cursor: Cursor) -> Page:
        return Page(
            endpoint,
            self.url,
            self.items,
            cursor,
            _page_number(self.links.get("last")),
            not_modified=self.status == 304,
            texts=self.texts,
        )


def _updated(item: dict) -> str:
    return item.get("updated_at") or item["created_at"]


def _ask(client: GitHubClient, url: str, etag: str | None = None) -> _Answer:
    response, items, texts, links = _get_page(client, url, etag)
    return _Answer(url, response.status_code, items, texts, links, response.headers.get("ETag"))


def _after(since: str | None, answer: _Answer, per_page: int, first_page: bool) -> Cursor:
    """The cursor once `answer` is stored: since moves to its newest update.

    The listing is finished when the answer is its last page (no `next` link) and either brings
    nothing newer than `since` or is page 1 of `since` and not full: then it holds everything
    updated from `since` on. Such a page's URL and ETag are kept, and the next run asks that URL
    with If-None-Match (a free 304 when nothing changed). Only a page 1 that is not full can
    vouch for the listing: an item updated later lands on it (changing its ETag), whereas behind
    a full page 1 it would go to page 2, which a 304 for page 1 would hide. So a last page that
    is full costs one more request (since=<its newest>) to get such a page.
    """
    newest = max(filter(None, (since, answer.newest)), default=None)
    not_full = first_page and len(answer.items) < per_page
    done = "next" not in answer.links and (newest == since or not_full)
    if done and not_full:
        return Cursor(since=newest, next_url=answer.url, etag=answer.etag, done=True)
    return Cursor(since=newest, done=done)


def _first_request(
    client: GitHubClient, full_name: str, endpoint: str, start: Cursor, per_page: int
) -> tuple[str, str | None, str | None]:
    """(URL, its since, ETag to send) of a run's first request.

    A finished listing asks again the request that ended it (its query, under the repository's
    current name), with its ETag. Only the same query vouches: a page 1 that was not full at
    another per_page may be full at this one. Otherwise the run asks since=<newest stored>, with
    an ETag only from a cursor that predates stored URLs (whose ETag belongs to that very URL).
    """
    if start.done and start.etag and start.next_url:
        since = parse_qs(urlsplit(start.next_url).query).get("since", [None])[0]
        url = listing_url(client, full_name, endpoint, since, per_page)
        if urlsplit(url).query == urlsplit(start.next_url).query:
            return url, since, start.etag
    etag = start.etag if start.done and not start.next_url else None
    return listing_url(client, full_name, endpoint, start.since, per_page), start.since, etag


def fetch_updated(
    client: GitHubClient, full_name: str, endpoint: str, start: Cursor, per_page: int = PER_PAGE
) -> Iterator[Page]:
    """Pages of issues or comments updated since the cursor, oldest update first.

    Keyset paging: every page is page 1 of `since=<newest updated_at stored>`, never page N
    of one listing. An edit moves an item to the end of the listing and a deletion removes it;
    either shifts later items to earlier positions, so page-number paging skips the item at the
    next page boundary (and later runs start past it). A keyset is immune: an item not stored
    yet has updated_at >= the newest stored (`since` is inclusive), edited or not. Items at
    exactly that time come again and the upsert absorbs them (about one per page).
    A full page all at `since` cannot move the keyset: see _tied_pages. Only that walk uses
    page numbers (Link URLs), so a deep page (422) is not met otherwise. Only a finished cursor
    carries a next_url (see _first_request); an unfinished one resumes from `since`.
    """
    per_page = min(per_page, PER_PAGE)
    url, since, etag = _first_request(client, full_name, endpoint, start, per_page)
    while True:
        answer = _ask(client, url, etag)
        etag = None
        if answer.status == 304:
            yield answer.page(endpoint, replace(start, done=True))
            return
        if "next" in answer.links and answer.newest == since:
            cursor = yield from _tied_pages(client, full_name, endpoint, since, answer, per_page)
        else:
            cursor = _after(since, answer, per_page, first_page=True)
            yield answer.page(endpoint, cursor)
        if cursor.done:
            return
        since = cursor.since
        url = listing_url(client, full_name, endpoint, since, per_page)


def _tied_pages(
    client: GitHubClient, full_name: str, endpoint: str, since: str, first: _Answer, per_page: int
) -> Iterator[Page]:
    """Pages of a listing whose first page is full and all updated at `since`; the cursor after.

    No keyset separates items with one updated_at, so the walk follows the listing's `Link`
    next pages until a page holds a newer item (or is the last); it stores them all with the
    cursor left at `since`. A tied item edited or deleted meanwhile shifts later ones to pages
    already walked, so the walk is checked: each full tied page is asked again with its ETag.
    All unchanged (304, free) proves no item left a walked page while the walk went on, so every
    item still at `since` was seen; a changed page restarts the walk from there. Each restart
    needs an item to leave the tie (or join it, within its second), so the walk ends. A resumed
    run starts the walk again (the cursor stays at `since`).
    """
    tied: list[tuple[str, str | None, list]] = []  # url, ETag, versions of full tied pages
    answer = first
    while True:
        while "next" in answer.links and answer.newest == since:
            tied.append((answer.url, answer.etag, answer.versions))
            yield answer.page(endpoint, Cursor(since=since))
            answer = _ask_deep(client, full_name, endpoint, since, answer.links["next"])
        if not tied:  # page 1 changed and is no longer full and tied: an ordinary keyset page
            cursor = _after(since, answer, per_page, first_page=True)
            yield answer.page(endpoint, cursor)
            return cursor
        end = answer  # the page that ends the walk: it holds a newer item or is the last
        yield end.page(endpoint, Cursor(since=since))
        for index, (url, etag, versions) in enumerate(tied):
            answer = _ask(client, url, etag)
            if answer.status != 304 and answer.versions != versions:
                del tied[index:]
                break
            checked = index == len(tied) - 1
            cursor = _after(since, end, per_page, first_page=False) if checked else Cursor(since)
            yield answer.page(endpoint, cursor)
        else:
            return cursor


def _ask_deep(client: GitHubClient, full_name: str, endpoint: str, since: str, url: str):
    try:
        return _ask(client, url)
    except DeepPageRefused:
        raise CrawlError(
            f"{full_name} {endpoint}: more items share updated_at {since} than GitHub pages "
            "through (422 on a deep page); they cannot all be listed"
        ) from None


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
