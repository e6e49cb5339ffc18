"""The scale benchmark's synthetic database (benchmarks/synthetic_db.py) at 2,000 issues, so that
the million-issue benchmark cannot rot: what is copied, and that figures and export run on it."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select

from analysis.export import export_dataset
from analysis.report import build_report
from benchmarks.synthetic_db import replicate
from db import open_database, schema
from tests.analysis_fixtures import build_study_db


def _count(connection, table, *where) -> int:
    return connection.execute(select(func.count()).select_from(table).where(*where)).scalar()


def test_replicated_study_holds_copies_and_feeds_figures_and_export(tmp_path):
    base = tmp_path / "base.db"
    build_study_db(f"sqlite:///{base}").dispose()
    copies = replicate(base, tmp_path / "big.db", 2_000)
    engine = open_database(f"sqlite:///{tmp_path / 'big.db'}")
    i, r, p, c = schema.issues, schema.repositories, schema.predictions, schema.comments
    with engine.connect() as connection:
        assert _count(connection, i) == 2_000
        assert _count(connection, schema.annotations) == 30  # people labeled the base only
        repositories = connection.execute(select(r.c.full_name, r.c.group_name)).all()
        # Every prediction and comment belongs to a stored issue of its own copy.
        orphans = select(i.c.id).where(i.c.id == p.c.issue_id).exists()
        assert _count(connection, p, ~orphans) == 0
        thread = (i.c.repository_id == c.c.repository_id) & (i.c.number == c.c.issue_number)
        assert _count(connection, c, ~select(i.c.id).where(thread).exists()) == 0
        assert _count(connection, p) > 30 * (copies - 1)
        authors = connection.execute(select(i.c.user_login).distinct()).scalars().all()
        issues_only = _count(connection, i, i.c.is_pull_request.is_(False))
    assert len(repositories) == 2 * (copies + 1) == len({name for name, _ in repositories})
    assert {group for name, group in repositories if "-copy" in name} == {"ml", "traditional"}
    assert len(authors) > 4 * copies  # each copy has people of its own

    report = build_report(engine, tmp_path / "report")
    assert {path.suffix for path in report.figures} == {".pdf", ".png"}
    export_dataset(engine, tmp_path / "dataset")
    issues = pd.read_csv(tmp_path / "dataset" / "issues.csv")
    assert len(issues) == issues_only
    assert issues["category_source"].value_counts()["human"] == 30
