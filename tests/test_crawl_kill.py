"""SIGKILL at random moments, then resume: the database ends identical to an uninterrupted crawl.

The crawl runs as a real subprocess (`python -m mlissues crawl`) against a slow stand-in, and
is killed after a seeded random number of requests plus a random fraction of a response time,
so kills land before, between and in the middle of page commits.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys

import pytest

from miner.fake_github import FakeGitHub
from tests.crawl_support import count, crawl, dump, kill_after

REPO = "pytorch/pytorch"
PER_PAGE = 25
DELAY = 0.02


def _command(db_url: str, api_url: str) -> list[str]:
    return [
        sys.executable, "-m", "mlissues", "-q", "crawl", REPO, "--db", db_url,
        "--api-url", api_url, "--token", "t", "--events", "--per-page", str(PER_PAGE),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def stand_in(corpus, tmp_path_factory):
    """One stand-in for both backends, and what an uninterrupted crawl through it stores (the
    rows do not depend on the backend; they do on the server: its URL is in the metadata)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('clean') / 'clean.db'}"
    with FakeGitHub(corpus, repositories=[REPO]) as api:
        crawl(url, api.url, [REPO], per_page=PER_PAGE, events=True)
        total = api.stats.requests
        api.settings.delay = DELAY  # slow from now on, so that kills land mid-crawl
        yield api, dump(url), total


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_equals_a_clean_crawl(db_url, stand_in):
    api, clean, total = stand_in
    rng = random.Random(4)
    command = _command(db_url, api.url)
    killed, partial = 0, 0
    for _ in range(6):
        status = kill_after(api, command, rng.randint(1, total // 5), rng.random() * DELAY)
        killed += status == -signal.SIGKILL
        issues, comments = count(db_url, "issues"), count(db_url, "comments")
        partial += 0 < issues + comments < 631 + 627
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert killed >= 4, "the kills did not land while the crawl was running"
    assert partial >= 2, "no kill left a partly crawled database behind"
    assert dump(db_url) == clean
