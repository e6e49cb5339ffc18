"""Team workers: `crawl --enqueue` records jobs, `mlissues worker` processes claim them (leases,
heartbeats, SKIP LOCKED), a killed worker's job is resumed by another, `status` shows jobs."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from db import schema
from db.engine import open_database
from miner.fake_github import FakeGitHub
from mlissues.cli import main
from tests.crawl_support import by_name, crawl

KERAS = "keras-team/keras"
COPIES = {"team1/keras": KERAS, "team2/keras": KERAS, "team3/keras": KERAS}
NAMES = [KERAS, *COPIES]
PER_PAGE = 10


def _jobs(db_url: str) -> list[dict]:
    engine = open_database(db_url)
    try:
        with engine.connect() as connection:
            jobs = schema.crawl_jobs
            return [
                dict(r) for r in connection.execute(select(jobs).order_by(jobs.c.id)).mappings()
            ]
    finally:
        engine.dispose()


def _cli(*args: str):
    return CliRunner().invoke(main, ["-q", *args], catch_exceptions=False)


def _worker(db_url: str, api_url: str, token: str) -> list[str]:
    return [
        sys.executable, "-m", "mlissues", "-q", "worker", "--db", db_url, "--api-url", api_url,
        "--token", token, "--per-page", str(PER_PAGE), "--lease", "2", "--heartbeat", "0.4",
        "--poll", "0.2",
    ]  # fmt: skip


def test_enqueue_then_one_worker_crawls_every_job(sqlite_url, corpus):
    with FakeGitHub(corpus, repositories=[KERAS], copies=COPIES) as api:
        queued = _cli("crawl", "--enqueue", *NAMES[:2], "--db", sqlite_url)
        assert queued.output.startswith("queued 2 repositories (0 were")
        again = _cli("crawl", "--enqueue", *NAMES, "--db", sqlite_url)
        assert again.output.startswith("queued 2 repositories (2 were")
        before = _cli("status", "--db", sqlite_url)
        assert "crawl jobs: 4 queued, 0 running, 0 done, 0 failed" in before.output
        done = _cli("worker", "--db", sqlite_url, "--api-url", api.url, "--token", "t")
    assert done.exit_code == 0 and "no jobs left: 4 done, 0 failed here" in done.output
    assert [(j["full_name"], j["status"], j["attempts"]) for j in _jobs(sqlite_url)] == [
        (name, "done", 1) for name in NAMES
    ]
    after = _cli("status", "--db", sqlite_url)
    assert "crawl jobs: 0 queued, 0 running, 4 done, 0 failed" in after.output


def test_a_failed_job_is_recorded_and_the_worker_goes_on(sqlite_url, corpus):
    with FakeGitHub(corpus, repositories=[KERAS]) as api:
        _cli("crawl", "--enqueue", "nobody/none", KERAS, "--db", sqlite_url)
        done = _cli("worker", "--db", sqlite_url, "--api-url", api.url, "--token", "t")
    assert "1 done, 1 failed here" in done.output
    failed, ok = _jobs(sqlite_url)
    assert (failed["status"], ok["status"]) == ("failed", "done")
    assert failed["error"].startswith("no repository nobody/none")
    status = _cli("status", "--db", sqlite_url)
    assert "failed   nobody/none  attempt 1: no repository nobody/none" in status.output
    requeued = _cli("crawl", "--enqueue", "nobody/none", "--db", sqlite_url)
    assert requeued.output.startswith("queued 1 repositories")


def test_a_bad_token_stops_the_worker_and_queues_its_job_again(sqlite_url, corpus):
    with FakeGitHub(corpus, repositories=[KERAS], tokens=frozenset({"good"})) as api:
        _cli("crawl", "--enqueue", *NAMES[:2], "--db", sqlite_url)
        bad = _cli("worker", "--db", sqlite_url, "--api-url", api.url, "--token", "bad",
                   "--retries", "0", "--backoff", "0")  # fmt: skip
    assert bad.exit_code == 1 and len(bad.output.strip().splitlines()) == 1
    assert bad.output.startswith("Error: GitHub rejected token #1 (401 Bad credentials)")
    assert [(j["status"], j["worker"], j["error"]) for j in _jobs(sqlite_url)] == [
        ("queued", None, None)
    ] * 2  # not failed: another worker takes them at once


@pytest.mark.postgres
@pytest.mark.slow
def test_three_workers_on_postgres_one_killed_mid_job(postgres_url, corpus, tmp_path):
    clean = f"sqlite:///{tmp_path / 'clean.db'}"
    with FakeGitHub(corpus, repositories=[KERAS], copies=COPIES, latency=0.04) as api:
        crawl(clean, api.url, NAMES, tokens=("s",), per_page=PER_PAGE)
        _cli("crawl", "--enqueue", *NAMES, "--db", postgres_url)
        workers = [
            subprocess.Popen(_worker(postgres_url, api.url, f"w{n}"), stderr=subprocess.PIPE)
            for n in range(3)
        ]
        victim = workers[0]
        deadline = time.monotonic() + 60
        while api.stats.tokens.count("w0") < 8:  # well into its first job
            assert time.monotonic() < deadline, "worker 0 made no progress"
            time.sleep(0.01)
        held = [j for j in _jobs(postgres_url) if (j["worker"] or "").endswith(f":{victim.pid}")]
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        outcomes = [w.communicate(timeout=120) for w in workers[1:]]
        codes = [w.returncode for w in workers[1:]]
    assert codes == [0, 0], outcomes
    assert len(held) == 1 and held[0]["status"] == "running"
    jobs = {j["full_name"]: j for j in _jobs(postgres_url)}
    assert {j["status"] for j in jobs.values()} == {"done"}
    taken_over = jobs[held[0]["full_name"]]
    assert taken_over["attempts"] == 2 and not taken_over["worker"].endswith(f":{victim.pid}")
    assert by_name(postgres_url) == by_name(clean)
