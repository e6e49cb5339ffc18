"""`mlissues discover`: repository searches (through PyGithub) into a study file, against the
stand-in's /search/repositories."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from miner.config import load_study
from miner.crawl import RepositorySpec
from miner.fake_github import FakeGitHub
from mlissues.cli import main

SECRET = "ghp_discoverSecret0123456789"


def _catalog() -> list[dict]:
    """130 deep-learning repositories (stars 10,000 down to 100 apart), 3 traditional ones."""
    deep = [
        {
            "full_name": f"dl{n:03d}/net",
            "stars": 10_000 - 70 * n,
            "topics": ["deep-learning"],
            "language": "Python" if n % 2 else "C++",
            "created_at": f"20{10 + n % 10}-03-04T05:06:07Z",
            "description": "a neural network library",
        }
        for n in range(130)
    ]
    traditional = [
        {"full_name": "numpy/numpy", "stars": 26_000, "topics": ["scientific-computing"],
         "language": "Python", "created_at": "2010-09-13T23:02:39Z", "description": "arrays"},
        {"full_name": "scipy/scipy", "stars": 12_000, "topics": ["scientific-computing"],
         "language": "Python", "created_at": "2011-03-09T18:52:03Z", "description": "science"},
        {"full_name": "tiny/sci", "stars": 40, "topics": ["scientific-computing"],
         "language": "Python", "created_at": "2020-01-01T00:00:00Z", "description": "small"},
    ]  # fmt: skip
    return deep + traditional


@pytest.fixture
def search_api(tmp_path: Path):
    (tmp_path / "corpus").mkdir()
    with FakeGitHub(tmp_path / "corpus", catalog=_catalog(), tokens=frozenset({SECRET})) as api:
        yield api


def _discover(api_url: str, output: Path, *args: str):
    return CliRunner().invoke(
        main,
        ["discover", "--api-url", api_url, "--token", SECRET, "-o", str(output), *args],
        catch_exceptions=False,
    )


def test_search_endpoint_filters_sorts_and_pages_like_github(search_api):
    url = f"{search_api.url}/search/repositories"
    query = {"q": "topic:deep-learning stars:>5000 language:python", "sort": "stars",
             "per_page": 10}  # fmt: skip
    answer = requests.get(url, params=query, headers={"Authorization": f"token {SECRET}"})
    body = answer.json()
    expected = sorted(
        (e for e in _catalog() if e["stars"] > 5000 and e["language"] == "Python"
         and "deep-learning" in e["topics"]),
        key=lambda e: -e["stars"],
    )  # fmt: skip
    assert body["total_count"] == len(expected) == 36
    assert [i["full_name"] for i in body["items"]] == [e["full_name"] for e in expected[:10]]
    assert 'rel="next"' in answer.headers["Link"] and "page=4" in answer.headers["Link"]
    assert answer.headers["X-RateLimit-Resource"] == "search"
    assert answer.headers["X-RateLimit-Remaining"] == "29"
    words = requests.get(url, params={"q": "science"}, headers={"Authorization": f"token {SECRET}"})
    assert [i["full_name"] for i in words.json()["items"]] == ["scipy/scipy"]
    refused = requests.get(url, params={"q": "is:fork"})
    assert refused.status_code == 422


def test_discover_writes_a_study_file_that_crawl_reads(search_api, tmp_path):
    output = tmp_path / "study.toml"
    result = _discover(
        search_api.url,
        output,
        "-vv",  # every log line, PyGithub's and urllib3's too, goes to the output
        "--group", "ml", "topic:deep-learning stars:>5000",
        "--group", "traditional", "topic:scientific-computing stars:>=1000",
        "--group", "ml", "numpy",  # a second query of a group; numpy is traditional already
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "74 repositories (ml: 72, traditional: 2)" in result.output
    study = tomllib.loads(output.read_text(encoding="utf-8"))
    assert study["groups"]["traditional"] == ["numpy/numpy", "scipy/scipy"]
    ml = [e for e in _catalog() if "deep-learning" in e["topics"] and e["stars"] > 5000]
    assert study["groups"]["ml"] == [e["full_name"] for e in ml]  # most stars first
    assert study["queries"]["ml"] == ["topic:deep-learning stars:>5000", "numpy"]
    assert study["repositories"]["numpy/numpy"] == {
        "group": "traditional", "stars": 26_000, "created_at": "2010-09-13T23:02:39Z"
    }  # fmt: skip
    specs = load_study(output)
    assert specs[0] == RepositorySpec("dl000/net", "ml")
    assert RepositorySpec("scipy/scipy", "traditional") in specs and len(specs) == 74
    assert "DEBUG" in result.output and SECRET not in result.output  # never logged
    assert search_api.remaining(SECRET, "search") == 30 - 3  # a page per query


def test_discover_limit_and_a_spent_search_limit_is_waited_out(search_api, tmp_path):
    search_api.settings.search_budget = 1
    search_api.settings.search_reset_seconds = 1.0
    output = tmp_path / "study.toml"
    result = _discover(
        search_api.url, output, "--limit", "250", "--group", "ml", "topic:deep-learning"
    )
    assert result.exit_code == 0, result.output
    study = tomllib.loads(output.read_text(encoding="utf-8"))
    assert len(study["groups"]["ml"]) == 130  # 2 pages of 100, the second waiting for a reset
    assert search_api.stats.requests >= 3  # a refused request, then the page asked again
    assert SECRET not in result.output


def test_a_query_past_the_first_1000_results_is_cut_there_with_advice(tmp_path):
    (tmp_path / "corpus").mkdir()
    many = [{"full_name": f"o{n}/r", "stars": n, "topics": ["ml"]} for n in range(1100)]
    output = tmp_path / "study.toml"
    with FakeGitHub(tmp_path / "corpus", catalog=many, search_budget=100) as api:
        result = _discover(api.url, output, "--group", "ml", "topic:ml")
    assert result.exit_code == 0, result.output
    names = tomllib.loads(output.read_text(encoding="utf-8"))["groups"]["ml"]
    assert len(names) == 1000 and names[0] == "o1099/r" and names[-1] == "o100/r"
    assert "matches 1100 repositories" in result.output and "stars:100..500" in result.output


def test_discover_errors_are_one_line(search_api, tmp_path):
    bad = CliRunner().invoke(
        main,
        ["discover", "--api-url", search_api.url, "--token", "wrong", "-o",
         str(tmp_path / "s.toml"), "--group", "ml", "topic:x", "--retries", "0"],
    )  # fmt: skip
    assert bad.exit_code == 1
    assert bad.output.startswith("Error: search 'topic:x' failed (HTTP 401)")
    assert "GITHUB_TOKEN" in bad.output and len(bad.output.strip().splitlines()) == 1
    unsupported = _discover(search_api.url, tmp_path / "s.toml", "--group", "ml", "is:fork")
    assert unsupported.exit_code == 1 and "HTTP 422" in unsupported.output
