"""Token-parallel crawling: several repositories at once, one request in flight per token, and
every per-repository guarantee of a serial crawl (same rows, same requests, SIGKILL-safe)."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import pytest
import requests
from click.testing import CliRunner

from miner.fake_github import FakeGitHub
from mlissues.cli import main
from tests.crawl_support import by_name, crawl, kill_after

PER_PAGE = 25
KERAS = "keras-team/keras"
COPIES = {"copy1/keras": KERAS, "copy2/keras": KERAS, "copy3/keras": KERAS}
NAMES = [KERAS, *COPIES]


def _serve(corpus, **settings) -> FakeGitHub:
    return FakeGitHub(corpus, repositories=[KERAS], copies=COPIES, **settings)


def _command(db_url: str, api_url: str, *tokens: str) -> list[str]:
    options = [part for token in tokens for part in ("--token", token)]
    return [
        sys.executable, "-m", "mlissues", "-q", "crawl", *NAMES, "--db", db_url,
        "--api-url", api_url, "--per-page", str(PER_PAGE), "--events", *options,
    ]  # fmt: skip


def test_parallel_crawl_equals_a_serial_one_with_one_request_in_flight_per_token(
    db_url, corpus, tmp_path
):
    serial = f"sqlite:///{tmp_path / 'serial.db'}"
    with _serve(corpus, latency=0.01) as api:
        crawl(serial, api.url, NAMES, tokens=("s",), per_page=PER_PAGE, events=True)
        serial_requests, paths_before = api.stats.counted, len(api.stats.paths)
        result = CliRunner().invoke(
            main, _command(db_url, api.url, "a", "b", "c")[4:], catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        assert api.stats.counted == 2 * serial_requests  # parallel costs no extra request
        assert set(api.stats.tokens) == {"s", "a", "b", "c"}
        assert {api.stats.peak_in_flight[t] for t in "abc"} == {1}
        first_requests = [p for p in api.stats.paths[paths_before:] if p.count("/") == 3]
        assert len(first_requests) == len(NAMES)  # GET /repos/O/R, once each
    assert by_name(db_url) == by_name(serial)


def test_each_repository_goes_to_the_free_token_with_the_most_quota(sqlite_url, corpus):
    with _serve(corpus, budget=300) as api:
        for _ in range(30):  # token b partly spent elsewhere, token a spent until much later
            requests.get(f"{api.url}/repos/{KERAS}", headers={"Authorization": "token b"})
        api.exhaust("a", reset_in=600)
        before = len(api.stats.paths)
        started = time.monotonic()
        result = CliRunner().invoke(
            main, _command(sqlite_url, api.url, "a", "b", "c")[4:], catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        sent = list(zip(api.stats.paths[before:], api.stats.tokens[before:], strict=True))
    assert time.monotonic() - started < 60  # nothing waited for token a's reset
    crawled_by = {path[7:]: token for path, token in sent if path.count("/") == 3}
    assert len(crawled_by) == len(NAMES) and crawled_by[NAMES[0]] == "c"  # the most quota
    assert set(crawled_by.values()) == {"b", "c"}
    assert {path for path, token in sent if token == "a"} == {"/rate_limit"}


def test_a_repository_named_twice_has_each_listing_crawled_once(sqlite_url, corpus):
    twice = [KERAS, "copy1/keras", KERAS.upper()]
    with _serve(corpus, latency=0.01) as api:
        result = CliRunner().invoke(
            main, ["-q", "crawl", *twice, "--db", sqlite_url, "--api-url", api.url,
                   "--token", "a", "--token", "b", "--per-page", str(PER_PAGE)],
        )  # fmt: skip
        listings = [p for p in api.stats.paths if "/issues" in p]
    assert result.exit_code == 0, result.output
    assert len(listings) == len(set(listings)) > 2 * 332 / PER_PAGE  # no page asked twice


def test_tokens_from_github_tokens_and_errors_are_one_line(sqlite_url, corpus, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKENS", "x, y")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    with _serve(corpus) as api:
        args = ["-q", "crawl", *NAMES[:2], "--db", sqlite_url, "--api-url", api.url]
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert set(api.stats.tokens) == {"x", "y"}
        missing = CliRunner().invoke(main, [*args, "nobody/none"])
    assert missing.exit_code == 1
    assert missing.output.startswith("Error: 1 of 3 repositories failed (nobody/none: no reposi")
    assert len(missing.output.strip().splitlines()) == 1


def test_a_failing_repository_does_not_stop_the_others(db_url, corpus, tmp_path):
    clean = f"sqlite:///{tmp_path / 'clean.db'}"
    with _serve(corpus, latency=0.005) as api:
        command = [*_command(db_url, api.url, "a", "b")[3:], "--retries", "0"]
        crawl(clean, api.url, NAMES, tokens=("s",), per_page=PER_PAGE, events=True)
        # copy2: a 404 once its comments are under way (deleted mid-crawl); copy3: a 500 at once
        api.inject("404", match="/copy2/keras/issues/comments", skip=2)
        api.inject("500", match="/copy3/keras/issues?")
        failed = CliRunner().invoke(main, command)
        stored = {name: rows for name, rows in by_name(db_url).items() if name != "crawl_state"}
        api.clear_faults()
        resumed = CliRunner().invoke(main, command)
    assert failed.exit_code == 1 and len(failed.output.strip().splitlines()) == 1
    assert failed.output.startswith(
        "Error: 2 of 4 repositories failed (copy2/keras: not found: /repos/copy2/keras/issues/"
        "comments?"
    )
    assert "; copy3/keras: " in failed.output and "HTTP 500" in failed.output
    assert "; 2 of 4 complete; pages already stored are kept; run the same command" in failed.output
    expected = by_name(clean)
    for table in ("issues", "comments", "issue_events"):
        done = {r for r in expected[table] if dict(r)["repository_id"] in (KERAS, "copy1/keras")}
        assert done <= set(stored[table])  # the other repositories went on to the end
    copy2 = [r for r in stored["comments"] if dict(r)["repository_id"] == "copy2/keras"]
    assert 2 * PER_PAGE - 1 <= len(copy2) < 332  # its first two pages are kept
    assert resumed.exit_code == 0, resumed.output
    assert by_name(db_url) == expected


@pytest.mark.slow
def test_sigkill_during_a_parallel_crawl_then_resume_equals_a_clean_crawl(db_url, corpus, tmp_path):
    clean = f"sqlite:///{tmp_path / 'clean.db'}"
    rng = random.Random(13)
    delay = 0.02
    with _serve(corpus, latency=delay) as api:
        crawl(clean, api.url, NAMES, tokens=("s",), per_page=PER_PAGE, events=True)
        total = api.stats.requests
        command = _command(db_url, api.url, "a", "b")
        killed = 0
        for _ in range(4):
            status = kill_after(api, command, rng.randint(2, total // 3), rng.random() * delay)
            killed += status == -signal.SIGKILL
        finished = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert killed >= 3, "the kills did not land while the crawl was running"
    assert by_name(db_url) == by_name(clean)
