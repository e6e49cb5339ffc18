"""The crawler against the stand-in: completeness, increments, limits, faults and errors."""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from db import schema
from db.engine import open_database
from miner.corpus import iter_comments, iter_issues
from miner.crawl import RepositorySpec
from miner.fake_github import FakeGitHub
from miner.fetch import decode_array
from miner.transport import InvalidRepositoryName, RetriesExhausted
from mlissues.cli import main
from tests.crawl_support import (
    FAST,
    comment,
    count,
    crawl,
    dump,
    issue,
    keyset_requests,
    write_folder,
)

KERAS = "keras-team/keras"


@pytest.fixture(scope="module")
def keras(corpus) -> dict[str, list[dict]]:
    folder = corpus / "keras-team__keras"
    return {"issues": list(iter_issues(folder)), "comments": list(iter_comments(folder))}


@pytest.fixture
def api(corpus):
    with FakeGitHub(corpus, repositories=[KERAS]) as server:
        yield server


def _rows(db_url: str, table) -> list[dict]:
    engine = open_database(db_url)
    try:
        with engine.connect() as connection:
            return [dict(r) for r in connection.execute(select(table)).mappings()]
    finally:
        engine.dispose()


def cli(*args: str):
    return CliRunner().invoke(main, ["-q", "crawl", *args], catch_exceptions=False)


# --- completeness and request economy --------------------------------------------------------


def test_first_crawl_stores_every_item_verbatim_with_the_fewest_requests(db_url, api, keras):
    reports, client = crawl(db_url, api.url, [KERAS], per_page=10)
    issues = {r["id"]: r for r in _rows(db_url, schema.issues)}
    comments = {r["id"]: r for r in _rows(db_url, schema.comments)}
    assert {i["id"]: i for i in keras["issues"]} == {
        k: json.loads(r["raw_json"]) for k, r in issues.items()
    }
    assert {c["id"] for c in keras["comments"]} == set(comments)
    assert all(r["source_url"].startswith(api.url) and r["tool_version"] for r in issues.values())
    stamps = {k: [i.get("updated_at") or i["created_at"] for i in v] for k, v in keras.items()}
    pages = keyset_requests(stamps["issues"], 10) + keyset_requests(stamps["comments"], 10)
    # + the repository object; each page after the first repeats the last item of the one
    # before (since is inclusive), so a 10-item page brings 9 new ones
    assert api.stats.counted == client.counters.requests == pages + 1
    assert pages == math.ceil(65 / 9) + math.ceil(332 / 9)  # each ends on a page not full
    assert reports[0].new == {"issues": 65, "comments": 332}


def test_no_change_refresh_costs_no_counted_request(db_url, api):
    crawl(db_url, api.url, [KERAS])
    before, counted = dump(db_url), api.stats.counted
    reports, _ = crawl(db_url, api.url, [KERAS])
    assert api.stats.counted - counted == 0  # repository, issues, comments: three 304s
    assert reports[0].not_modified == 3 and reports[0].requests == 3
    assert dump(db_url) == before


def test_second_run_fetches_only_what_changed_since_the_cursor(db_url, api, keras):
    crawl(db_url, api.url, [KERAS], per_page=10)
    changed = dict(keras["issues"][3], title="edited title", updated_at="2030-01-01T00:00:00Z")
    fresh = dict(keras["comments"][0], id=77, body="new", updated_at="2030-01-02T00:00:00Z")
    api.put(KERAS, "issues", [changed])
    api.put(KERAS, "comments", [fresh])
    paths_before = len(api.stats.paths)
    reports, _ = crawl(db_url, api.url, [KERAS], per_page=10)
    assert reports[0].updated == {"issues": 1} and reports[0].new == {"comments": 1}
    asked = api.stats.paths[paths_before:]
    assert all("since=" in p for p in asked if "/issues" in p)
    titles = {r["id"]: r["title"] for r in _rows(db_url, schema.issues)}
    assert titles[changed["id"]] == "edited title" and count(db_url, "comments") == 333
    # a third run is free again
    counted = api.stats.counted
    crawl(db_url, api.url, [KERAS], per_page=10)
    assert api.stats.counted == counted


def test_max_issues_stops_early_and_the_next_run_continues(sqlite_url, api):
    crawl(sqlite_url, api.url, [KERAS], per_page=10, max_issues=20, comments=False)
    assert count(sqlite_url, "issues") == 19  # page 2 repeats the last issue of page 1
    assert api.stats.counted <= 1 + 2 + 2  # repository, 2 pages, at most 2 fetched ahead
    crawl(sqlite_url, api.url, [KERAS], per_page=10, comments=False)
    assert count(sqlite_url, "issues") == 65


def test_events_are_fetched_once_and_refreshed_for_free(sqlite_url, api, keras):
    crawl(sqlite_url, api.url, [KERAS], per_page=20, events=True)
    closed = sum(1 for i in keras["issues"] if i["closed_at"])
    assert count(sqlite_url, "issue_events") == closed
    counted = api.stats.counted
    reports, _ = crawl(sqlite_url, api.url, [KERAS], per_page=20, events=True)
    assert api.stats.counted == counted and reports[0].not_modified == 4


# --- rate limits, faults, retries ------------------------------------------------------------


class Sleeps(list):
    """Records the waits the client asks for; waits for real only if asked to."""

    def __init__(self, real: bool = False) -> None:
        super().__init__()
        self.real = real

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        if self.real:
            time.sleep(seconds)


def test_exhausted_primary_limit_sleeps_until_reset_and_says_when(sqlite_url, corpus, caplog):
    caplog.set_level(logging.INFO)
    sleeps = Sleeps(real=True)
    with FakeGitHub(corpus, repositories=[KERAS]) as api:
        # the budget runs out at the third comments page and resets half a second later
        api.inject("primary", match="/comments", skip=2, reset_in=0.5)
        crawl(sqlite_url, api.url, [KERAS], per_page=50, sleep=sleeps)
    assert count(sqlite_url, "comments") == 332
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 3  # reset is whole seconds, +1 margin
    assert "rate limit spent" in caplog.text and "resuming at" in caplog.text


@pytest.mark.parametrize(
    ("kind", "expected_wait"),
    [("secondary-retry-after", 2.0), ("429", 2.0), ("secondary", FAST.secondary_wait)],
)
def test_secondary_limits_wait_as_told_or_back_off(sqlite_url, api, kind, expected_wait):
    api.inject(kind, times=1, match="/comments", retry_after=2)
    sleeps = Sleeps()
    crawl(sqlite_url, api.url, [KERAS], sleep=sleeps)
    assert sleeps == [expected_wait]
    assert count(sqlite_url, "comments") == 332


def test_server_errors_and_dropped_connections_are_retried(sqlite_url, api):
    api.inject("502", times=2, match="/issues?")
    api.inject("drop", times=1, match="/comments")
    reports, client = crawl(sqlite_url, api.url, [KERAS])
    assert count(sqlite_url, "issues") == 65 and count(sqlite_url, "comments") == 332
    assert client.counters.requests >= reports[0].requests >= 5 + 3


def test_token_rotation_uses_the_token_with_most_quota(sqlite_url, corpus):
    with FakeGitHub(corpus, repositories=[KERAS], budget=6, reset_seconds=3600) as api:
        crawl(sqlite_url, api.url, [KERAS], tokens=("a", "b"), per_page=50)
        assert api.remaining("a") < 6 and api.remaining("b") < 6
        assert api.remaining("a") + api.remaining("b") == 12 - api.stats.counted


def test_retries_exhausted_keep_stored_pages_and_a_rerun_completes(db_url, api, tmp_path):
    clean = f"sqlite:///{tmp_path / 'clean.db'}"
    crawl(clean, api.url, [KERAS], per_page=20)
    api.inject("500", times=100, match="/comments", skip=3)
    with pytest.raises(RetriesExhausted, match="run the same command again"):
        crawl(db_url, api.url, [KERAS], per_page=20)
    assert count(db_url, "issues") == 65 and count(db_url, "comments") == 20 + 19 + 19
    api.clear_faults()
    crawl(db_url, api.url, [KERAS], per_page=20)
    assert dump(db_url) == dump(clean)


def test_cli_retries_exhausted_exits_non_zero_with_a_resume_hint(api, tmp_path):
    api.inject("503", times=100, match="/comments")
    db = tmp_path / "x.db"
    result = cli(KERAS, "--db", str(db), "--api-url", api.url, "--token", "t",
                 "--retries", "1", "--backoff", "0")  # fmt: skip
    assert result.exit_code == 1
    assert "HTTP 503" in result.output and "run the same command again" in result.output
    assert count(f"sqlite:///{db}", "issues") == 65


# --- clear errors ----------------------------------------------------------------------------


@pytest.fixture
def guarded(corpus):
    with FakeGitHub(corpus, repositories=[KERAS], tokens=frozenset({"good"})) as server:
        yield server


def test_error_messages_are_one_actionable_line(guarded, tmp_path):
    db = str(tmp_path / "e.db")
    cases = {
        ("--token", "ghp_wrong", KERAS): "Bad credentials",
        ("--token", "good", "keras-team/nope"): "no repository keras-team/nope",
        ("--token", "good", "not-a-name"): "OWNER/REPO",
    }
    for args, expected in cases.items():
        result = cli(*args, "--db", db, "--api-url", guarded.url)
        assert result.exit_code == 1, result.output
        assert expected in result.output
        assert "Traceback" not in result.output and "ghp_wrong" not in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_unreachable_api_url_is_a_clear_error(tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = cli(KERAS, "--db", str(tmp_path / "u.db"), "--api-url", f"http://127.0.0.1:{port}",
                 "--token", "t", "--retries", "0")  # fmt: skip
    assert result.exit_code == 1
    assert "cannot reach" in result.output and "--api-url" in result.output


def test_bad_repository_names_are_refused():
    for name in ("tensorflow", "a/b/c", "owner/", "/repo", "own er/repo"):
        with pytest.raises(InvalidRepositoryName):
            RepositorySpec(name)


# --- tokens, renames, configs, awkward data --------------------------------------------------


def test_token_never_reaches_logs_or_the_database(guarded, tmp_path):
    secret = "ghp_SECRET1234567890abcdef"
    guarded.settings.tokens = frozenset({secret})
    db = tmp_path / "s.db"
    run = subprocess.run(
        [sys.executable, "-m", "mlissues", "-vv", "crawl", KERAS, "--db", str(db),
         "--api-url", guarded.url, "--events"],
        env={**os.environ, "GITHUB_TOKEN": secret}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert count(f"sqlite:///{db}", "issues") == 65  # the token was sent and accepted
    assert "/repos/keras-team/keras/issues" in run.stderr  # -vv logs every request
    assert secret not in run.stdout + run.stderr
    for path in tmp_path.iterdir():  # the database file and its WAL
        assert secret.encode() not in path.read_bytes()


def test_renamed_repository_is_stored_under_its_canonical_name(db_url, corpus):
    old = "apache/incubator-mxnet"
    with FakeGitHub(corpus, repositories=[old], renames={old: "apache/mxnet"}) as api:
        crawl(db_url, api.url, [old], comments=False)
        reports, _ = crawl(db_url, api.url, ["apache/mxnet"], comments=False)
        assert reports[0].name == "apache/mxnet" and reports[0].not_modified == 2
    assert [r["full_name"] for r in _rows(db_url, schema.repositories)] == ["apache/mxnet"]
    assert [r["alias"] for r in _rows(db_url, schema.repository_aliases)] == [old]
    assert count(db_url, "issues") == 805


def test_a_rename_after_the_first_crawl_keeps_one_repository(sqlite_url, corpus):
    old, new = "apache/incubator-mxnet", "apache/mxnet"
    with FakeGitHub(corpus, repositories=[old]) as api:
        crawl(sqlite_url, api.url, [old], comments=False)
        api.rename(old, new)
        reports, _ = crawl(sqlite_url, api.url, [old], comments=False)
        assert reports[0].name == new and reports[0].not_modified == 1  # issues: 304
    assert [r["full_name"] for r in _rows(sqlite_url, schema.repositories)] == [new]
    assert [r["alias"] for r in _rows(sqlite_url, schema.repository_aliases)] == [old]
    assert count(sqlite_url, "issues") == 805


def test_anonymous_crawl_says_so(api, tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    result = CliRunner().invoke(
        main, ["crawl", KERAS, "--db", str(tmp_path / "a.db"), "--api-url", api.url,
               "--no-comments"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "no token: anonymous requests are limited to 60 per hour" in result.output
    assert api.remaining(None) < 60


STUDY_TABLES = {
    "toml": '[study]\ntitle = "Two frameworks"\ncreators = ["Ada", "Bob"]\n'
    "collection_end = 2024-06-30\n\n"
    '[groups]\nml = ["keras-team/keras"]\ntraditional = ["pytorch/pytorch"]\n',
    "yaml": "study:\n  title: Two frameworks\n  creators: [Ada, Bob]\n"
    "  collection_end: 2024-06-30\n"
    "groups:\n  ml: [keras-team/keras]\n  traditional: [pytorch/pytorch]\n",
}


@pytest.mark.parametrize("suffix", ["toml", "yaml"])
def test_study_config_groups_repositories(corpus, tmp_path, suffix):
    text = STUDY_TABLES[suffix]
    study = tmp_path / f"study.{suffix}"
    study.write_text(text)
    db = tmp_path / "g.db"
    with FakeGitHub(corpus, repositories=[KERAS, "pytorch/pytorch"]) as api:
        result = cli("--config", str(study), "--db", str(db), "--api-url", api.url,
                     "--token", "t", "--no-comments")  # fmt: skip
    assert result.exit_code == 0, result.output
    groups = {
        r["full_name"]: r["group_name"] for r in _rows(f"sqlite:///{db}", schema.repositories)
    }
    assert groups == {"keras-team/keras": "ml", "pytorch/pytorch": "traditional"}
    metadata = {r["key"]: r["value"] for r in _rows(f"sqlite:///{db}", schema.study_metadata)}
    assert metadata == {
        "title": "Two frameworks",
        "creators": ["Ada", "Bob"],
        "collection_end": "2024-06-30T23:59:59Z",  # a date: the whole day was collected
    }


@pytest.mark.parametrize(
    ("study", "message"),
    [
        ('licence = "MIT"', "unknown [study] key licence; use title, description, creators"),
        ("collection_end = 'June'", "[study] collection_end 'June' is not a date"),
        ("creators = []", "[study] creators must be a list of names, not []"),
    ],
)
def test_a_bad_study_table_is_one_clear_line(tmp_path, study, message):
    path = tmp_path / "study.toml"
    path.write_text(f'[study]\n{study}\n[groups]\nml = ["keras-team/keras"]\n')
    result = cli("--config", str(path), "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {path}: ") and message in result.output
    assert not (tmp_path / "x.db").exists()  # refused before anything was written


def test_awkward_items_are_stored_faithfully(db_url, tmp_path):
    huge = "x" * 2_000_000
    labels = [
        {"id": 1, "name": "type: bug", "color": "fff"},
        {"id": 2, "name": "comp:ops / core", "color": "000"},
    ]
    issues = [
        issue(1, "2020-01-05T00:00:00Z", user=None, body=None, labels=labels),
        issue(2, "2020-01-06T00:00:00Z", title="ünïcödé 🚀 标题", body=huge),
        issue(3, "2020-01-07T00:00:00Z", pull_request={"url": "u"}, state="closed",
              closed_at="2020-01-07T00:00:00Z"),
    ]  # fmt: skip
    comments = [comment(10, 1, "2020-01-05T00:00:00Z", body="ça va? — “quotes”\r\n\ttabs")]
    root = write_folder(tmp_path / "corpus", "octo__edge", issues, comments)
    with FakeGitHub(root) as api:
        crawl(db_url, api.url, ["octo/edge"], per_page=1)
    stored = {r["number"]: r for r in _rows(db_url, schema.issues)}
    assert stored[1]["user_id"] is None and stored[1]["body"] is None
    assert stored[2]["title"] == "ünïcödé 🚀 标题" and stored[2]["body"] == huge
    assert stored[3]["is_pull_request"] is True
    assert json.loads(stored[2]["raw_json"]) == issues[1]
    assert sorted(r["name"] for r in _rows(db_url, schema.labels)) == sorted(
        lab["name"] for lab in labels
    )
    assert count(db_url, "issue_labels") == 2
    assert _rows(db_url, schema.comments)[0]["body"] == comments[0]["body"]


def test_since_and_an_enterprise_style_api_url(corpus, tmp_path, keras):
    since = sorted(i["updated_at"] for i in keras["issues"])[50][:10]  # a date, as users type it
    db = tmp_path / "ghe.db"
    with FakeGitHub(corpus, repositories=[KERAS], prefix="/api/v3") as api:
        result = cli(KERAS, "--db", str(db), "--api-url", f"{api.url}", "--token", "t",
                     "--since", since, "--no-comments")  # fmt: skip
        assert api.url.endswith("/api/v3")
    assert result.exit_code == 0, result.output
    expected = {i["id"] for i in keras["issues"] if i["updated_at"][:10] >= since}
    assert {r["id"] for r in _rows(f"sqlite:///{db}", schema.issues)} == expected
    assert 0 < len(expected) < 65
    bad = cli(KERAS, "--db", str(db), "--since", "last tuesday")
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("[]", []),
        (' [ {"a": [1, "]"]} ,\n{"b":null} ] ', [{"a": [1, "]"]}, {"b": None}]),
    ],
)
def test_decode_array_keeps_each_items_text_as_received(text, items):
    decoded, texts = decode_array(text)
    assert decoded == items
    assert [json.loads(t) for t in texts] == items
    assert all(t in text for t in texts)
    with pytest.raises(ValueError):
        decode_array('{"message": "not a list"}')


def test_a_page_and_its_cursor_commit_together(db_url, api, monkeypatch, tmp_path):
    import miner.crawl

    clean = f"sqlite:///{tmp_path / 'clean.db'}"
    crawl(clean, api.url, [KERAS], per_page=20)
    real_save, calls = miner.crawl.save_prepared, []

    def failing_save(connection, rows):
        calls.append(1)
        real_save(connection, rows)
        if len(calls) == 3:
            raise OSError("disk full")  # after the rows, before the commit

    monkeypatch.setattr(miner.crawl, "save_prepared", failing_save)
    with pytest.raises(OSError):
        crawl(db_url, api.url, [KERAS], per_page=20)
    state = {r["endpoint"]: r for r in _rows(db_url, schema.crawl_state)}
    newest = max(r["updated_at"] for r in _rows(db_url, schema.issues))
    assert count(db_url, "issues") == 20 + 19 and state["issues"]["next_url"] is None
    assert state["issues"]["since"] == newest.strftime("%Y-%m-%dT%H:%M:%SZ")
    monkeypatch.setattr(miner.crawl, "save_prepared", real_save)
    crawl(db_url, api.url, [KERAS], per_page=20)
    assert dump(db_url) == dump(clean)


def test_nul_characters_become_replacement_characters_and_raw_json_keeps_them(db_url, tmp_path):
    # PostgreSQL text rejects NUL; the decoded columns store U+FFFD, raw_json the \u0000 escape
    nul = "a\x00b"
    label = {"id": 7, "name": f"l{nul}", "color": "fff", "description": nul}
    issues = [issue(1, "2020-01-05T00:00:00Z", title=nul, body=f"x{nul}", labels=[label])]
    comments = [comment(10, 1, "2020-01-05T00:00:00Z", body=nul)]
    root = write_folder(tmp_path / "corpus", "octo__edge", issues, comments)
    with FakeGitHub(root) as api:
        crawl(db_url, api.url, ["octo/edge"])
    (stored,) = _rows(db_url, schema.issues)
    assert (stored["title"], stored["body"]) == ("a\ufffdb", "xa\ufffdb")
    (label_row,) = _rows(db_url, schema.labels)
    assert (label_row["name"], label_row["description"]) == ("la\ufffdb", "a\ufffdb")
    (stored_comment,) = _rows(db_url, schema.comments)
    assert stored_comment["body"] == "a\ufffdb"
    for row, original in ((stored, issues[0]), (stored_comment, comments[0])):
        assert "\\u0000" in row["raw_json"] and "\x00" not in row["raw_json"]
        assert json.loads(row["raw_json"]) == original
