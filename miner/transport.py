"""Talking to the GitHub REST API: one session, retries, rate limits and tokens, in one place.

Connection errors and 5xx are retried by urllib3 with exponential backoff, and so are answers
whose body breaks off or does not decode; rate limits are read from `X-RateLimit-*` after every
response: when every token is spent the client sleeps until the earliest reset (and says when it
will resume); 403/429 secondary limits honour `Retry-After`, or back off exponentially without
it. Every answer is bounded: its body is read in pieces, at most `max_body` bytes and within
`deadline` seconds, so a server that streams forever or trickles a byte at a time cannot hold
the crawl. The token goes only to the API URL's origin (scheme, host and port), never to a
`Link` that points elsewhere. Callers see 200/304 answers or one of the typed errors below,
whose messages never contain a token.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from mlissues import __version__

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_API_URL = "https://api.github.com"
RESUME_HINT = "pages already stored are kept; run the same command again to resume"
_CHUNK = 64 * 1024
ANONYMOUS_MAX_WAIT = 120.0  # seconds: longer, and an anonymous crawl stops and asks for a token


class CrawlError(Exception):
    """The crawl cannot go on; the message says why and what to do.

    `stops_study`: whether the error concerns every repository of a study (a token, the API
    server) rather than the one being crawled; the other repositories of a study go on only
    past errors that do not.
    """

    stops_study = False


def without_resume_hint(message: str) -> str:
    """An error's message without its resume hint, for a list that ends with one hint."""
    return message.split(f"; {RESUME_HINT}")[0]


class BadCredentials(CrawlError):
    stops_study = True


class RepositoryNotFound(CrawlError):
    pass


class InvalidRepositoryName(CrawlError):
    pass


class RetriesExhausted(CrawlError):
    pass


class ApiUnreachable(CrawlError):
    stops_study = True


class RateLimited(CrawlError):
    """Every token is spent and the reset is further away than the caller wants to wait."""

    stops_study = True

    def __init__(self, message: str, seconds_to_reset: float) -> None:
        super().__init__(message)
        self.seconds_to_reset = seconds_to_reset


class AnswerTooLarge(CrawlError):
    """An answer's body passed RetryPolicy.max_body."""


class AnswerTooSlow(CrawlError):
    """An answer's body did not arrive within RetryPolicy.deadline."""


class DeepPageRefused(CrawlError):
    """GitHub refuses pages past a depth (422); keyset paging only pages deep through items
    that share one updated_at, and stops there with a clear error."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. The defaults follow GitHub's guidance; tests shrink the waits."""

    retries: int = 5
    backoff: float = 1.0  # urllib3 backoff_factor for 5xx and connection errors
    backoff_max: float = 120.0
    secondary_wait: float = 60.0  # GitHub: wait at least a minute when no Retry-After
    max_rate_wait: float | None = None  # None: sleep as long as a primary reset needs
    timeout: float = 60.0  # the longest silence while connecting or reading
    deadline: float = 120.0  # one whole answer, however slowly it trickles in
    max_body: int = 50 * 2**20  # bytes of one answer, decompressed; GitHub's pages are < 1 MB


@dataclass
class _Token:
    """A token and what GitHub last said about its quota. `value` stays out of repr."""

    value: str | None = field(repr=False)
    label: str
    remaining: int | None = None
    limit: int | None = None
    reset_at: float = 0.0

    def spent(self, now: float) -> bool:
        return self.remaining is not None and self.remaining <= 0 and now < self.reset_at


@dataclass
class Counters:
    requests: int = 0  # HTTP requests sent, retries included
    not_modified: int = 0
    seconds: float = 0.0  # spent waiting for answers (from sending to the body's last byte)


@dataclass(frozen=True)
class Answer:
    """A 200 or 304 answer whose body was read within the policy's bounds."""

    status_code: int
    headers: Mapping[str, str]
    url: str
    content: bytes = b""

    @property
    def text(self) -> str:
        """The body as text, for messages (invalid UTF-8 replaced)."""
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class _BrokenBody(Exception):
    """The body broke off mid-transfer (or fell silent): asked again, like a 5xx."""


class _Retry(Retry):
    """urllib3's retry, minus 429: rate limits go through GitHubClient's handler (one place)."""

    RETRY_AFTER_STATUS_CODES = frozenset({503})


def _session(policy: RetryPolicy) -> requests.Session:
    retry = _Retry(
        total=policy.retries,
        connect=policy.retries,
        read=policy.retries,
        status=policy.retries,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        backoff_factor=policy.backoff,
        backoff_max=policy.backoff_max,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=4)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update(
        {
            "User-Agent": f"mlissues/{__version__} (research crawler)",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
    )
    return session


def _clock(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%H:%M:%S UTC")


class GitHubClient:
    """GET requests against one API base URL, rotating tokens by remaining quota."""

    def __init__(
        self,
        api_url: str = DEFAULT_API_URL,
        tokens: Sequence[str] = (),
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.counters = Counters()
        self._sleep = sleep
        self._session = _session(self.policy)
        unique = list(dict.fromkeys(t for t in tokens if t))
        self._tokens = [_Token(t, f"token #{i + 1}") for i, t in enumerate(unique)] or [
            _Token(None, "anonymous")
        ]

    @property
    def anonymous(self) -> bool:
        return self._tokens[0].value is None

    @property
    def remaining(self) -> int | None:
        """The quota left over all tokens, as last reported (None before the first answer)."""
        known = [t.remaining for t in self._tokens if t.remaining is not None]
        return sum(known) if known else None

    @property
    def spent(self) -> bool:
        """Whether every token's quota is spent until a reset still to come."""
        now = time.time()
        return all(t.spent(now) for t in self._tokens)

    def check_quota(self) -> None:
        """Ask GET /rate_limit for each token's quota (free: GitHub does not count it), so a
        token spent elsewhere is known before work is handed to it. Quietly does nothing where
        the server has no rate limits (GitHub Enterprise answers 404)."""
        for token in self._tokens:
            try:
                answer = self._send(self.url("rate_limit"), token, None)
                core = answer.json()["resources"]["core"] if answer.status_code == 200 else None
            except (CrawlError, ValueError, KeyError, TypeError) as error:
                log.debug("no rate limit for %s: %s", token.label, type(error).__name__)
                continue
            if core is not None:
                self._note_quota(
                    token,
                    {"X-RateLimit-Remaining": str(core["remaining"]),
                     "X-RateLimit-Limit": str(core["limit"]),
                     "X-RateLimit-Reset": str(core["reset"])},
                    answer.url,
                )  # fmt: skip

    def url(self, path: str) -> str:
        return f"{self.api_url}/{path.lstrip('/')}"

    def close(self) -> None:
        self._session.close()

    # --- tokens and the primary rate limit ----------------------------------------------------

    def _pick_token(self) -> _Token:
        """The token with the most quota left; sleeps until a reset when all are spent."""
        while True:
            now = time.time()
            usable = [t for t in self._tokens if not t.spent(now)]
            if usable:
                return max(usable, key=lambda t: t.remaining if t.remaining is not None else 1e9)
            self._wait_for_reset(min(t.reset_at for t in self._tokens), now)

    def _wait_for_reset(self, reset_at: float, now: float) -> None:
        wait = max(reset_at - now, 0) + 1
        if self.anonymous and wait > ANONYMOUS_MAX_WAIT:
            # Without a token the quota is 60 requests an hour: a long sleep is a surprise
            # (49 minutes against the stand-in); a token is the fix.
            raise RateLimited(
                f"the anonymous rate limit (60 requests an hour) is spent until "
                f"{_clock(reset_at)}; set GITHUB_TOKEN or pass --token (the stand-in takes any "
                f"token); {RESUME_HINT}",
                seconds_to_reset=wait,
            )
        if self.policy.max_rate_wait is not None and wait > self.policy.max_rate_wait:
            raise RateLimited(
                f"GitHub's rate limit is spent until {_clock(reset_at)}; "
                f"{RESUME_HINT} after that, or add another --token",
                seconds_to_reset=wait,
            )
        log.warning(
            "rate limit spent (%s); resuming at %s (in %.0f s)",
            ", ".join(t.label for t in self._tokens),
            _clock(now + wait),
            wait,
        )
        self._sleep(wait)

    def _note_quota(self, token: _Token, headers: Mapping[str, str], url: str) -> None:
        if "X-RateLimit-Remaining" not in headers:
            return
        try:
            token.remaining = int(headers["X-RateLimit-Remaining"])
            token.limit = int(headers.get("X-RateLimit-Limit", token.limit or 0))
            token.reset_at = float(headers.get("X-RateLimit-Reset", token.reset_at))
        except ValueError:
            log.debug("unreadable rate-limit headers from %s", _path(url))

    # --- requests -----------------------------------------------------------------------------

    def get(self, url: str, etag: str | None = None) -> Answer:
        """A 200 or 304 answer for `url` (absolute, or a path under the API URL)."""
        if "://" not in url:
            url = self.url(url)
        for attempt in itertools.count():
            try:
                return self._answered(url, etag)
            except _BrokenBody as error:
                self._again(attempt, f"the answer to {_path(url)} broke off ({error})")
        raise AssertionError("unreachable")  # itertools.count() never ends

    def get_json(
        self, url: str, etag: str | None = None, decode: Callable[[str], T] = json.loads
    ) -> tuple[Answer, T | None]:
        """A 200 answer and its UTF-8 body decoded by `decode` (None for a 304). A body that
        does not decode (ValueError) is asked for again, like a 5xx, up to `retries` times."""
        if "://" not in url:
            url = self.url(url)
        for attempt in itertools.count():
            answer = self.get(url, etag)
            if answer.status_code == 304:
                return answer, None
            try:
                return answer, decode(answer.content.decode("utf-8"))
            except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
                self._again(attempt, f"the answer to {_path(url)} is not valid JSON ({error})")
        raise AssertionError("unreachable")

    def _again(self, attempt: int, problem: str) -> None:
        """Back off before asking again, or raise once `retries` attempts are spent."""
        if attempt >= self.policy.retries:
            raise RetriesExhausted(f"{problem}, {attempt + 1} times; {RESUME_HINT}")
        wait = min(self.policy.backoff * 2**attempt, self.policy.backoff_max)
        log.warning("%s; asking again in %.1f s", problem, wait)
        self._sleep(wait)

    def _answered(self, url: str, etag: str | None) -> Answer:
        throttled = 0
        while True:
            token = self._pick_token()
            answer = self._send(url, token, etag)
            if answer.status_code in (200, 304):
                self.counters.not_modified += answer.status_code == 304
                return answer
            throttled = self._handle_refusal(answer, token, throttled)

    def _credentials_for(self, url: str) -> bool:
        """Whether `url` is on the API URL's origin, the only place a token may go."""
        return _origin(url) == _origin(self.api_url)

    def _send(self, url: str, token: _Token, etag: str | None) -> Answer:
        headers = {}
        if token.value and self._credentials_for(url):
            headers["Authorization"] = f"Bearer {token.value}"
        if etag:
            headers["If-None-Match"] = etag
        started = time.monotonic()
        try:
            response = self._session.get(
                url, headers=headers, timeout=self.policy.timeout, stream=True
            )
        except requests.ConnectionError as error:
            self.counters.requests += self.policy.retries + 1
            raise ApiUnreachable(
                f"cannot reach {self.api_url} ({_reason(error)}) after "
                f"{self.policy.retries} retries; check --api-url and the network; {RESUME_HINT}"
            ) from None
        except requests.Timeout:
            raise RetriesExhausted(
                f"{self.api_url} did not answer within {self.policy.timeout:.0f} s; {RESUME_HINT}"
            ) from None
        except requests.RequestException as error:
            raise RetriesExhausted(
                f"the answer from {self.api_url} broke off ({type(error).__name__}); {RESUME_HINT}"
            ) from None
        with response:
            retries = response.raw.retries if response.raw is not None else None
            self.counters.requests += 1 + (len(retries.history) if retries is not None else 0)
            self._note_quota(token, response.headers, url)
            content = self._read_body(response, url, started + self.policy.deadline)
        self.counters.seconds += time.monotonic() - started
        return Answer(response.status_code, response.headers, response.url, content)

    def _read_body(self, response: requests.Response, url: str, deadline: float) -> bytes:
        """The body, read as it arrives so that its size and the time it takes stay bounded."""
        cap = self.policy.max_body
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise self._too_large(url)
        chunks, size = [], 0
        try:
            # read1 returns what one read of the socket brings, so the deadline is checked
            # however slowly the bytes come; each read still waits at most `timeout`.
            while chunk := response.raw.read1(_CHUNK, decode_content=True):
                size += len(chunk)
                if size > cap:
                    raise self._too_large(url)
                if time.monotonic() > deadline:
                    raise AnswerTooSlow(
                        f"the answer to {_path(url)} took longer than "
                        f"{self.policy.deadline:.0f} s (--request-deadline); {RESUME_HINT}"
                    )
                chunks.append(chunk)
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise _BrokenBody(type(error).__name__) from None
        return b"".join(chunks)

    def _too_large(self, url: str) -> AnswerTooLarge:
        return AnswerTooLarge(
            f"the answer to {_path(url)} is larger than {self.policy.max_body / 2**20:.0f} MB "
            f"(--max-response-mb); {RESUME_HINT}"
        )

    def _handle_refusal(self, response: Answer, token: _Token, throttled: int) -> int:
        """Raise the typed error for a refused request, or wait; returns the throttle count."""
        status = response.status_code
        if status == 401:
            raise BadCredentials(
                f"GitHub rejected {token.label} (401 Bad credentials); "
                "check GITHUB_TOKEN or --token (a classic or fine-grained token with public "
                f"read); {RESUME_HINT} with a good token"
            )
        if status == 404:
            raise RepositoryNotFound(
                f"not found: {_path(response.url)} (404); the repository may have been deleted, "
                f"renamed or made private; {RESUME_HINT} once it is back"
            )
        if status == 422:
            raise DeepPageRefused(f"page refused (422): {_path(response.url)}")
        if status in (403, 429) and _is_rate_limit(response, token):
            if token.spent(time.time()):
                return throttled  # primary limit: the next _pick_token rotates or sleeps
            if throttled >= self.policy.retries:
                raise RetriesExhausted(
                    f"still rate-limited after {throttled} waits on {_path(response.url)}; "
                    f"{RESUME_HINT} later"
                )
            self._sleep(self._secondary_wait(response, throttled))
            return throttled + 1
        if status >= 500:
            raise RetriesExhausted(
                f"{self.api_url} kept failing (HTTP {status} on {_path(response.url)}) after "
                f"{self.policy.retries} retries; {RESUME_HINT}"
            )
        raise CrawlError(f"unexpected HTTP {status} on {_path(response.url)}: {_message(response)}")

    def _secondary_wait(self, response: Answer, throttled: int) -> float:
        retry_after = response.headers.get("Retry-After")
        if retry_after and retry_after.isdigit():
            wait = float(retry_after)
        else:
            wait = min(self.policy.secondary_wait * 2**throttled, self.policy.backoff_max)
        log.warning(
            "secondary rate limit (HTTP %s); waiting %.0f s, resuming at %s",
            response.status_code,
            wait,
            _clock(time.time() + wait),
        )
        return wait


def _is_rate_limit(response: Answer, token: _Token) -> bool:
    if response.status_code == 429 or "Retry-After" in response.headers:
        return True
    if response.headers.get("X-RateLimit-Remaining") == "0":
        return True
    return "rate limit" in _message(response).lower()


def _message(response: Answer) -> str:
    try:
        text = str(response.json().get("message", ""))
    except (ValueError, AttributeError, RecursionError):
        text = response.text
    return " ".join(text.split())[:200]  # a server's text, on the user's one error line


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:  # not a port number: matches no origin
        port = -1
    return scheme, parts.hostname, port


def _path(url: str) -> str:
    """The URL without scheme and host, for messages (never carries a token: tokens are headers)."""
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1] if "://" in url else url


def _reason(error: Exception) -> str:
    text = str(error)
    for marker in ("Connection refused", "Name or service not known", "timed out", "reset"):
        if marker.lower() in text.lower():
            return marker.lower()
    return "connection failed"
