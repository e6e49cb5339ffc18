"""The GitHub API stand-in answers with GitHub's semantics (it is what the crawler tests trust)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import click
import pytest
import requests

from miner.cli import _parse_fault
from miner.corpus import iter_issues
from miner.fake_github import FakeGitHub, Fault
from miner.fetch import parse_links

KERAS = "keras-team/keras"


@pytest.fixture(scope="module")
def keras_issues(corpus) -> list[dict]:
    return list(iter_issues(corpus / "keras-team__keras"))


@pytest.fixture
def api(corpus):
    with FakeGitHub(
        corpus,
        repositories=[KERAS, "apache/incubator-mxnet"],
        renames={"apache/incubator-mxnet": "apache/mxnet"},
        tokens=frozenset({"good", "other"}),
        budget=50,
        anonymous_budget=5,
    ) as server:
        yield server


def get(api: FakeGitHub, path: str, token: str | None = "good", **headers) -> requests.Response:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(api.url + path, headers=headers, timeout=10, allow_redirects=False)


def test_pages_follow_link_headers_and_cover_every_issue_once(api, keras_issues):
    url, seen, pages = f"{api.url}/repos/{KERAS}/issues?state=all&per_page=20", [], 0
    while url:
        response = requests.get(url, headers={"Authorization": "token good"}, timeout=10)
        links = parse_links(response.headers.get("Link"))
        seen += [i["id"] for i in response.json()]
        pages += 1
        if pages == 2:
            assert set(links) == {"next", "last", "first", "prev"}
        url = links.get("next")
    assert pages == 4 and "next" not in links and "prev" in links
    assert sorted(seen) == sorted(i["id"] for i in keras_issues)


def test_per_page_is_capped_at_100_and_state_defaults_to_open(api, keras_issues):
    everything = get(api, f"/repos/{KERAS}/issues?state=all&per_page=500").json()
    assert len(everything) == len(keras_issues) == 65  # all fit: 65 < 100
    opened = get(api, f"/repos/{KERAS}/issues?per_page=100").json()
    assert {i["state"] for i in opened} <= {"open"}
    assert len(opened) == sum(i["state"] == "open" for i in keras_issues)


def test_since_sort_and_direction(api, keras_issues):
    since = sorted(i["updated_at"] for i in keras_issues)[40]
    page = get(api, f"/repos/{KERAS}/issues?state=all&sort=updated&since={since}&per_page=100")
    got = [i["updated_at"] for i in page.json()]
    assert got == sorted(got, reverse=True)  # direction defaults to desc, like GitHub
    assert set(got) == {i["updated_at"] for i in keras_issues if i["updated_at"] >= since}
    asc = get(api, f"/repos/{KERAS}/issues?state=all&sort=created&direction=asc").json()
    assert [i["created_at"] for i in asc] == sorted(i["created_at"] for i in asc)


def test_etag_gives_304_that_costs_no_budget(api):
    first = get(api, f"/repos/{KERAS}/issues?state=all&per_page=100")
    left = int(first.headers["X-RateLimit-Remaining"])
    etag = {"If-None-Match": first.headers["ETag"]}
    again = get(api, f"/repos/{KERAS}/issues?state=all&per_page=100", **etag)
    assert again.status_code == 304 and again.content == b""
    assert int(again.headers["X-RateLimit-Remaining"]) == left
    other = get(api, f"/repos/{KERAS}/issues?state=all&per_page=10", **etag)
    assert other.status_code == 200


def test_rate_limit_headers_budget_and_reset(corpus):
    with FakeGitHub(corpus, repositories=[KERAS], budget=2, reset_seconds=0.5) as api:
        answers = [get(api, f"/repos/{KERAS}", token="t") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 403]
        assert answers[2].headers["X-RateLimit-Remaining"] == "0"
        assert {"X-RateLimit-Limit", "X-RateLimit-Used", "X-RateLimit-Reset"} <= set(
            answers[0].headers
        )
        assert answers[0].headers["X-RateLimit-Resource"] == "core"
        import time

        time.sleep(0.6)
        assert get(api, f"/repos/{KERAS}", token="t").status_code == 200


def test_tokens_anonymous_budget_unknown_repositories_and_renames(api):
    assert get(api, f"/repos/{KERAS}", token="bad").status_code == 401
    assert get(api, f"/repos/{KERAS}", token=None).headers["X-RateLimit-Limit"] == "5"
    assert get(api, f"/repos/{KERAS}").headers["X-RateLimit-Limit"] == "50"
    assert get(api, "/repos/nobody/nothing").status_code == 404
    moved = get(api, "/repos/apache/incubator-mxnet/issues?per_page=3")
    assert moved.status_code == 301
    assert moved.headers["Location"] == f"{api.url}/repos/apache/mxnet/issues?per_page=3"
    assert get(api, "/repos/apache/mxnet").json()["full_name"] == "apache/mxnet"


@pytest.mark.parametrize(
    ("kind", "status", "retry_after"),
    [
        ("502", 502, None),
        ("secondary", 403, None),
        ("secondary-retry-after", 403, "7"),
        ("429", 429, "7"),
        ("primary", 403, None),
    ],
)
def test_injected_faults_hit_the_next_matching_requests_only(api, kind, status, retry_after):
    api.inject(kind, times=1, match="/comments", retry_after=7)
    assert get(api, f"/repos/{KERAS}").status_code == 200  # does not match
    faulty = get(api, f"/repos/{KERAS}/issues/comments")
    assert faulty.status_code == status
    assert faulty.headers.get("Retry-After") == retry_after
    if kind == "primary":
        assert faulty.headers["X-RateLimit-Remaining"] == "0"
    else:
        assert get(api, f"/repos/{KERAS}/issues/comments").status_code == 200


def test_dropped_connections_deep_pages_and_slow_answers(corpus):
    with FakeGitHub(corpus, repositories=[KERAS], max_page=2, delay=0.2) as api:
        api.inject("drop")
        with pytest.raises(requests.ConnectionError):
            get(api, f"/repos/{KERAS}")
        assert get(api, f"/repos/{KERAS}/issues?per_page=10&page=2").status_code == 200
        deep = get(api, f"/repos/{KERAS}/issues?per_page=10&page=3")
        assert deep.status_code == 422
        assert api.stats.requests == 3
    with pytest.raises(ValueError, match="unknown fault"):
        Fault("418")


def test_events_are_synthetic_closed_events_with_stable_ids(api, keras_issues):
    events = get(api, f"/repos/{KERAS}/issues/events?per_page=100").json()
    closed = {i["number"]: i for i in keras_issues if i["closed_at"]}
    assert {e["issue"]["number"] for e in events} == set(closed)
    assert all(e["event"] == "closed" for e in events)
    assert all(e["created_at"] == closed[e["issue"]["number"]]["closed_at"] for e in events)
    assert [e["created_at"] for e in events] == sorted(
        (e["created_at"] for e in events), reverse=True
    )
    again = get(api, f"/repos/{KERAS}/issues/events?per_page=100").json()
    assert [e["id"] for e in again] == [e["id"] for e in events]


def test_put_replaces_items_as_an_edit_would(api):
    original = get(api, f"/repos/{KERAS}/issues?state=all&per_page=1").json()[0]
    edited = dict(original, title="edited", updated_at="2030-01-01T00:00:00Z")
    api.put(KERAS, "issues", [edited])
    newest = get(api, f"/repos/{KERAS}/issues?state=all&sort=updated&per_page=1").json()[0]
    assert newest["title"] == "edited"
    assert len(get(api, f"/repos/{KERAS}/issues?state=all&per_page=100").json()) == 65


def test_command_line_prints_its_url_and_serves(tmp_path):
    folder = tmp_path / "octo__tiny"
    folder.mkdir()
    with gzip.open(folder / "issues.jsonl.gz", "wt") as handle:
        handle.write(
            json.dumps(
                {"id": 1, "number": 1, "state": "open", "title": "t", "url": "u",
                 "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z"}
            )
            + "\n"
        )  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "mlissues", "-q", "fake-github", str(tmp_path), "--budget", "9"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = server.stdout.readline().strip()
        answer = requests.get(f"{url}/repos/octo/tiny/issues", timeout=10)
        assert answer.json()[0]["id"] == 1
        assert answer.headers["X-RateLimit-Limit"] == "60"  # anonymous
    finally:
        server.kill()
        server.wait()


def test_fault_option_syntax():
    assert _parse_fault("secondary:3:/comments") == Fault("secondary", 3, "/comments")
    assert _parse_fault("500") == Fault("500", 1, "")
    with pytest.raises(click.BadParameter):
        _parse_fault("teapot:2")
