"""A local stand-in of the GitHub REST API, serving a corpus directory of API-shaped JSONL.

It answers the endpoints the crawler uses with GitHub's semantics: `GET /repos/{o}/{r}`,
`/repos/{o}/{r}/issues`, `/repos/{o}/{r}/issues/comments` and `/repos/{o}/{r}/issues/events`
with `state`, `since`, `sort`, `direction`, `per_page` (max 100) and `page`, `Link` headers,
weak `ETag`s with `If-None-Match` -> 304 (free, as on GitHub), `X-RateLimit-*` headers with a
budget per token, 401 for unknown tokens, 404 for unknown repositories and 301 for renamed ones.
`GET /search/repositories` searches a catalog it is given (`catalog`: `topic:`, `stars:`,
`language:`, free words; `sort=stars`; `total_count`; a search budget of its own, 30 a minute).
`GET /rate_limit` reports the budgets without spending any.
`copies` serves corpus folders again under other names (with ids of their own), and `latency`
(or `delay`) adds seconds to every answer, for benchmarks of parallel crawling.
Faults (5xx, secondary limits, 429, an exhausted primary limit, slow responses, dropped
connections) can be injected from Python or the command line, and so can hostile answers (a
body that never ends, one that trickles in a byte at a time, one cut short, one that is not
JSON; `Link` URLs on another host: `link_url`), and edits made while a
crawl runs (`edit_later`: an item already served gets updated_at = now and moves to the end of
an updated-sorted listing, shifting every later item one position earlier).

The corpus has no events: the events endpoint serves SYNTHETIC `closed` events, one per closed
issue at its `closed_at`, with stable ids derived from the issue id. They exist to exercise the
crawler, not as data.

Use it from Python:

    with FakeGitHub("../shared/corpus", renames={"apache/incubator-mxnet": "apache/mxnet"}) as api:
        crawl(..., api_url=api.url)
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import logging
import math
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from miner.corpus import iter_comments, iter_issues, repo_dirs

log = logging.getLogger(__name__)

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30
FAULT_KINDS = (
    "404", "500", "502", "503", "secondary", "secondary-retry-after", "429", "primary", "drop",
    "endless", "trickle", "truncated", "malformed",
)  # fmt: skip

# --- the data, sorted once and serialized once per item -----------------------------------


@dataclass(frozen=True)
class _Item:
    """One API object with what filtering and sorting need, and its JSON bytes."""

    id: int
    created_at: str
    updated_at: str
    state: str
    body: bytes


class _Collection:
    """A list of API objects with the orders GitHub offers, and `since` by binary search."""

    def __init__(self, items: Iterable[_Item]) -> None:
        by_id = sorted(items, key=lambda i: i.id)
        # Ties on the timestamp fall back to the id so that pages are stable between requests.
        self.orders = {
            "created": sorted(by_id, key=lambda i: (i.created_at, i.id)),
            "updated": sorted(by_id, key=lambda i: (i.updated_at, i.id)),
        }
        self._updated_keys = [i.updated_at for i in self.orders["updated"]]

    def __len__(self) -> int:
        return len(self._updated_keys)

    def get(self, item_id: int) -> _Item:
        return next(i for i in self.orders["created"] if i.id == item_id)

    def select(self, sort: str, direction: str, since: str | None, state: str) -> list[_Item]:
        if sort == "updated" and since:
            items = self.orders["updated"][bisect.bisect_left(self._updated_keys, since) :]
        else:
            items = self.orders[sort]
            if since:
                items = [i for i in items if i.updated_at >= since]
        if state != "all":
            items = [i for i in items if i.state == state]
        return items[::-1] if direction == "desc" else items


def _dump(obj: dict) -> bytes:
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate: GitHub sends it as the escape \ud800
        return json.dumps(obj, separators=(",", ":")).encode()


def _issue_item(obj: dict) -> _Item:
    return _Item(obj["id"], obj["created_at"], obj["updated_at"], obj["state"], _dump(obj))


def _comment_item(obj: dict) -> _Item:
    updated = obj.get("updated_at") or obj["created_at"]
    return _Item(obj["id"], obj["created_at"], updated, "all", _dump(obj))


def synthetic_close_event(issue: dict) -> dict:
    """A `closed` event for a closed issue; SYNTHETIC (the corpus has no events), stable id."""
    return {
        "id": issue["id"] * 10 + 1,
        "node_id": f"CE_synthetic_{issue['id']}",
        "url": issue["url"].replace("/issues/", "/issues/events/", 1) + "-closed",
        "actor": issue.get("closed_by"),
        "event": "closed",
        "commit_id": None,
        "commit_url": None,
        "created_at": issue["closed_at"],
        "issue": {"id": issue["id"], "number": issue["number"], "url": issue["url"]},
    }


def _event_item(obj: dict) -> _Item:
    return _Item(obj["id"], obj["created_at"], obj["created_at"], "all", _dump(obj))


@dataclass
class _Repository:
    full_name: str
    metadata: bytes
    issues: _Collection
    comments: _Collection
    events: _Collection


def _repository_object(full_name: str, base_url: str, index: int) -> dict:
    owner, name = full_name.split("/")
    return {
        "id": 1_000_000 + index,  # synthetic, stable for a given corpus folder listing
        "node_id": f"R_synthetic_{index}",
        "name": name,
        "full_name": full_name,
        "private": False,
        "owner": {"login": owner, "id": 2_000_000 + index, "type": "Organization"},
        "html_url": f"https://github.com/{full_name}",
        "url": f"{base_url}/repos/{full_name}",
        "has_issues": True,
    }


COPY_ID_OFFSET = 10_000_000_000  # ids of a copy's items: the folder's ids + k times this


def _shifted(obj: dict, offset: int) -> dict:
    """An item of a copied folder: its own id, so that copies do not overwrite each other."""
    if offset:
        obj["id"] += offset
        for label in obj.get("labels") or []:
            label["id"] += offset  # label ids are a repository's own, too
    return obj


def load_repository(
    folder: Path, full_name: str, index: int, base_url: str, id_offset: int = 0
) -> _Repository:
    """Read one corpus folder and serialize every object once (ids shifted by id_offset)."""
    issues, events = [], []
    for obj in iter_issues(folder):
        issues.append(_issue_item(_shifted(obj, id_offset)))
        if obj.get("closed_at"):
            events.append(_event_item(synthetic_close_event(obj)))
    comments = [_comment_item(_shifted(obj, id_offset)) for obj in iter_comments(folder)]
    metadata = _dump(_repository_object(full_name, base_url, index))
    return _Repository(
        full_name, metadata, _Collection(issues), _Collection(comments), _Collection(events)
    )


# --- repository search ----------------------------------------------------------------------

SEARCH_MAX_RESULTS = 1000  # GitHub's search API lists no further
_STARS = re.compile(r"^(>=|<=|>|<)?(\d+)(?:\.\.(\d+))?$")


def _catalog_entry(entry: dict, index: int) -> dict:
    """A search result as GitHub shapes it, from a catalog entry (full_name and what is known:
    stars, topics, language, created_at, description)."""
    full_name = entry["full_name"]
    owner, name = full_name.split("/")
    return {
        "id": entry.get("id", 3_000_000 + index),
        "name": name,
        "full_name": full_name,
        "owner": {"login": owner, "id": 4_000_000 + index, "type": "Organization"},
        "private": False,
        "html_url": f"https://github.com/{full_name}",
        "description": entry.get("description"),
        "url": f"https://api.github.com/repos/{full_name}",
        "created_at": entry.get("created_at", "2015-01-01T00:00:00Z"),
        "updated_at": entry.get("updated_at", entry.get("created_at", "2015-01-01T00:00:00Z")),
        "stargazers_count": int(entry.get("stars", 0)),
        "watchers_count": int(entry.get("stars", 0)),
        "forks_count": int(entry.get("forks", 0)),
        "language": entry.get("language"),
        "topics": list(entry.get("topics", [])),
        "archived": bool(entry.get("archived", False)),
        "has_issues": True,
        "score": 1.0,
    }


def _stars_match(rule: str, stars: int) -> bool:
    match = _STARS.match(rule)
    if match is None:
        raise ValueError(f"stars:{rule} is not a star count")
    op, low, high = match.group(1), int(match.group(2)), match.group(3)
    if high is not None:
        return low <= stars <= int(high)
    return {None: stars == low, ">": stars > low, ">=": stars >= low, "<": stars < low,
            "<=": stars <= low}[op]  # fmt: skip


class Catalog:
    """The repositories /search/repositories searches: `topic:`, `stars:` (N, >N, >=N, <N,
    N..M), `language:`, `user:`/`org:` and free words (in the name or description), all of
    them required; sorted by stars (sort=stars) or as listed ("best match")."""

    def __init__(self, entries: Iterable[dict]) -> None:
        self.entries = [_catalog_entry(e, i) for i, e in enumerate(entries)]

    def search(self, q: str, sort: str | None, order: str) -> list[dict]:
        terms = q.split()
        if not terms:
            raise ValueError("q is missing")
        found = [e for e in self.entries if all(self._matches(e, term) for term in terms)]
        if sort == "stars":
            found.sort(key=lambda e: (e["stargazers_count"], e["id"]), reverse=order != "asc")
        elif sort not in (None, "", "best-match"):
            raise ValueError(f"sort={sort} is not supported by the stand-in")
        return found

    @staticmethod
    def _matches(entry: dict, term: str) -> bool:
        key, sep, value = term.partition(":")
        if not sep:
            text = f"{entry['full_name']} {entry.get('description') or ''}".lower()
            return term.lower() in text
        value = value.lower()
        if key == "topic":
            return value in (t.lower() for t in entry["topics"])
        if key == "stars":
            return _stars_match(value, entry["stargazers_count"])
        if key == "language":
            return (entry["language"] or "").lower() == value
        if key in ("user", "org"):
            return entry["owner"]["login"].lower() == value
        raise ValueError(f"the qualifier {key}: is not supported by the stand-in")


# --- rate limits and faults -----------------------------------------------------------------


@dataclass
class _Budget:
    limit: int
    remaining: int
    reset_at: float

    def refresh(self, now: float, window: float) -> None:
        if now >= self.reset_at:
            self.remaining = self.limit
            self.reset_at = now + window


@dataclass
class Fault:
    """Answer `times` requests whose path contains `match` with a fault, after `skip` of them.

    kind: "404" (as for a repository deleted mid-crawl), "500"/"502"/"503" (server error),
    "secondary" (403 secondary limit, no Retry-After),
    "secondary-retry-after" (403 with Retry-After: retry_after), "429" (with Retry-After),
    "primary" (403 with X-RateLimit-Remaining: 0, reset in reset_in seconds), "drop" (close
    the connection without answering). Hostile 200 answers: "endless" (a JSON list that never
    ends), "trickle" (the real body, one byte every `interval` seconds), "truncated" (half the
    real body, then the connection closes), "malformed" (half the real body, as if complete).
    An endless or trickling answer stops after `seconds` (an endless one also after `size`
    bytes), or when the client hangs up.
    """

    kind: str
    times: int = 1
    match: str = ""
    skip: int = 0
    retry_after: int = 1
    reset_in: float = 1.0
    interval: float = 0.05
    seconds: float = 30.0
    size: int = 2**30

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; choose one of {', '.join(FAULT_KINDS)}")


@dataclass
class Edit:
    """Once `after` pages of `endpoint` ("issues" or "comments") have been answered, edit the
    item served `served`-th (0: the first; clamped to what has been served): its updated_at
    becomes the current time, as when someone comments on or relabels it during a crawl."""

    endpoint: str
    after: int
    served: int = 0
    done: bool = False

    def __post_init__(self) -> None:
        if self.endpoint not in ("issues", "comments"):
            raise ValueError(f"only issues and comments are edited, not {self.endpoint!r}")


@dataclass
class Stats:
    """What the stand-in answered, for tests and the benchmark."""

    requests: int = 0  # every HTTP request received
    counted: int = 0  # requests that consumed rate-limit budget
    not_modified: int = 0
    faults: int = 0
    paths: list[str] = field(default_factory=list)
    tokens: list[str | None] = field(default_factory=list)  # the token each request carried
    pages: dict[str, int] = field(default_factory=dict)  # listing pages answered, per endpoint
    # the most requests of one token being answered at the same moment, per token
    peak_in_flight: dict[str | None, int] = field(default_factory=dict)


@dataclass
class Settings:
    """How the stand-in behaves; every field can be changed while it runs."""

    tokens: frozenset[str] | None = None  # None: any token is valid
    budget: int = 5000
    anonymous_budget: int = 60
    reset_seconds: float = 3600.0
    max_page: int | None = None  # pages past this are refused with 422, like GitHub's deep pages
    prefix: str = ""  # e.g. "/api/v3", to stand in for a GitHub Enterprise server
    delay: float = 0.0  # seconds added to every response
    link_url: str | None = None  # Link URLs on this base instead of ours (a hostile server)
    renames: dict[str, str] = field(default_factory=dict)  # old full name -> canonical
    search_budget: int = 30  # search requests per token per search window, as on GitHub
    search_reset_seconds: float = 60.0


# --- the server ------------------------------------------------------------------------------


class FakeGitHub:
    """The stand-in: load a corpus directory, then serve it on 127.0.0.1 from a thread.

    As a context manager it starts the server and yields itself; `url` is the API base URL.
    """

    def __init__(
        self,
        corpus_dir: str | Path,
        *,
        port: int = 0,
        repositories: Iterable[str] | None = None,
        copies: dict[str, str] | None = None,
        catalog: Iterable[dict] = (),
        latency: float | None = None,
        settings: Settings | None = None,
        **setting_values,
    ) -> None:
        if latency is not None:  # the name the benchmarks use for `delay`
            setting_values["delay"] = latency
        self.settings = settings or Settings(**setting_values)
        self.settings.renames = {k.lower(): v for k, v in self.settings.renames.items()}
        self.stats = Stats()
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._budgets: dict[str, _Budget] = {}
        self._edits: list[Edit] = []
        self._pages_answered: dict[str, int] = {}  # per endpoint name
        self._in_flight: dict[str | None, int] = {}  # requests being answered, per token
        self._served: dict[tuple[str, str], dict[int, None]] = {}  # ids in first-served order
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None
        self.repos = self._load(Path(corpus_dir), repositories)
        self._load_copies(Path(corpus_dir), copies or {})
        self.catalog = Catalog(catalog)

    @property
    def url(self) -> str:
        """The API base URL (with the Enterprise-style prefix, if any)."""
        return f"{self.host_url}{self.settings.prefix.rstrip('/')}"

    @property
    def host_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _load(self, root: Path, wanted: Iterable[str] | None) -> dict[str, _Repository]:
        folders = repo_dirs(root)
        wanted_lower = {w.lower() for w in wanted} if wanted is not None else None
        canonical = {old: new for old, new in self.settings.renames.items()}
        loaded = {}
        for index, (folder_name, folder) in enumerate(folders.items()):
            if wanted_lower is not None and folder_name.lower() not in wanted_lower:
                continue
            name = canonical.get(folder_name.lower(), folder_name)
            loaded[name.lower()] = load_repository(folder, name, index, self.url)
        return loaded

    def _load_copies(self, root: Path, copies: dict[str, str]) -> None:
        """Serve corpus folders again under other names (NEW/NAME -> OLD/NAME of a folder),
        each copy with ids of its own."""
        folders = {name.lower(): folder for name, folder in repo_dirs(root).items()}
        for number, (name, source) in enumerate(copies.items(), start=1):
            folder = folders.get(source.lower())
            if folder is None:
                raise ValueError(f"no corpus folder for {source!r} (copied as {name!r})")
            index = len(folders) + number
            self.repos[name.lower()] = load_repository(
                folder, name, index, self.url, id_offset=number * COPY_ID_OFFSET
            )

    def start(self) -> FakeGitHub:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        log.info("fake GitHub API serving %d repositories at %s", len(self.repos), self.url)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (for the CLI)."""
        self._server.serve_forever()

    # --- behaviour controls ----------------------------------------------------------------

    def inject(self, kind: str, times: int = 1, match: str = "", **options) -> Fault:
        """Answer the next `times` matching requests with a fault (see Fault)."""
        fault = Fault(kind, times, match, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Forget every fault not answered yet."""
        with self._lock:
            self._faults.clear()

    def exhaust(self, token: str | None = None, reset_in: float = 1.0) -> None:
        """Spend the whole budget of a token (or the anonymous one), resetting in reset_in s."""
        with self._lock:
            budget = self._budget(token or "", time.time())
            budget.remaining = 0
            budget.reset_at = time.time() + reset_in

    def put(self, full_name: str, endpoint: str, objects: Iterable[dict]) -> None:
        """Add or replace issues or comments (by id), as if they were created or edited."""
        with self._lock:
            self._merge(self.repos[full_name.lower()], endpoint, objects)

    def edit_later(self, endpoint: str, after: int, served: int = 0) -> Edit:
        """Edit an already-served item once `after` pages of `endpoint` are answered (see Edit)."""
        edit = Edit(endpoint, after, served)
        with self._lock:
            self._edits.append(edit)
        return edit

    def items(self, full_name: str, endpoint: str) -> dict[int, dict]:
        """The objects served now, by id (edits included)."""
        with self._lock:
            collection: _Collection = getattr(self.repos[full_name.lower()], endpoint)
            return {i.id: json.loads(i.body) for i in collection.orders["created"]}

    def set_metadata(self, repository: str, **fields) -> None:
        """Change fields of a repository object as served (e.g. a hostile full_name)."""
        with self._lock:
            repo = self.repos[repository.lower()]
            repo.metadata = _dump({**json.loads(repo.metadata), **fields})

    def rename(self, old: str, new: str) -> None:
        """Rename a served repository: `old` answers 301 from now on, as on GitHub."""
        with self._lock:
            repo = self.repos.pop(old.lower())
            metadata = json.loads(repo.metadata)
            metadata.update(name=new.split("/")[1], full_name=new, url=f"{self.url}/repos/{new}")
            repo.metadata, repo.full_name = _dump(metadata), new
            self.repos[new.lower()] = repo
            self.settings.renames[old.lower()] = new

    def remaining(self, token: str | None = None, resource: str = "core") -> int:
        """The budget left of a token (or the anonymous one), "core" or "search"."""
        with self._lock:
            return self._budget(token or "", time.time(), resource).remaining

    # --- used by the handler, under the lock ------------------------------------------------

    def _budget(self, token: str, now: float, resource: str = "core") -> _Budget:
        if resource == "search":  # a budget of its own, in a window of its own, as on GitHub
            key, limit = f"{token}\0search", self.settings.search_budget
            window = self.settings.search_reset_seconds
        else:
            key, window = token, self.settings.reset_seconds
            limit = self.settings.budget if token else self.settings.anonymous_budget
        budget = self._budgets.get(key)
        if budget is None:
            budget = self._budgets[key] = _Budget(limit, limit, now + window)
        budget.refresh(now, window)
        return budget

    @staticmethod
    def _merge(repo: _Repository, endpoint: str, objects: Iterable[dict]) -> None:
        make = _issue_item if endpoint == "issues" else _comment_item
        merged = {i.id: i for i in getattr(repo, endpoint).orders["created"]}
        merged.update((item.id, item) for item in map(make, objects))
        setattr(repo, endpoint, _Collection(merged.values()))

    def _apply_edits(self, repo: _Repository, endpoint: str) -> None:
        answered = self._pages_answered.get(endpoint, 0)
        due = [
            e for e in self._edits if e.endpoint == endpoint and not e.done and answered >= e.after
        ]
        served = list(self._served.get((repo.full_name.lower(), endpoint), ())) if due else []
        for edit in due:
            if not served:
                return
            item = getattr(repo, endpoint).get(served[min(edit.served, len(served) - 1)])
            obj = json.loads(item.body)
            obj["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            self._merge(repo, endpoint, [obj])
            edit.done = True

    def _record_served(self, repo: _Repository, endpoint: str, chunk: list[_Item]) -> None:
        self._pages_answered[endpoint] = self._pages_answered.get(endpoint, 0) + 1
        self.stats.pages[endpoint] = self._pages_answered[endpoint]
        served = self._served.setdefault((repo.full_name.lower(), endpoint), {})
        served.update(dict.fromkeys(i.id for i in chunk))

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.match in path and fault.times > 0:
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.times -= 1
                self.stats.faults += 1
                return fault
        return None


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _message(status: int, text: str, **extra) -> _Response:
    body = {"message": text, "documentation_url": "https://docs.github.com/rest", **extra}
    return _Response(status, _dump(body))


def _etag(body: bytes) -> str:
    return 'W/"' + hashlib.sha1(body, usedforsecurity=False).hexdigest() + '"'


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeGitHub/1.0"
    # TCP_NODELAY, as production HTTP servers set it: with Nagle's algorithm the last piece of a
    # large body waited for the client's delayed ACK, adding up to 40 ms to some answers (an
    # issues page: 9 ms on average in a crawl, 40 ms at the 90th percentile; 1 ms without).
    disable_nagle_algorithm = True

    @property
    def fake(self) -> FakeGitHub:
        return self.server.fake  # type: ignore[attr-defined]

    def log_message(self, format: str, *args) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        fake, token = self.fake, self._token()
        with fake._lock:
            fake._in_flight[token] = fake._in_flight.get(token, 0) + 1
            peak = max(fake.stats.peak_in_flight.get(token, 0), fake._in_flight[token])
            fake.stats.peak_in_flight[token] = peak
        try:
            self._get(fake, token)
        finally:
            with fake._lock:
                fake._in_flight[token] -= 1

    def _get(self, fake: FakeGitHub, token: str | None) -> None:
        if fake.settings.delay:
            time.sleep(fake.settings.delay)
        with fake._lock:
            fake.stats.requests += 1
            fake.stats.paths.append(self.path)
            fake.stats.tokens.append(token)
            fault = fake._take_fault(self.path)
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            self.connection.shutdown(2)  # the client sees the connection reset, no answer
            return
        if fault is not None and fault.kind in _HOSTILE:
            self.close_connection = True
            with contextlib.suppress(OSError):  # the client hung up, as it should
                _HOSTILE[fault.kind](self, fault)
            return
        response = self._answer(fault)
        self._send(response)

    # --- hostile answers (see Fault) ---------------------------------------------------------

    def _endless(self, fault: Fault) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.end_headers()  # no Content-Length: the body ends when the connection does
        self.wfile.write(b"[")
        chunk = b'{"id":1,"title":"again"},' * 2000
        end, sent = time.monotonic() + fault.seconds, 0
        while time.monotonic() < end and sent < fault.size:
            self.wfile.write(chunk)
            sent += len(chunk)

    def _trickle(self, fault: Fault) -> None:
        response = self._answer(None)
        self._send(response, body=False)
        end = time.monotonic() + fault.seconds
        for index in range(len(response.body)):
            if time.monotonic() >= end:
                return
            self.wfile.write(response.body[index : index + 1])
            self.wfile.flush()
            time.sleep(fault.interval)

    def _truncated(self, fault: Fault) -> None:
        response = self._answer(None)
        self._send(response, body=False)
        self.wfile.write(response.body[: len(response.body) // 2])

    def _malformed(self, fault: Fault) -> None:
        response = self._answer(None)
        response.body = response.body[: len(response.body) // 2]
        self._send(response)

    def _token(self) -> str | None:
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() in ("token", "bearer") and value else None

    def _answer(self, fault: Fault | None) -> _Response:
        fake = self.fake
        token = self._token()
        tokens = fake.settings.tokens
        if token is not None and tokens is not None and token not in tokens:
            return _message(401, "Bad credentials")
        now = time.time()
        resource = "search" if self._is_search() else "core"
        with fake._lock:
            budget = fake._budget(token or "", now, resource)
            if fault is not None and fault.kind == "primary":
                budget.remaining, budget.reset_at = 0, now + fault.reset_in
            if self._is_rate_limit():  # free, as on GitHub
                return self._rate_limit(token or "", now)
            response = self._limited(budget, fault) or self._route()
            if response.status == 200:
                budget.remaining -= 1
                fake.stats.counted += 1
            elif response.status == 304:
                fake.stats.not_modified += 1
            response.headers.update(self._rate_headers(budget, resource))
        return response

    def _is_rate_limit(self) -> bool:
        prefix = self.fake.settings.prefix.rstrip("/")
        return urlsplit(self.path).path.rstrip("/") == f"{prefix}/rate_limit"

    def _rate_limit(self, token: str, now: float) -> _Response:
        """GET /rate_limit: every budget of the token; not counted against any of them."""
        resources = {}
        for resource in ("core", "search"):
            budget = self.fake._budget(token, now, resource)
            resources[resource] = {
                "limit": budget.limit,
                "remaining": max(budget.remaining, 0),
                "used": budget.limit - max(budget.remaining, 0),
                "reset": math.ceil(budget.reset_at),
            }
        response = _Response(200, _dump({"resources": resources, "rate": resources["core"]}))
        response.headers.update(self._rate_headers(self.fake._budget(token, now)))
        return response

    def _is_search(self) -> bool:
        prefix = self.fake.settings.prefix.rstrip("/")
        return urlsplit(self.path).path.rstrip("/") == f"{prefix}/search/repositories"

    def _limited(self, budget: _Budget, fault: Fault | None) -> _Response | None:
        if budget.remaining <= 0:
            return _message(403, "API rate limit exceeded (fake GitHub)")
        if fault is None or fault.kind == "primary":
            return None
        if fault.kind == "404":
            return _message(404, "Not Found (injected)")
        if fault.kind in ("500", "502", "503"):
            return _message(int(fault.kind), "Server Error (injected)")
        if fault.kind == "429":
            response = _message(429, "Too many requests (injected)")
        else:
            response = _message(403, "You have exceeded a secondary rate limit (injected)")
        if fault.kind != "secondary":
            response.headers["Retry-After"] = str(fault.retry_after)
        return response

    @staticmethod
    def _rate_headers(budget: _Budget, resource: str = "core") -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(budget.limit),
            "X-RateLimit-Remaining": str(max(budget.remaining, 0)),
            "X-RateLimit-Used": str(budget.limit - max(budget.remaining, 0)),
            "X-RateLimit-Reset": str(math.ceil(budget.reset_at)),
            "X-RateLimit-Resource": resource,
        }

    # --- routing ----------------------------------------------------------------------------

    def _route(self) -> _Response:
        parts = urlsplit(self.path)
        prefix = self.fake.settings.prefix.rstrip("/")
        if not parts.path.startswith(f"{prefix}/"):
            return _message(404, "Not Found")
        segments = [s for s in parts.path[len(prefix) :].split("/") if s]
        if segments == ["search", "repositories"]:
            return self._search(parts.path, parse_qs(parts.query))
        if len(segments) < 3 or segments[0] != "repos":
            return _message(404, "Not Found")
        full_name = f"{segments[1]}/{segments[2]}"
        rest = segments[3:]
        canonical = self.fake.settings.renames.get(full_name.lower())
        if canonical is not None:
            return self._moved(canonical, rest, parts.query)
        repo = self.fake.repos.get(full_name.lower())
        if repo is None:
            return _message(404, "Not Found")
        if not rest:
            return self._conditional(repo.metadata, {})
        endpoint = {
            ("issues",): "issues",
            ("issues", "comments"): "comments",
            ("issues", "events"): "events",
        }.get(tuple(rest))
        if endpoint is None:
            return _message(404, "Not Found")
        self.fake._apply_edits(repo, endpoint)  # under the lock, between two answers
        return self._listing(repo, endpoint, parts.path, parse_qs(parts.query), tuple(rest))

    def _moved(self, canonical: str, rest: list[str], query: str) -> _Response:
        location = f"{self.fake.url}/repos/{canonical}" + "".join(f"/{s}" for s in rest)
        if query:
            location += f"?{query}"
        response = _message(301, "Moved Permanently", url=location)
        response.headers["Location"] = location
        return response

    def _listing(
        self, repo: _Repository, endpoint: str, path: str, query: dict, rest: tuple
    ) -> _Response:
        items: _Collection = getattr(repo, endpoint)
        arg = {k: v[-1] for k, v in query.items()}
        try:
            per_page = min(max(int(arg.get("per_page", DEFAULT_PER_PAGE)), 1), MAX_PER_PAGE)
            page = max(int(arg.get("page", 1)), 1)
        except ValueError:
            return _message(422, "Validation Failed: page and per_page must be integers")
        max_page = self.fake.settings.max_page
        if max_page is not None and page > max_page:
            return _message(
                422, "In order to keep the API fast for everyone, pagination is limited."
            )
        is_issues = rest == ("issues",)
        state = arg.get("state", "open") if is_issues else "all"
        # The repository-level comments endpoint sorts by creation, ascending, unless asked.
        sort = arg.get("sort", "created")
        direction = arg.get("direction", "desc" if is_issues else "asc")
        if rest == ("issues", "events"):
            sort, direction = "created", "desc"  # GitHub: newest first, no since
            arg.pop("since", None)
        if state not in ("open", "closed", "all") or sort not in ("created", "updated"):
            return _message(422, "Validation Failed")
        selected = items.select(sort, direction, arg.get("since"), state)
        chunk = selected[(page - 1) * per_page : page * per_page]
        self.fake._record_served(repo, endpoint, chunk)
        body = b"[" + b",".join(i.body for i in chunk) + b"]"
        last = max(math.ceil(len(selected) / per_page), 1)
        headers = {"Link": self._links(path, arg, page, last)} if last > 1 else {}
        return self._conditional(body, headers)

    def _search(self, path: str, query: dict) -> _Response:
        """GET /search/repositories: the catalog filtered by `q`, sorted, paged like GitHub
        (at most the first 1,000 results, `total_count`, `incomplete_results`)."""
        arg = {k: v[-1] for k, v in query.items()}
        try:
            per_page = min(max(int(arg.get("per_page", DEFAULT_PER_PAGE)), 1), MAX_PER_PAGE)
            page = max(int(arg.get("page", 1)), 1)
            found = self.fake.catalog.search(
                arg.get("q", ""), arg.get("sort"), arg.get("order", "desc")
            )
        except ValueError as error:
            return _message(422, f"Validation Failed: {error}")
        if (page - 1) * per_page >= SEARCH_MAX_RESULTS:
            return _message(422, "Only the first 1000 search results are available")
        reachable = found[:SEARCH_MAX_RESULTS]
        chunk = reachable[(page - 1) * per_page : page * per_page]
        body = _dump({"total_count": len(found), "incomplete_results": False, "items": chunk})
        last = max(math.ceil(len(reachable) / per_page), 1)
        headers = {"Link": self._links(path, arg, page, last)} if last > 1 else {}
        return self._conditional(body, headers)

    def _links(self, path: str, arg: dict, page: int, last: int) -> str:
        base = self.fake.settings.link_url or self.fake.host_url

        def url(number: int) -> str:
            return f"{base}{path}?{urlencode({**arg, 'page': number})}"

        links = []
        if page < last:
            links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
        if page > 1:
            links += [f'<{url(1)}>; rel="first"', f'<{url(page - 1)}>; rel="prev"']
        return ", ".join(links)

    def _conditional(self, body: bytes, headers: dict[str, str]) -> _Response:
        etag = _etag(body)
        headers["ETag"] = etag
        if etag in (self.headers.get("If-None-Match") or ""):
            return _Response(304, b"", headers)
        return _Response(200, body, headers)

    def _send(self, response: _Response, body: bool = True) -> None:
        """Status, headers and (unless body=False) the body of an answer."""
        self.send_response(response.status)
        if response.status != 304:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if response.body and body:
            self.wfile.write(response.body)


_HOSTILE = {
    "endless": _Handler._endless,
    "trickle": _Handler._trickle,
    "truncated": _Handler._truncated,
    "malformed": _Handler._malformed,
}
