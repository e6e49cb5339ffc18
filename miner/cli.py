"""`mlissues crawl` and `mlissues fake-github`: thin compositions of the miner's parts."""

from __future__ import annotations

import contextlib
import logging
import os

import click

from db.cli import db_option, open_for_cli, progress_enabled, user_errors
from miner.transport import DEFAULT_API_URL, RESUME_HINT, CrawlError, RetryPolicy

log = logging.getLogger(__name__)


def _specs(repositories: tuple[str, ...], config_path: str | None) -> list:
    from miner.config import ConfigError, load_study
    from miner.crawl import RepositorySpec

    with user_errors(CrawlError, ConfigError):
        specs = [RepositorySpec(name) for name in repositories]
        if config_path:
            specs += load_study(config_path)
    if not specs:
        raise click.UsageError("name at least one OWNER/REPO, or a study file with --config")
    return specs


def _study_metadata(config_path: str | None) -> dict[str, object]:
    from miner.config import ConfigError, load_study_metadata

    with user_errors(ConfigError):
        return load_study_metadata(config_path) if config_path else {}


def _tokens(given: tuple[str, ...]) -> list[str]:
    """--token values, else $GITHUB_TOKENS (separated by commas or spaces), else $GITHUB_TOKEN."""
    tokens = [t for t in given if t]
    tokens = tokens or os.environ.get("GITHUB_TOKENS", "").replace(",", " ").split()
    tokens = tokens or [os.environ.get("GITHUB_TOKEN", "")]
    tokens = list(dict.fromkeys(t.strip() for t in tokens if t.strip()))
    if not tokens:
        log.warning(
            "no token: anonymous requests are limited to 60 per hour; "
            "set GITHUB_TOKEN or pass --token"
        )
    return tokens


def _since(value: str | None) -> str | None:
    from miner.crawl import normalize_since

    if value is None:
        return None
    try:
        return normalize_since(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date; use YYYY-MM-DD or 2020-01-31T12:00:00Z",
            param_hint="--since",
        ) from None


def _summary(reports) -> None:
    header = (
        "repository",
        "new issues",
        "updated",
        "new comments",
        "updated",
        "requests",
        "304s",
        "seconds",
    )
    rows = [header] + [
        (
            r.name,
            r.new.get("issues", 0),
            r.updated.get("issues", 0),
            r.new.get("comments", 0),
            r.updated.get("comments", 0),
            r.requests,
            r.not_modified,
            f"{r.seconds:.1f}",
        )
        for r in reports
    ]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    for row in rows:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


@contextlib.contextmanager
def _summary_of_the_complete():
    """When some repositories of a study failed, the summary of the others before the error."""
    from miner.crawl import StudyIncomplete

    try:
        yield
    except StudyIncomplete as incomplete:
        if progress_enabled():
            _summary(incomplete.reports)
        raise


# Options that crawl and worker share, defined once.
api_url_option = click.option(
    "--api-url",
    default=DEFAULT_API_URL,
    show_default=True,
    envvar="GITHUB_API_URL",
    help="API base URL (GitHub Enterprise: https://HOST/api/v3; or the stand-in).",
)


def content_options(command):
    """--no-comments, --events and --per-page: what a crawl fetches, and in what pages."""
    command = click.option(
        "--per-page",
        type=click.IntRange(1, 100),
        default=100,
        show_default=True,
        help="Items per request (GitHub's maximum is 100).",
    )(command)
    command = click.option(
        "--events", is_flag=True, help="Also fetch issue events (close, reopen, label)."
    )(command)
    return click.option("--no-comments", is_flag=True, help="Skip the comments endpoint.")(command)


def retry_options(command):
    """--retries and --backoff: the retry policy that crawl, worker and discover share (see
    retry_policy)."""
    command = click.option(
        "--backoff",
        type=click.FloatRange(min=0),
        default=1.0,
        show_default=True,
        help="Exponential backoff factor in seconds; also scales secondary-limit waits.",
    )(command)
    return click.option(
        "--retries",
        type=click.IntRange(min=0),
        default=5,
        show_default=True,
        help="Retries of a failing request before giving up.",
    )(command)


def retry_policy(retries: int, backoff: float, **more: float) -> RetryPolicy:
    """The policy of --retries and --backoff; waits for secondary limits scale with --backoff
    (a minute at the default 1.0, GitHub's advice)."""
    return RetryPolicy(retries=retries, backoff=backoff, secondary_wait=60 * backoff, **more)


@click.command("crawl")
@click.argument("repositories", nargs=-1, metavar="[OWNER/REPO]...")
@db_option
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Study file (TOML or YAML) with groups of repositories and, optionally, a [study] "
    "table (title, creators, version, license, collection_end) for the datasheet.",
)
@click.option(
    "--token",
    "tokens",
    multiple=True,
    metavar="TOKEN",
    help="GitHub token; repeat to crawl several repositories at once, one per token. "
    "Default: $GITHUB_TOKENS (comma-separated), else $GITHUB_TOKEN.",
)
@click.option("--since", help="Start of the first crawl (YYYY-MM-DD); later runs continue.")
@api_url_option
@click.option(
    "--max-issues",
    type=click.IntRange(min=1),
    help="Stop issues after about N in this run (whole pages); the next run goes on.",
)
@content_options
@retry_options
@click.option(
    "--request-deadline",
    type=click.FloatRange(min=1),
    default=RetryPolicy.deadline,
    show_default=True,
    help="Seconds one answer may take in all, however slowly it arrives.",
)
@click.option(
    "--max-response-mb",
    type=click.FloatRange(min=1),
    default=RetryPolicy.max_body / 2**20,
    show_default=True,
    help="Largest answer accepted, in MB (GitHub's pages are under 1 MB).",
)
@click.option(
    "--enqueue",
    is_flag=True,
    help="Record the repositories as jobs for `mlissues worker` (a shared database) instead "
    "of crawling them now.",
)
def crawl(
    repositories: tuple[str, ...],
    enqueue: bool,
    db_url: str,
    config_path: str | None,
    tokens: tuple[str, ...],
    since: str | None,
    api_url: str,
    max_issues: int | None,
    no_comments: bool,
    events: bool,
    per_page: int,
    retries: int,
    backoff: float,
    request_deadline: float,
    max_response_mb: float,
) -> None:
    """Fetch issues, comments and events of GitHub repositories into the database."""
    from miner.crawl import CrawlOptions, crawl_all
    from miner.parallel import crawl_parallel
    from miner.store import save_study_metadata
    from miner.transport import GitHubClient

    specs = _specs(repositories, config_path)
    if enqueue:
        _enqueue(db_url, specs)
        return
    study = _study_metadata(config_path)
    if "://" not in api_url:
        raise click.BadParameter(f"{api_url!r} is not a URL", param_hint="--api-url")
    options = CrawlOptions(
        since=_since(since),
        max_issues=max_issues,
        comments=not no_comments,
        events=events,
        per_page=per_page,
        progress=progress_enabled(),
    )
    policy = retry_policy(
        retries, backoff, deadline=request_deadline, max_body=int(max_response_mb * 2**20)
    )
    engine = open_for_cli(db_url, create=True)
    with engine.begin() as connection:
        save_study_metadata(connection, study)
    chosen = _tokens(tokens)
    try:
        with user_errors(CrawlError), _summary_of_the_complete():
            if len(chosen) > 1 and len(specs) > 1:  # one listing at a time per token
                reports = crawl_parallel(engine, api_url, chosen, specs, options, policy)
            else:  # one repository, or one token: in turn, tokens rotating by quota
                client = GitHubClient(api_url, chosen, policy)
                try:
                    reports = crawl_all(engine, client, specs, options)
                finally:
                    client.close()
    except KeyboardInterrupt:
        # Every page is committed with its cursor, so stopping here loses nothing.
        click.echo(f"Interrupted: {RESUME_HINT}", err=True)
        raise SystemExit(130) from None  # 128 + SIGINT, as shells report Ctrl-C
    if progress_enabled():
        _summary(reports)


@click.command("discover")
@click.option(
    "--group",
    "groups",
    nargs=2,
    multiple=True,
    required=True,
    metavar="NAME QUERY",
    help='A study group and its GitHub search, e.g. --group ml "topic:deep-learning '
    'stars:>5000" (repeatable).',
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default="study.toml",
    show_default=True,
    help="Study file to write (TOML), for mlissues crawl --config.",
)
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=1000,
    show_default=True,
    help="At most N repositories per query, most stars first (GitHub lists 1,000).",
)
@click.option("--token", help="GitHub token. Default: $GITHUB_TOKEN (first of $GITHUB_TOKENS).")
@api_url_option
@retry_options
def discover(
    groups: tuple[tuple[str, str], ...],
    output: str,
    limit: int,
    token: str | None,
    api_url: str,
    retries: int,
    backoff: float,
) -> None:
    """Search GitHub for repositories and write a study file of groups to crawl."""
    from pathlib import Path

    from miner.discover import DiscoveryError, discover, github_client, study_toml

    if "://" not in api_url:
        raise click.BadParameter(f"{api_url!r} is not a URL", param_hint="--api-url")
    chosen = _tokens((token,) if token else ())
    policy = retry_policy(retries, backoff)
    github = github_client(api_url, chosen[0] if chosen else None, policy)
    try:
        with user_errors(DiscoveryError):
            found = discover(github, list(groups), limit)
    finally:
        github.close()
    try:
        Path(output).write_text(study_toml(found, list(groups), api_url), encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"cannot write {output}: {error.strerror}") from None
    counts = ", ".join(f"{g}: {sum(f.group == g for f in found)}" for g in dict(groups))
    click.echo(f"wrote {output}: {len(found)} repositories ({counts})")


def _enqueue(db_url: str, specs: list) -> None:
    from db import jobs

    engine = open_for_cli(db_url, create=True)
    with user_errors():
        added = jobs.enqueue(engine, [(spec.name, spec.group) for spec in specs])
    click.echo(
        f"queued {added} repositories ({len(specs) - added} were queued, running or done); "
        "start workers with: mlissues worker --db ... --token ..."
    )


@click.command("worker")
@db_option
@click.option(
    "--token",
    "tokens",
    multiple=True,
    metavar="TOKEN",
    help="GitHub token; repeat to rotate several. Default: $GITHUB_TOKEN.",
)
@api_url_option
@content_options
@retry_options
@click.option(
    "--lease",
    type=click.FloatRange(min=1),
    default=300,
    show_default=True,
    help="Seconds a claimed job stays this worker's without a heartbeat.",
)
@click.option(
    "--heartbeat",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Seconds between heartbeats. Default: a third of --lease.",
)
@click.option(
    "--poll",
    type=click.FloatRange(min=0.1),
    default=5,
    show_default=True,
    help="Seconds between looks at the queue while other workers' jobs run.",
)
def worker(
    db_url: str,
    tokens: tuple[str, ...],
    api_url: str,
    no_comments: bool,
    events: bool,
    per_page: int,
    retries: int,
    backoff: float,
    lease: float,
    heartbeat: float | None,
    poll: float,
) -> None:
    """Claim crawl jobs (crawl --enqueue) from a shared database and crawl them until none left."""
    from miner.crawl import CrawlOptions
    from miner.transport import GitHubClient
    from miner.worker import WorkerOptions, run_worker

    if "://" not in api_url:
        raise click.BadParameter(f"{api_url!r} is not a URL", param_hint="--api-url")
    engine = open_for_cli(db_url, create=True)
    options = CrawlOptions(comments=not no_comments, events=events, per_page=per_page)
    schedule = WorkerOptions(lease=lease, heartbeat=heartbeat or lease / 3, poll=poll)
    client = GitHubClient(api_url, _tokens(tokens), retry_policy(retries, backoff))
    try:
        with user_errors(CrawlError):
            counts = run_worker(engine, client, options, schedule)
    except KeyboardInterrupt:
        click.echo(f"Interrupted: {RESUME_HINT} (another worker takes the job over once its "
                   "lease passes)", err=True)  # fmt: skip
        raise SystemExit(130) from None
    finally:
        client.close()
    click.echo(f"no jobs left: {counts['done']} done, {counts['failed']} failed here")


def _parse_renames(values: tuple[str, ...], option: str = "--rename") -> dict[str, str]:
    """LEFT=RIGHT pairs of repository names, as {LEFT: RIGHT}."""
    renames = {}
    for value in values:
        left, sep, right = value.partition("=")
        if not sep or "/" not in left or "/" not in right:
            raise click.BadParameter(f"{value!r}: write OWNER/NAME=OWNER/NAME", param_hint=option)
        renames[left.strip()] = right.strip()
    return renames


def _parse_fault(value: str):
    from miner.fake_github import Fault

    kind, _, rest = value.partition(":")
    times, _, match = rest.partition(":")
    try:
        return Fault(kind, int(times or 1), match)
    except ValueError as error:
        raise click.BadParameter(f"{value!r}: {error}", param_hint="--fault") from None


@click.command("fake-github")
@click.argument("corpus_dir", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port on 127.0.0.1 (0: a free one).",
)
@click.option(
    "--rename",
    "renames",
    multiple=True,
    metavar="OLD=NEW",
    help="Serve folder OLD as NEW and answer 301 for OLD (repeatable).",
)
@click.option(
    "--token",
    "tokens",
    multiple=True,
    help="Valid tokens (repeatable); others get 401. Default: any token.",
)
@click.option(
    "--budget", type=int, default=5000, show_default=True, help="Requests per token per window."
)
@click.option("--anonymous-budget", type=int, default=60, show_default=True)
@click.option(
    "--reset-seconds",
    type=float,
    default=3600,
    show_default=True,
    help="Length of the rate-limit window.",
)
@click.option("--max-page", type=int, help="Refuse pages past this with 422 (deep pages).")
@click.option(
    "--delay",
    "--latency",
    "delay",
    type=float,
    default=0.0,
    help="Seconds added to every response (network latency, for benchmarks).",
)
@click.option(
    "--copy",
    "copies",
    multiple=True,
    metavar="NEW=OLD",
    help="Serve corpus folder OLD again as NEW, with ids of its own (repeatable).",
)
@click.option("--prefix", default="", help="Path before /repos, e.g. /api/v3 (GitHub Enterprise).")
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="KIND[:TIMES[:PATH-PART]]",
    help="Inject a fault: 404, 500, 502, 503, secondary, secondary-retry-after, 429, primary, "
    "drop, endless, trickle, truncated, malformed.",
)
def fake_github(
    corpus_dir: str,
    port: int,
    renames: tuple[str, ...],
    tokens: tuple[str, ...],
    budget: int,
    anonymous_budget: int,
    reset_seconds: float,
    max_page: int | None,
    delay: float,
    copies: tuple[str, ...],
    faults: tuple[str, ...],
    prefix: str,
) -> None:
    """Serve a corpus directory as a local stand-in of the GitHub REST API."""
    from miner.fake_github import FakeGitHub

    server = FakeGitHub(
        corpus_dir,
        port=port,
        renames=_parse_renames(renames),
        copies=_parse_renames(copies, "--copy"),  # NEW -> OLD
        tokens=frozenset(tokens) if tokens else None,
        budget=budget,
        anonymous_budget=anonymous_budget,
        reset_seconds=reset_seconds,
        max_page=max_page,
        delay=delay,
        prefix=prefix,
    )
    for fault in faults:
        parsed = _parse_fault(fault)
        server.inject(parsed.kind, parsed.times, parsed.match)
    # The URL alone on the first line, so scripts can read where to point --api-url.
    click.echo(server.url)
    log.info("serving %s (%s); Ctrl-C stops", corpus_dir, ", ".join(sorted(server.repos)))
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
