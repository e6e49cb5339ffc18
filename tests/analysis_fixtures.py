"""A small synthetic study database for the analysis tests and the notebook (no corpus text).

Two repositories in two groups, issues with every category source (adjudicated, agreeing and
disagreeing annotators, confident and abstaining predictions), open and closed issues, named
commenters and closers.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from sqlalchemy import select
from sqlalchemy.engine import Engine

from analysis import replication
from db import open_database, schema, upsert
from miner import makkouk
from miner.store import Provenance, ensure_repository, save_comments, save_events, save_issues

START = datetime(2020, 1, 1)
PROVENANCE = Provenance("http://127.0.0.1/test", "test", datetime(2026, 1, 1))
REPOSITORIES = {"acme/mlframe": "ml", "acme/webframe": "traditional"}
CATEGORIES = ("MLEAK", "COMPL", "EXEC", "NSR")
PEOPLE = ("ada", "bob", "cy", "dee")


def _user(login: str) -> dict:
    return {"login": login, "id": 1000 + sum(map(ord, login)), "type": "User"}


def issue(number: int, repo_index: int, title: str | None = None) -> dict:
    """A GitHub-shaped issue; every 5th stays open, the others close after `number` days."""
    created = START + timedelta(days=7 * number + repo_index)
    closed = None if number % 5 == 0 else created + timedelta(days=number % 9 + 0.5)
    stamp = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else None  # noqa: E731
    return {
        "id": 10_000 * (repo_index + 1) + number,
        "number": number,
        "title": title or f"synthetic issue {number}",
        "body": "synthetic",
        "state": "closed" if closed else "open",
        "user": _user(PEOPLE[number % 4]),
        "closed_by": _user(PEOPLE[number % 2]) if closed else None,
        "author_association": "MEMBER" if number % 3 == 0 else "NONE",
        "labels": [{"id": 900 + repo_index, "name": "bug"}],
        "comments": number % 4,
        "created_at": stamp(created),
        "updated_at": stamp(closed or created),
        "closed_at": stamp(closed),
    }


def comments(issue_item: dict, repo: str) -> list[dict]:
    created = issue_item["created_at"]
    return [
        {
            "id": issue_item["id"] * 10 + k,
            "issue_url": f"https://api.github.com/repos/{repo}/issues/{issue_item['number']}",
            "user": _user(PEOPLE[(issue_item["number"] + k) % 4]),
            "body": "synthetic comment",
            "created_at": created,
            "updated_at": created,
        }
        for k in range(issue_item["comments"])
    ]


def annotation(issue_id: int, annotator: str, category: str | None, **extra) -> dict:
    row = {
        "issue_id": issue_id,
        "annotator": annotator,
        "category": category,
        "status": "labeled" if category else "skipped",
        "kind": "label",
        "created_at": START,
    }
    return row | extra


MODEL = "test-1"


def probabilities(category: str, probability: float) -> dict[str, float]:
    """Every class's probability: `probability` on category, the rest spread evenly."""
    rest = (1 - probability) / (len(CATEGORIES) - 1)
    return {code: probability if code == category else rest for code in CATEGORIES}


def prediction(issue_id: int, category: str, probability: float, abstained: bool = False):
    return {
        "issue_id": issue_id,
        "model_version": MODEL,
        "category": category,
        "probability": probability,
        "abstained": abstained,
        "probabilities": probabilities(category, probability),
        "created_at": START,
    }


def out_of_fold_record(n: int = 200) -> dict:
    """A model's measured error: 80% of decisions right, the others on the next class."""
    labels, rows = [], []
    for i in range(n):
        truth = CATEGORIES[i % len(CATEGORIES)]
        decided = truth if i % 5 else CATEGORIES[(i + 1) % len(CATEGORIES)]
        labels.append(truth)
        rows.append([probabilities(decided, 0.7)[code] for code in CATEGORIES])
    return {"classes": list(CATEGORIES), "labels": labels, "probabilities": rows}


def register_model(connection) -> None:
    row = {
        "version": MODEL,
        "trained_at": START,
        "taxonomy_version": "test",
        "artifact_path": None,
        "metrics": {"out_of_fold": out_of_fold_record()},
        "card": {"version": MODEL, "threshold": 0.5},
    }
    upsert(connection, schema.models, [row], ["version"])


def category_of(number: int, repo_index: int) -> str:
    return CATEGORIES[(number + repo_index) % 4]


def build_study_db(
    url: str, per_repo: int = 30, title: str | None = None, all_human: bool = False
) -> Engine:
    """Fill a database at url; `title` replaces the title of the first issue. all_human: people
    labeled every issue (category_of), so category shares are plain counts."""
    engine = open_database(url, create=True)
    annotations, predictions = [], []
    with engine.begin() as connection:
        for index, (repo, group) in enumerate(REPOSITORIES.items()):
            repo_id = ensure_repository(connection, repo, "http://127.0.0.1", group)
            items = [issue(n, index, title if n == 1 else None) for n in range(1, per_repo + 1)]
            pull_request = issue(per_repo + 1, index) | {"pull_request": {}}
            save_issues(connection, repo_id, [*items, pull_request], PROVENANCE)
            save_comments(
                connection, repo_id, [c for i in items for c in comments(i, repo)], PROVENANCE
            )
            for item in items:
                category = category_of(item["number"], index)
                if item["number"] % 2 or all_human:  # odd: humans
                    annotations.append(annotation(item["id"], "ann1", category))
                else:  # even: the classifier, half of it confident
                    probability = 0.9 if item["number"] % 4 == 0 else 0.3
                    abstained = probability < 0.5
                    predictions.append(prediction(item["id"], category, probability, abstained))
        upsert(connection, schema.annotations, annotations, ["issue_id", "annotator", "kind"])
        register_model(connection)
        upsert(connection, schema.predictions, predictions, ["issue_id", "model_version"])
    return engine


def fixed_with_commit(number: int) -> bool:
    """Whether a closed issue was closed by a commit (by `add_close_events`)."""
    return number % 3 != 0


def add_close_events(engine: Engine) -> None:
    """A 'closed' event for every closed issue, by its closer (PEOPLE[number % 2]); those with
    fixed_with_commit(number) carry the commit, as GitHub's "closed this in <sha>"."""
    i, r = schema.issues, schema.repositories
    with engine.begin() as connection:
        closed = connection.execute(
            select(i.c.id, i.c.number, i.c.closed_at, r.c.full_name, i.c.repository_id)
            .join(r, r.c.id == i.c.repository_id)
            .where(i.c.state == "closed", i.c.is_pull_request.is_(False))
        ).all()
        for row in closed:
            event = {
                "id": row.id * 10,
                "event": "closed",
                "actor": _user(PEOPLE[row.number % 2]),
                "commit_id": f"{row.id:040x}" if fixed_with_commit(row.number) else None,
                "created_at": row.closed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "issue": {"number": row.number},
            }
            save_events(connection, row.repository_id, [event], PROVENANCE)


def text_outside(figure) -> list[str]:
    """What reaches past the figure's edges: a panel with everything it draws (title, labels,
    tick labels, legend), or a text of the figure itself (the caption)."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    bounds = figure.bbox.padded(1)
    drawn = {f"panel {a.get_title(loc='left')!r}": a.get_tightbbox(renderer) for a in figure.axes}
    in_panels = {id(text) for axis in figure.axes for text in axis.findobj(Text)}
    for text in figure.findobj(Text):
        if id(text) not in in_panels and text.get_visible() and text.get_text().strip():
            drawn[text.get_text()[:40]] = text.get_window_extent(renderer)
    return [
        name
        for name, box in drawn.items()
        if not (bounds.contains(box.x0, box.y0) and bounds.contains(box.x1, box.y1))
    ]


# --- a published study's files -------------------------------------------------------------


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def write_synthetic_study(folder: Path, per_file: int = 16) -> None:
    """Bugs spread over each framework's window (performance bugs over its second half); a
    third stay open, every other closed one has a fixing commit; performance bugs are
    discussed more."""
    for name, (full_name, subset) in makkouk.FILES.items():
        first, last = replication.MAKKOUK.windows[full_name]
        start, end = pd.Timestamp(first), pd.Timestamp(last)
        if subset == "perf":
            start += (end - start) / 2
        step = (end - start) / per_file
        bugs, fixes = [], []
        for k in range(per_file):
            number = 1000 * (subset == "perf") + k + 1
            opened = (start + step * k + timedelta(hours=k)).to_pydatetime()
            closed = opened + timedelta(days=5 + 3 * k) if k % 3 else None
            comments = k % 4 + 2 * (subset == "perf")
            bugs.append(
                {
                    "Issue.ID": number,
                    "Author": f"user{k % 5}",
                    "Date.Opened": opened.strftime("%Y-%m-%d %H:%M"),
                    "Number.of.Comment.s.": comments,
                    "Date.of.first.comment": opened.strftime("%Y-%m-%d %H:%M"),
                    "Date.of.last.time.closed": closed.strftime("%Y-%m-%d %H:%M")
                    if closed
                    else "Not found",
                    makkouk.COMMENTERS: str({f"dev{j}": 1 for j in range(comments)}),
                    "Issue.labels": "No labels",
                }
            )
            if closed and k % 2:
                commit = (
                    f"({k:040x}, {closed:%Y-%m-%d %H:%M:%S} +0000, Dev {k}, {k}, 1, {k + 1}, LINK)"
                )
                fixes.append(
                    {
                        "Issue.ID": number,
                        "Number.of.issue.solving.commits.found": 1,
                        makkouk.COMMITS_COLUMN: commit,
                    }
                )
        _write_csv(folder / name, makkouk.COLUMNS, bugs)
        _write_csv(folder / name.replace("_bugs_", "_fixes_"), makkouk.FIX_COLUMNS, fixes)
