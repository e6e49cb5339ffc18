"""Discovery: turn GitHub repository searches into a study file that `mlissues crawl` reads.

Searching goes through PyGithub (`Github.search_repositories`), with the crawler's limits:
its retry counts and backoff, its secondary-limit wait, and primary limits waited out until
`X-RateLimit-Reset` (PyGithub's `GithubRetry`); the token travels in PyGithub's `Auth.Token`,
which keeps it out of PyGithub's own logs. `search` is a generator that never writes;
`study_toml` renders what it found; the CLI only composes the two.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from miner.crawl import is_repository_name
from miner.transport import DEFAULT_API_URL, CrawlError, RetryPolicy
from mlissues import __version__

log = logging.getLogger(__name__)

SEARCH_LIMIT = 1000  # GitHub's search API lists at most the first 1,000 results of a query


class DiscoveryError(CrawlError):
    """A search failed; the message says why and what to do."""


@dataclass(frozen=True)
class Found:
    """A repository a search found, with what the datasheet records about it."""

    full_name: str
    group: str
    stars: int
    created_at: str  # ISO time, UTC
    query: str


def github_client(api_url: str, token: str | None, policy: RetryPolicy | None = None):
    """A PyGithub client held to the crawler's retry policy and rate limits."""
    from github import Auth, Github, GithubRetry

    policy = policy or RetryPolicy()
    retry = GithubRetry(
        total=policy.retries,
        backoff_factor=policy.backoff,
        backoff_max=policy.backoff_max,
        secondary_rate_wait=policy.secondary_wait,
        max_rate_limit_wait=policy.max_rate_wait,
    )
    return Github(
        base_url=api_url.rstrip("/"),
        auth=Auth.Token(token) if token else None,
        retry=retry,
        timeout=int(policy.timeout),
        per_page=100,
        user_agent=f"mlissues/{__version__} (research crawler)",
    )


def _iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def search(github, group: str, query: str, limit: int = SEARCH_LIMIT) -> Iterator[Found]:
    """The repositories of one query, most stars first, at most `limit` of them."""
    from github import GithubException, RateLimitExceededException

    try:
        results = github.search_repositories(query, sort="stars", order="desc")
        for index, repository in enumerate(results):
            if index == 0 and results.totalCount > SEARCH_LIMIT:
                log.warning(
                    "%r matches %d repositories, but GitHub lists only the first %d (most "
                    "stars); split it by stars ranges, e.g. stars:100..500 and stars:>500",
                    query, results.totalCount, SEARCH_LIMIT,
                )  # fmt: skip
            if index >= min(limit, SEARCH_LIMIT):
                return
            if not is_repository_name(repository.full_name):
                log.warning("skipped %r: not an OWNER/REPO name", repository.full_name[:100])
                continue
            yield Found(
                repository.full_name,
                group,
                int(repository.stargazers_count),
                _iso(repository.created_at),
                query,
            )
    except RateLimitExceededException:
        raise DiscoveryError(
            f"the search rate limit is spent (query {query!r}); run discover again later"
        ) from None
    except GithubException as error:
        message = error.data.get("message") if isinstance(error.data, dict) else None
        reason = " ".join(str(message or error.status).split())[:200]
        if error.status == 401:
            reason += "; check GITHUB_TOKEN or --token"
        raise DiscoveryError(f"search {query!r} failed (HTTP {error.status}): {reason}") from None
    except OSError as error:  # requests' connection errors are OSErrors
        raise DiscoveryError(
            f"cannot search ({type(error).__name__}); check --api-url and the network"
        ) from None


def discover(github, queries: Sequence[tuple[str, str]], limit: int = SEARCH_LIMIT) -> list[Found]:
    """Every query's repositories, each repository once (in the first group that found it)."""
    seen: dict[str, Found] = {}
    for group, query in queries:
        for found in search(github, group, query, limit):
            key = found.full_name.lower()
            if key in seen:
                if seen[key].group != group:
                    log.info("%s is in group %s already; not in %s", found.full_name,
                             seen[key].group, group)  # fmt: skip
                continue
            seen[key] = found
    return list(seen.values())


def _string(value: str) -> str:
    """A TOML basic string (JSON's escapes with ASCII output are valid TOML)."""
    return json.dumps(value, ensure_ascii=True)


def study_toml(
    found: Iterable[Found], queries: Sequence[tuple[str, str]], api_url: str = DEFAULT_API_URL
) -> str:
    """The study file: [groups] for `mlissues crawl --config`, then the queries and each
    repository's stars and creation date, for the datasheet."""
    found = list(found)
    moment = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [
        f"# Written by mlissues {__version__} discover at {moment} from {api_url}",
        "",
        "[groups]",
    ]
    groups = list(dict.fromkeys(group for group, _ in queries))
    for group in groups:
        names = [f.full_name for f in found if f.group == group]
        lines.append(f"{_string(group)} = [" + ", ".join(map(_string, names)) + "]")
    lines += ["", "[queries]"]
    for group in groups:
        asked = [query for g, query in queries if g == group]
        lines.append(f"{_string(group)} = [" + ", ".join(map(_string, asked)) + "]")
    for f in found:
        lines += [
            "",
            f"[repositories.{_string(f.full_name)}]",
            f"group = {_string(f.group)}",
            f"stars = {f.stars}",
            f"created_at = {_string(f.created_at)}",
        ]
    return "\n".join(lines) + "\n"
