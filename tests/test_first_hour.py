"""A newcomer's first hour (issue 12, items 13 and 14): the README says how to reach the
`mlissues` command and never leads into a 49-minute anonymous wait; -q/-v work after the
subcommand; progress bars end at 100%; train shows progress."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from miner.fake_github import FakeGitHub
from miner.transport import RateLimited
from mlissues.cli import main
from tests.analysis_fixtures import CATEGORIES, build_study_db
from tests.conftest import REPO_ROOT
from tests.crawl_support import count, crawl, edge_corpus

EDGE = "octo/edge"
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    return edge_corpus(tmp_path_factory.mktemp("first-hour"), count=30)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


# --- 13. the README ------------------------------------------------------------------------


def _shell_lines() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL)
    return [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]


def test_the_readme_says_how_to_reach_the_command_before_using_it():
    lines = _shell_lines()
    first_use = next(i for i, line in enumerate(lines) if line.startswith("mlissues "))
    assert "source .venv/bin/activate" in lines[:first_use]
    assert ".venv/bin/mlissues" in README


def test_every_readme_crawl_of_the_stand_in_passes_a_token():
    local = [line for line in _shell_lines() if "crawl" in line and "127.0.0.1" in line]
    assert local and all("--token" in line for line in local)


def test_an_anonymous_crawl_stops_with_advice_instead_of_sleeping_an_hour(edge, tmp_path):
    sleeps: list[float] = []
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with (
        FakeGitHub(edge, anonymous_budget=3) as api,
        pytest.raises(RateLimited, match="pass --token"),
    ):
        crawl(url, api.url, [EDGE], tokens=(), sleep=sleeps.append, per_page=5)
    assert sleeps == []
    assert count(url, "issues") > 0  # what came is kept


# --- 14. -q/-v anywhere, bars that end, train that shows progress ---------------------------


def test_quiet_and_verbose_work_after_the_subcommand(edge, tmp_path):
    db = str(tmp_path / "x.db")
    with FakeGitHub(edge) as api:
        quiet = run("crawl", EDGE, "-q", "--db", db, "--api-url", api.url, "--token", "t")
    assert quiet.exit_code == 0, quiet.output
    assert quiet.output == ""  # no bars, no summary, no INFO lines
    verbose = run("status", "--db", db, "-v")
    assert verbose.exit_code == 0 and EDGE in verbose.output
    assert run("label", "export", "--db", db, "-q").exit_code == 0


def test_progress_bars_end_at_100_percent(edge, tmp_path):
    with FakeGitHub(edge) as api:
        result = run("crawl", EDGE, "--db", str(tmp_path / "x.db"), "--api-url", api.url,
                     "--token", "t", "--per-page", "7", "--events")  # fmt: skip
    assert result.exit_code == 0, result.output
    for endpoint in ("issues", "comments", "events"):
        states = [s for s in re.split(r"[\r\n]", result.output) if f"{EDGE} {endpoint}:" in s]
        assert "100%" in states[-1], states[-1]


def test_train_shows_progress_while_it_cross_validates(tmp_path):
    db = tmp_path / "x.db"
    build_study_db(f"sqlite:///{db}").dispose()
    labels = tmp_path / "labels.csv"
    rows = [f"acme/mlframe,{n},{CATEGORIES[n % 4]}" for n in range(1, 31)]
    labels.write_text("repository,number,category\n" + "\n".join(rows) + "\n")
    result = run("train", "--db", str(db), "--labels", str(labels), "--folds", "2",
                 "--repeats", "1", "--out", str(tmp_path / "model"),
                 "--report", str(tmp_path / "report"))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "cross-validating gated: 100%" in result.output
