"""Token-parallel crawl benchmark: 8 repositories and 4 tokens through a stand-in with latency.

The stand-in runs in its own process with `--latency` seconds added to every answer (GitHub's
answers take 0.2-0.5 s) and serves the non-TensorFlow corpus folders, replicated under new
names (`--copy`) to make 8 repositories: apache/incubator-mxnet 4 times, pytorch/pytorch and
keras-team/keras twice each, largest first (the order of a study file; the scheduler does not
know sizes in advance). A fresh SQLite database (or --db URL, empty); issues and comments,
100 per request.

Reported: wall time against the latency bound (requests x latency / tokens: no crawl with one
request in flight per token can be faster), requests against the sum of each repository's
minimum (1 for the repository + ceil(issues/100) + ceil(comments/100)), peak memory of the
crawler. And where the wall time went: per token, the time spent waiting for answers (against
the latency alone), the time holding work with no request in flight (decoding, and the writer
holding the fetch thread back), the idle time, and the tail (from the first token running out
of work to the end); the time in page transactions (writers, beside the requests). Writes
reports/benchmarks/crawl_parallel.json and prints a table.

    .venv/bin/python benchmarks/crawl_parallel.py [--latency 0.25] [--tokens 4]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
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
from miner.crawl import CrawlOptions, RepositorySpec  # noqa: E402
from miner.parallel import TokenTiming, crawl_parallel  # noqa: E402

# served name -> corpus folder (as OWNER/NAME), largest first
REPOSITORIES = {
    "apache/incubator-mxnet": "apache/incubator-mxnet",
    "bench/mxnet-2": "apache/incubator-mxnet",
    "bench/mxnet-3": "apache/incubator-mxnet",
    "bench/mxnet-4": "apache/incubator-mxnet",
    "pytorch/pytorch": "pytorch/pytorch",
    "bench/pytorch-2": "pytorch/pytorch",
    "keras-team/keras": "keras-team/keras",
    "bench/keras-2": "keras-team/keras",
}


@contextlib.contextmanager
def stand_in(corpus: Path, latency: float) -> Iterator[str]:
    """The stand-in in a child process, serving REPOSITORIES; yields its URL."""
    copies = [f"--copy={new}={old}" for new, old in REPOSITORIES.items() if new != old]
    command = [sys.executable, "-m", "mlissues", "-q", "fake-github", str(corpus),
               "--budget", "1000000", "--latency", str(latency), *copies]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        if not url.startswith("http"):
            raise SystemExit("the stand-in did not start")
        yield url
    finally:
        server.terminate()
        server.wait()


def minimum_requests(corpus: Path) -> dict[str, int]:
    """Per served repository: 1 + ceil(issues/100) + ceil(comments/100)."""
    folders = repo_dirs(corpus)
    minimum = {}
    for name, source in REPOSITORIES.items():
        folder = folders[source]
        issues = sum(1 for _ in iter_jsonl(folder, "issues"))
        comments = sum(1 for _ in iter_jsonl(folder, "comments"))
        minimum[name] = 1 + math.ceil(issues / 100) + math.ceil(comments / 100)
    return minimum


def benchmark(corpus: Path, latency: float, tokens: int, db_url: str) -> dict:
    minimum = minimum_requests(corpus)
    engine = open_database(db_url, create=True)
    specs = [RepositorySpec(name) for name in REPOSITORIES]
    with stand_in(corpus, latency) as url:
        started, cpu_started = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
        timings: list[TokenTiming] = []
        reports = crawl_parallel(
            engine,
            url,
            [f"benchmark-{i}" for i in range(tokens)],
            specs,
            CrawlOptions(),
            timings=timings,
        )
        wall = time.perf_counter() - started
        cpu = _cpu(resource.RUSAGE_SELF) - cpu_started
    engine.dispose()
    requests = sum(r.requests for r in reports)
    bound = requests * latency / tokens
    return {
        "repositories": len(specs),
        "tokens": tokens,
        "latency_seconds": latency,
        "requests": requests,
        "requests_per_repository": {r.name: r.requests for r in reports},
        "minimum_requests": sum(minimum.values()),
        "minimum_per_repository": minimum,
        "requests_over_minimum": round(requests / sum(minimum.values()), 3),
        "wall_seconds": round(wall, 2),
        "latency_bound_seconds": round(bound, 2),
        "wall_over_bound": round(wall / bound, 3),
        "serial_estimate_seconds": round(requests * latency, 1),
        "items": sum(sum(r.new.values()) for r in reports),
        "crawler_cpu_seconds": round(cpu, 1),  # user + system, all threads of this process
        "stand_in_cpu_seconds": round(_cpu(resource.RUSAGE_CHILDREN), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average_1min_after": round(os.getloadavg()[0], 2),
        "database": engine.dialect.name,
        **where_the_time_went(timings, wall, latency, reports),
    }


def _token_row(timing: TokenTiming, wall: float) -> dict:
    return {
        "requests": timing.requests,
        "answer_seconds": round(timing.request_seconds, 2),
        "holding_seconds": round(timing.unit_seconds, 2),
        "idle_seconds": round(wall - timing.unit_seconds, 2),
        "done_at_seconds": round(timing.done_at, 2),
    }


def where_the_time_went(
    timings: list[TokenTiming], wall: float, latency: float, reports: list
) -> dict:
    """Per token and in all: answers, gaps between them, idle time and the tail."""
    sent = sum(t.requests for t in timings)
    answers = sum(t.request_seconds for t in timings)
    held = sum(t.unit_seconds for t in timings)
    return {
        "per_token": [_token_row(t, wall) for t in timings],
        "answer_ms_mean": round(1000 * answers / sent, 1),
        "answer_ms_over_latency": round(1000 * (answers / sent - latency), 1),
        "gap_ms_mean": round(1000 * (held - answers) / sent, 1),
        "idle_seconds_mean": round(wall - held / len(timings), 2),
        "tail_seconds": round(wall - min(t.done_at for t in timings), 2),
        "busiest_token_requests": max(t.requests for t in timings),
        "write_seconds_all_tokens": round(sum(r.write_seconds for r in reports), 2),
    }


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def table(result: dict) -> str:
    rows = [
        ("repositories x tokens", f"{result['repositories']} x {result['tokens']}"),
        ("latency per answer", f"{result['latency_seconds']} s"),
        ("requests (HTTP, all tokens)", result["requests"]),
        ("minimum requests (sum per repository)", result["minimum_requests"]),
        ("requests / minimum", result["requests_over_minimum"]),
        ("wall time", f"{result['wall_seconds']} s"),
        ("latency bound (requests x latency / tokens)", f"{result['latency_bound_seconds']} s"),
        ("wall / bound", result["wall_over_bound"]),
        ("one token, estimated (requests x latency)", f"{result['serial_estimate_seconds']} s"),
        ("items stored", f"{result['items']:,}"),
        ("CPU: crawler / stand-in", f"{result['crawler_cpu_seconds']} s / "
                                    f"{result['stand_in_cpu_seconds']} s"),
        ("answer time, mean (latency + the rest)", f"{result['answer_ms_mean']} ms "
                                                    f"(+{result['answer_ms_over_latency']} ms)"),
        ("between answers, mean (decode, handoff)", f"{result['gap_ms_mean']} ms"),
        ("requests per token: busiest / mean",
         f"{result['busiest_token_requests']} / "
         f"{sum(t['requests'] for t in result['per_token']) / result['tokens']:.1f}"),
        ("idle per token, mean / tail at the end", f"{result['idle_seconds_mean']} s / "
                                                   f"{result['tail_seconds']} s"),
        ("page transactions, all tokens", f"{result['write_seconds_all_tokens']} s"),
        ("peak memory (max RSS, crawler)", f"{result['peak_rss_mb']} MB"),
        ("database", result["database"]),
        ("load average (1 min) after", result["load_average_1min_after"]),
    ]  # fmt: skip
    return aligned(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--latency", type=float, default=0.25)
    parser.add_argument("--tokens", type=int, default=4)
    parser.add_argument(
        "--db", help="an empty database URL (default: a fresh SQLite file in a temporary folder)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "reports/benchmarks/crawl_parallel.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        db_url = args.db or f"sqlite:///{Path(scratch) / 'bench.db'}"
        result = benchmark(args.corpus, args.latency, args.tokens, db_url)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"written to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
