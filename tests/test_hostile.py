"""A hostile GitHub: the stand-in, on 127.0.0.1, answers with endless and trickling bodies,
bodies cut short or not JSON, `Link` URLs on another host, a repository name that climbs out of
/repos/, and items with lone surrogates and NUL. Nothing hangs, nothing leaks the token, every
error is one line, what can be stored is, and no CSV the toolkit writes carries a formula
(issue 12, items 2, 3, 4, 5, 6 and 8).

The data is written here, not read from ../shared/corpus.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from db import open_database, schema
from db.csvfiles import FORMULA_STARTS
from miner.fake_github import FakeGitHub
from miner.transport import AnswerTooLarge, AnswerTooSlow, InvalidRepositoryName, RetriesExhausted
from mlissues.cli import main
from tests.crawl_support import FAST, comment, count, crawl, dump, edge_corpus, issue

EDGE = "octo/edge"


@pytest.fixture(scope="module")
def edge(tmp_path_factory) -> Path:
    return edge_corpus(tmp_path_factory.mktemp("hostile"))


@pytest.fixture
def api(edge):
    with FakeGitHub(edge) as server:
        yield server


def cli(*args: str):
    return CliRunner().invoke(main, ["-q", "crawl", *args])


def one_line_error(result, *expected: str) -> None:
    """Exit 1 and one `Error:` line, the last (warnings logged on the way may precede it)."""
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[-1].startswith("Error: ") and "Traceback" not in result.output, result.output
    assert sum(line.startswith("Error: ") for line in lines) == 1
    for text in expected:
        assert text in result.output


# --- 2. bounded answers ----------------------------------------------------------------------


def test_an_endless_answer_stops_at_the_size_cap(api, tmp_path):
    api.inject("endless", match="/issues?", seconds=20, size=200 * 2**20)
    started = time.monotonic()
    with pytest.raises(AnswerTooLarge, match="larger than 1 MB"):
        crawl(f"sqlite:///{tmp_path / 'a.db'}", api.url, [EDGE], policy=_policy(max_body=2**20))
    assert time.monotonic() - started < 10

    api.inject("endless", match="/issues?", seconds=20, size=200 * 2**20)
    result = cli(EDGE, "--db", str(tmp_path / "b.db"), "--api-url", api.url, "--token", "t",
                 "--max-response-mb", "1")  # fmt: skip
    one_line_error(result, "larger than 1 MB", "run the same command again")


def test_a_trickling_answer_stops_at_the_deadline(api, tmp_path):
    # A byte every 0.05 s never trips the per-read timeout; only the deadline ends it.
    api.inject("trickle", match="/issues?", interval=0.05, seconds=8)
    started = time.monotonic()
    with pytest.raises(AnswerTooSlow, match="took longer than 1 s"):
        crawl(f"sqlite:///{tmp_path / 'a.db'}", api.url, [EDGE], policy=_policy(deadline=1))
    assert time.monotonic() - started < 5

    api.inject("trickle", match="/issues?", interval=0.05, seconds=8)
    result = cli(EDGE, "--db", str(tmp_path / "b.db"), "--api-url", api.url, "--token", "t",
                 "--request-deadline", "1")  # fmt: skip
    one_line_error(result, "took longer than 1 s", "run the same command again")


def _policy(**bounds):
    return dataclasses.replace(FAST, **bounds)


# --- 3. the token stays on the API host ------------------------------------------------------


def test_the_token_never_follows_a_link_to_another_host(edge, tmp_path):
    with FakeGitHub(edge) as foreign, FakeGitHub(edge, link_url=foreign.host_url) as home:
        # the events listing pages through Link URLs, which now point at the foreign server
        crawl(f"sqlite:///{tmp_path / 'x.db'}", home.url, [EDGE], events=True, per_page=3)
        assert foreign.stats.requests > 0
        assert set(foreign.stats.tokens) == {None}
        assert set(home.stats.tokens) == {"t0"}


# --- 4. surrogates and NUL -------------------------------------------------------------------


def test_surrogates_and_nul_are_stored_replaced_and_the_raw_json_as_received(db_url, api):
    hostile = issue(
        20,
        "2021-01-01T00:00:00Z",
        title="lone \ud800 surrogate",
        body="nul \x00 byte",
        user={"login": "nul\x00login", "id": 777, "type": "User"},
        labels=[{"id": 5, "name": "bad\ud800label", "color": "\x00"}],
    )
    api.put(EDGE, "issues", [hostile])
    api.put(EDGE, "comments", [comment(900, 20, "2021-01-02T00:00:00Z", body="\udfff\x00")])

    crawl(db_url, api.url, [EDGE])
    crawl(db_url, api.url, [EDGE])  # the rerun is a no-op, not a failure

    engine = open_database(db_url)
    with engine.connect() as connection:
        row = connection.execute(select(schema.issues).where(schema.issues.c.number == 20)).one()
        login = connection.execute(
            select(schema.users.c.login).where(schema.users.c.id == 777)
        ).scalar_one()
        label = connection.execute(
            select(schema.labels.c.name, schema.labels.c.color).where(schema.labels.c.id == 5)
        ).one()
        body = connection.execute(
            select(schema.comments.c.body).where(schema.comments.c.id == 900)
        ).scalar_one()
    engine.dispose()
    assert (row.title, row.body, row.user_login) == (
        "lone \ufffd surrogate",
        "nul \ufffd byte",
        "nul\ufffdlogin",
    )
    assert (login, tuple(label), body) == (
        "nul\ufffdlogin",
        ("bad\ufffdlabel", "\ufffd"),
        "\ufffd\ufffd",
    )
    assert "\\ud800" in row.raw_json and "\\u0000" in row.raw_json
    assert json.loads(row.raw_json)["title"] == "lone \ud800 surrogate"
    assert count(db_url, "issues") == 13


# --- 5. repository names ---------------------------------------------------------------------


def test_a_name_that_climbs_out_of_repos_is_refused_before_any_request(api, tmp_path):
    for name in ("../user", "octo/..", "./edge"):
        result = cli(name, "--db", str(tmp_path / "x.db"), "--api-url", api.url, "--token", "t")
        one_line_error(result, "is not a repository name")
    assert api.stats.requests == 0


def test_a_server_named_repository_that_climbs_out_is_not_stored(api, tmp_path):
    api.set_metadata(EDGE, full_name="../../x/y")
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(InvalidRepositoryName, match="not OWNER/REPO"):
        crawl(url, api.url, [EDGE])
    assert count(url, "repositories") == 0
    assert all("/x/y" not in path for path in api.stats.paths)


# --- 8. bodies cut short or not JSON ---------------------------------------------------------


def test_truncated_and_malformed_bodies_are_asked_again_like_a_5xx(api, tmp_path):
    clean = f"sqlite:///{tmp_path / 'clean.db'}"
    crawl(clean, api.url, [EDGE], per_page=5)
    api.inject("truncated", times=2, match="/issues?")
    api.inject("malformed", times=2, match="/comments")
    api.inject("malformed", times=1, match=f"/repos/{EDGE}")
    hostile = f"sqlite:///{tmp_path / 'hostile.db'}"
    crawl(hostile, api.url, [EDGE], per_page=5)
    assert api.stats.faults == 5
    assert dump(hostile) == dump(clean)


def test_a_body_broken_every_time_is_one_line_and_keeps_what_was_stored(api, tmp_path):
    api.inject("truncated", times=100, match="/comments")
    db = tmp_path / "x.db"
    result = cli(EDGE, "--db", str(db), "--api-url", api.url, "--token", "t",
                 "--retries", "1", "--backoff", "0")  # fmt: skip
    one_line_error(result, "broke off", "run the same command again")
    assert count(f"sqlite:///{db}", "issues") == 12
    api.clear_faults()
    api.inject("malformed", times=100, match="/comments")
    with pytest.raises(RetriesExhausted, match="not valid JSON"):
        crawl(f"sqlite:///{db}", api.url, [EDGE])


# --- 6. formula cells ------------------------------------------------------------------------

FORMULAS = {
    "label": '=HYPERLINK("http://evil.example","click")',
    "author": "+cmd|' /C calc'!A0",
    "closer": "@SUM(1+1)",
    "second label": "\t-2+3",
    "annotator": "=1+2",
    "note": "-1 is what it printed",
}


def test_formula_cells_are_neutralized_in_every_csv_and_numbers_stay_numbers(api, tmp_path):
    hostile = issue(
        13,
        "2021-01-01T00:00:00Z",
        id=-42,  # negative, as the study imports make them: a number, never prefixed
        state="closed",
        closed_at="2021-01-01T00:00:00Z",
        user={"login": FORMULAS["author"], "id": 700, "type": "User"},
        closed_by={"login": FORMULAS["closer"], "id": 701, "type": "User"},
        labels=[{"id": 7, "name": FORMULAS["label"]}, {"id": 8, "name": FORMULAS["second label"]}],
    )
    api.put(EDGE, "issues", [hostile])
    db = tmp_path / "x.db"
    crawl(f"sqlite:///{db}", api.url, [EDGE])
    labels = tmp_path / "in.csv"
    with labels.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(
            [
                ["repository", "number", "category", "annotator", "note"],
                [EDGE, "13", "MLEAK", FORMULAS["annotator"], FORMULAS["note"]],
            ]
        )
    runner = CliRunner()
    assert runner.invoke(main, ["label", "import", "--db", str(db), str(labels)]).exit_code == 0
    out = tmp_path / "dataset"
    assert runner.invoke(main, ["export", "--db", str(db), "--out", str(out)]).exit_code == 0
    exported = tmp_path / "labels.csv"
    result = runner.invoke(main, ["label", "export", "--db", str(db), "--out", str(exported)])
    assert result.exit_code == 0

    cells = []
    for path in [*out.glob("*.csv"), exported]:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        cells += [
            (path.name, header, cell)
            for row in rows[1:]
            for header, cell in zip(rows[0], row, strict=True)
        ]
    formulas = [c for c in cells if c[2].startswith(FORMULA_STARTS)]
    assert {(header, cell) for _, header, cell in formulas} == {("issue_id", "-42")}
    shown = {cell for _, _, cell in cells}
    assert {"'" + text for text in FORMULAS.values()} <= shown

    fresh = tmp_path / "fresh.db"
    crawl(f"sqlite:///{fresh}", api.url, [EDGE])
    assert (
        runner.invoke(main, ["label", "import", "--db", str(fresh), str(exported)]).exit_code == 0
    )
    engine = open_database(f"sqlite:///{fresh}")
    with engine.connect() as connection:
        stored = connection.execute(
            select(schema.annotations.c.annotator, schema.annotations.c.note)
        ).one()
    engine.dispose()
    assert tuple(stored) == (FORMULAS["annotator"], FORMULAS["note"])
