"""A crawl that stops early says how to resume, and `status` shows it unfinished (issue 12,
item 11): a bad token (401), a repository gone mid-crawl (404), Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from miner.fake_github import FakeGitHub
from mlissues.cli import main
from tests.crawl_support import edge_corpus

EDGE = "octo/edge"
RESUME = "pages already stored are kept; run the same command again to resume"


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    return edge_corpus(tmp_path_factory.mktemp("stops"), count=30)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_a_bad_token_and_a_repository_gone_mid_crawl_say_how_to_resume(edge, tmp_path):
    db = str(tmp_path / "x.db")
    with FakeGitHub(edge, tokens=frozenset({"good"})) as api:
        result = run("-q", "crawl", EDGE, "--db", db, "--api-url", api.url, "--token", "bad")
        assert result.exit_code == 1 and "401 Bad credentials" in result.output
        assert RESUME in result.output and result.output.count("\n") == 1

        api.inject("404", times=100, match="/comments")
        result = run("-q", "crawl", EDGE, "--db", db, "--api-url", api.url, "--token", "good")
        assert result.exit_code == 1 and "(404)" in result.output
        assert RESUME in result.output and result.output.count("\n") == 1
    status = run("status", "--db", db).output
    assert "(unfinished)" in status and "run the same mlissues crawl command again" in status


def _status(db: str) -> str:
    return run("status", "--db", db).output


def test_ctrl_c_says_how_to_resume_and_status_shows_the_crawl_unfinished(edge, tmp_path):
    db = str(tmp_path / "x.db")
    with FakeGitHub(edge, delay=0.1) as api:
        command = [sys.executable, "-m", "mlissues", "crawl", EDGE, "--db", db,
                   "--api-url", api.url, "--token", "t", "--per-page", "3"]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while api.stats.requests < 4 and process.poll() is None:
            assert time.monotonic() < deadline, "the crawl made no progress"
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 130, stderr
        assert stderr.decode().strip().splitlines()[-1] == f"Interrupted: {RESUME}"
        assert b"Aborted!" not in stderr and b"Traceback" not in stderr
        assert "(unfinished)" in _status(db)

        resumed = run("-q", "crawl", EDGE, "--db", db, "--api-url", api.url, "--token", "t")
        assert resumed.exit_code == 0, resumed.output
    assert "(unfinished)" not in _status(db) and "30 " in _status(db)
