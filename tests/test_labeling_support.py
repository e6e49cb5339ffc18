"""Databases for the labeling tests, built from small slices of ../shared/corpus at test time.

No tests here: the fixtures are imported by the test_labeling*/test_agreement* modules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from db import open_database, schema
from miner.corpus import import_folder
from miner.store import add_alias
from tests.corpus_sample import first_issues

# Written by hand for the tests: what an attacker could put into an issue.
HOSTILE_BODY = """Loading a model crashes.
<script>alert('body')</script>
<img src=x onerror="alert('img')">
[click me](javascript:alert('link')) and <a href="javascript:alert(2)">raw link</a>
<iframe src="https://evil.example"></iframe>

```python
print("<b>not bold</b>")
```
"""


def write_slice(corpus: Path, folder: str, count: int, destination: Path) -> Path:
    """The first `count` issues of a corpus folder as an issues.jsonl (no comments)."""
    destination.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(issue) for issue in first_issues(corpus, folder, count)]
    (destination / "issues.jsonl").write_text("\n".join(lines) + "\n")
    return destination


def keras_database(url: str, corpus: Path, extra: Path | None = None) -> sa.Engine:
    """keras-team/keras (65 issues with comments) and, with `extra`, a slice of MXNet stored
    under its new name apache/mxnet with the old name as an alias."""
    engine = open_database(url, create=True)
    import_folder(engine, corpus / "keras-team__keras", "keras-team/keras")
    if extra is not None:
        import_folder(engine, extra, "apache/mxnet")
        with engine.begin() as connection:
            repository_id = connection.execute(
                sa.select(schema.repositories.c.id).where(
                    schema.repositories.c.full_name == "apache/mxnet"
                )
            ).scalar_one()
            add_alias(connection, repository_id, "apache/incubator-mxnet")
    return engine


@pytest.fixture
def engine(db_url, corpus, templates):
    """keras-team/keras only (a copy of a database built once per session)."""
    templates.copy(db_url, "keras", lambda url: keras_database(url, corpus).dispose())
    return open_database(db_url)


@pytest.fixture
def two_repositories(db_url, corpus, templates):
    """keras-team/keras plus 20 MXNet issues as apache/mxnet (alias apache/incubator-mxnet)."""

    def build(url: str) -> None:
        extra = write_slice(corpus, "apache__incubator-mxnet", 20, templates.folder / "mxnet")
        keras_database(url, corpus, extra).dispose()

    templates.copy(db_url, "keras-mxnet", build)
    return open_database(db_url)


@dataclass
class Only:
    """A sampling strategy (classifier.labeling.sampling.Strategy) that offers exactly these
    issues, in this order: how a test puts chosen issues in front of an annotator."""

    ids: list[int]
    name: str = "only"
    adaptive: bool = False

    def rank(self, engine, candidates) -> list[int]:
        present = set(candidates["issue_id"])
        return [issue_id for issue_id in self.ids if issue_id in present]


def annotation_rows(engine) -> list[tuple]:
    """(issue_id, annotator, category, status, kind, note, taxonomy_version), sorted."""
    a = schema.annotations
    columns = (a.c.issue_id, a.c.annotator, a.c.category, a.c.status, a.c.kind, a.c.note)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(*columns, a.c.taxonomy_version)).all()
    return sorted(tuple(row) for row in rows)


def hostile_issue(engine) -> int:
    """Store a copy of a keras issue with a hostile title and body; return its id."""
    from datetime import datetime

    from miner.store import Provenance, save_issues

    with engine.connect() as connection:
        raw, repository_id = connection.execute(
            sa.select(schema.issues.c.raw_json, schema.issues.c.repository_id).limit(1)
        ).one()
    issue = json.loads(raw)
    issue.update(
        id=999_999_001,
        number=999_001,
        title="<script>alert('title')</script> slow",
        body=HOSTILE_BODY,
        labels=[],
    )
    with engine.begin() as connection:
        save_issues(
            connection, repository_id, [issue], Provenance("test", "test", datetime(2026, 1, 1))
        )
    return issue["id"]
