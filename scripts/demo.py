"""`make demo`: the main job end to end, then where everything is.

crawl -> import the seed labels -> classify -> figures -> export, on data/demo/issues.db.

The crawl reads a bounded recent window of tensorflow/tensorflow, pytorch/pytorch and
apache/mxnet from GitHub (within the anonymous limit; GITHUB_TOKEN is used when set). When
GitHub cannot be reached and ../shared/corpus exists, the same repositories come from the local
stand-in of the API serving that corpus (apache/incubator-mxnet is served under its new name
apache/mxnet, with the 301 redirect GitHub gives for the old one).
MLISSUES_DEMO_SOURCE=github|local forces one source.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
DEMO_DB = ROOT / "data" / "demo" / "issues.db"
REPORTS = ROOT / "reports" / "demo"
DATASET = REPORTS / "dataset"
# MXNet by its old name: GitHub (and the stand-in) answer 301, the crawler stores the canonical
# apache/mxnet and keeps the old name as an alias, which the seed labels use.
REPOSITORIES = ["tensorflow/tensorflow", "pytorch/pytorch", "apache/incubator-mxnet"]
# One day: a few pages of issues and comments per repository fits the 60 anonymous requests an
# hour (pytorch alone sees hundreds of issue and pull-request comments a day).
GITHUB_WINDOW_DAYS = 1
GITHUB_MAX_ISSUES = 100


def mlissues(*args: str) -> None:
    print(f"\n$ mlissues {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", "mlissues", *args], check=True, cwd=ROOT)


def github_reachable() -> bool:
    import requests

    try:
        requests.head("https://api.github.com", timeout=3)
    except requests.RequestException:
        return False
    return True


def choose_source() -> str:
    forced = os.environ.get("MLISSUES_DEMO_SOURCE")
    if forced in ("github", "local"):
        return forced
    if github_reachable():
        return "github"
    if not CORPUS.is_dir():
        sys.exit("GitHub cannot be reached and ../shared/corpus is absent: nothing to crawl")
    print("GitHub cannot be reached: crawling the local stand-in serving ../shared/corpus")
    return "local"


@contextlib.contextmanager
def local_github() -> Iterator[str]:
    from miner.fake_github import FakeGitHub

    with FakeGitHub(
        CORPUS,
        repositories=REPOSITORIES,
        renames={"apache/incubator-mxnet": "apache/mxnet"},
        anonymous_budget=100_000,
    ) as api:
        yield api.url


def crawl(source: str) -> None:
    db = ["--db", str(DEMO_DB)]
    if source == "local":
        with local_github() as url:
            mlissues("crawl", *REPOSITORIES, *db, "--api-url", url)
        return
    since = (datetime.now(UTC) - timedelta(days=GITHUB_WINDOW_DAYS)).strftime("%Y-%m-%d")
    limit = ["--since", since, "--max-issues", str(GITHUB_MAX_ISSUES)]
    mlissues("crawl", *REPOSITORIES, *db, *limit)


def labels_of_crawled_repositories() -> Path:
    """The committed labels of the crawled repositories (they also cover keras-team/keras)."""
    import pandas as pd

    labels = pd.read_csv(ROOT / "classifier" / "data" / "labels.csv")
    crawled = set(REPOSITORIES)
    path = DEMO_DB.parent / "labels.csv"
    labels[labels.repository.isin(crawled)].to_csv(path, index=False)
    return path


def main() -> None:
    DEMO_DB.parent.mkdir(parents=True, exist_ok=True)
    db = ["--db", str(DEMO_DB)]
    mlissues("init-db", *db)
    source = choose_source()
    crawl(source)
    if source == "local":  # human labels exist for corpus issues only
        mlissues("label", "import", *db, str(labels_of_crawled_repositories()))
    mlissues("classify", *db)
    mlissues("figures", *db, "--out", str(REPORTS))
    mlissues("export", *db, "--out", str(DATASET))
    mlissues("status", *db)
    print(
        f"\ndatabase: {DEMO_DB}\nfigures, tables and HTML report: {REPORTS}/index.html"
        f"\ndataset (CSV, data dictionary, datasheet): {DATASET}"
    )


if __name__ == "__main__":
    main()
