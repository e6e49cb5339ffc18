"""Crawl benchmark: the full TensorFlow corpus folder through the local stand-in of the API.

Starts `mlissues fake-github` in its own process (so the server does not share the crawler's
interpreter), crawls one repository into a fresh SQLite database, then crawls it again with
nothing changed. Reports requests against the minimum ceil(issues/100) + ceil(comments/100),
wall time, items written per second (issues and comments), peak memory (max RSS), and for the
second run the requests counted against the rate limit and the 304s. Writes
reports/benchmarks/crawl.json and prints a table.

    .venv/bin/python benchmarks/crawl.py [--repo tensorflow/tensorflow] [--corpus ../shared/corpus]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.measure import aligned  # noqa: E402
from db.engine import open_database  # noqa: E402
from miner.corpus import iter_jsonl, repo_dirs  # noqa: E402
from miner.crawl import CrawlOptions, RepositorySpec, crawl_all  # noqa: E402
from miner.transport import GitHubClient  # noqa: E402


@contextlib.contextmanager
def stand_in(corpus: Path) -> Iterator[str]:
    """The stand-in in a child process; yields its URL."""
    command = [sys.executable, "-m", "mlissues", "-q", "fake-github", str(corpus),
               "--budget", "1000000"]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        if not url.startswith("http"):
            raise SystemExit("the stand-in did not start")
        yield url
    finally:
        server.terminate()
        server.wait()


def _count(folder: Path, stem: str) -> int:
    return sum(1 for _ in iter_jsonl(folder, stem))


def run_once(engine, api_url: str, repo: str, token: str) -> dict:
    """One crawl with a fresh token (so its rate budget starts full); what it cost."""
    client = GitHubClient(api_url, [token])
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    (report,) = crawl_all(engine, client, [RepositorySpec(repo)], CrawlOptions())
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    counted = (client._tokens[0].limit or 0) - (client._tokens[0].remaining or 0)
    client.close()
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),  # user + system, this process (the crawler) only
        "http_requests": client.counters.requests,
        "counted_requests": counted,
        "not_modified": client.counters.not_modified,
        "new": report.new,
        "updated": report.updated,
    }


def benchmark(corpus: Path, repo: str, db_path: Path) -> dict:
    folder = repo_dirs(corpus)[repo]
    issues, comments = _count(folder, "issues"), _count(folder, "comments")
    minimum = math.ceil(issues / 100) + math.ceil(comments / 100)
    engine = open_database(f"sqlite:///{db_path}", create=True)
    with stand_in(corpus) as url:
        first = run_once(engine, url, repo, "benchmark-first")
        second = run_once(engine, url, repo, "benchmark-second")
    engine.dispose()
    first["items_per_second"] = round((issues + comments) / first["seconds"])
    first["requests_over_minimum"] = f"{100 * (first['counted_requests'] / minimum - 1):.1f}%"
    return {
        "repository": repo,
        "issues": issues,
        "comments": comments,
        "minimum_requests": minimum,
        "first_crawl": first,
        "no_change_refresh": second,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "machine": f"{platform.machine()}, {_cpus()} CPUs, Python {platform.python_version()}",
        # Other work on the machine slows the wall-clock numbers; the load says how much.
        "load_average_1min_after": round(os.getloadavg()[0], 2),
        "database": "SQLite (fresh file)",
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


def table(result: dict) -> str:
    first, second = result["first_crawl"], result["no_change_refresh"]
    rows = [
        ("repository", result["repository"]),
        ("issues + comments", f"{result['issues']:,} + {result['comments']:,}"),
        ("minimum requests", result["minimum_requests"]),
        ("first crawl: counted requests", f"{first['counted_requests']} "
                                          f"({first['requests_over_minimum']} over minimum)"),
        ("first crawl: HTTP requests", first["http_requests"]),
        ("first crawl: wall time", f"{first['seconds']} s"),
        ("first crawl: CPU time of the crawler", f"{first['cpu_seconds']} s"),
        ("first crawl: items/s (issues+comments)", f"{first['items_per_second']:,}"),
        ("peak memory (max RSS, whole process)", f"{result['peak_rss_mb']} MB"),
        ("no-change refresh: counted requests", second["counted_requests"]),
        ("no-change refresh: 304s", second["not_modified"]),
        ("no-change refresh: wall time", f"{second['seconds']} s"),
        ("machine", result["machine"]),
        ("load average (1 min) after the runs", result["load_average_1min_after"]),
    ]  # fmt: skip
    return aligned(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", default="tensorflow/tensorflow")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--out", type=Path, default=ROOT / "reports/benchmarks/crawl.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        result = benchmark(args.corpus, args.repo, Path(scratch) / "benchmark.db")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"written to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
