"""Training labels: read a labels CSV or the annotations table, and resolve one label per issue.

The final label of an issue is `human_categories`: its latest adjudication, else the label all its
annotators agree on. Skipped and unsure annotations do not count. The study (analysis.queries)
and the labeling session use the same function.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from db.csvfiles import CsvFileError, csv_records, read_csv_text
from db.schema import annotations, issues, repositories
from taxonomy import Taxonomy, UnknownCategoryError, default_taxonomy

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("repository", "number", "category")
OPTIONAL_COLUMNS = ("annotator", "kind", "note")
KINDS = ("label", "adjudication")
LABEL_COLUMNS = ["repository", "number", "category", "annotator", "kind", "note", "line"]


class LabelsFileError(ValueError):
    """A labels file cannot be used; the message names the file and line."""


def _row(raw: dict, line: int, path: Path, taxonomy: Taxonomy) -> dict:
    where = f"{path}, line {line}"
    repository = (raw.get("repository") or "").strip()
    if "/" not in repository:
        raise LabelsFileError(f"{where}: repository {repository!r} is not OWNER/NAME")
    try:
        number = int((raw.get("number") or "").strip())
    except ValueError:
        raise LabelsFileError(
            f"{where}: issue number {raw.get('number')!r} is not an integer"
        ) from None
    try:
        category = taxonomy.normalize(raw.get("category") or "")
    except UnknownCategoryError as error:
        raise LabelsFileError(f"{where}: {error}") from None
    kind = (raw.get("kind") or "label").strip().lower()
    if kind not in KINDS:
        raise LabelsFileError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    return {
        "repository": repository,
        "number": number,
        "category": category,
        "annotator": (raw.get("annotator") or "").strip() or "unknown",
        "kind": kind,
        "note": (raw.get("note") or "").strip(),
        "line": line,
    }


def read_labels_csv(path: str | Path, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Every row of a labels CSV, validated against the taxonomy (codes normalized).

    Columns: repository, number, category, annotator, kind ('label' or 'adjudication'), note,
    line (the CSV line number, header = line 1). Raises LabelsFileError naming the line of the
    first bad row. The file is read as db.csvfiles reads every CSV (UTF-8, optional BOM).
    """
    path = Path(path)
    taxonomy = taxonomy or default_taxonomy()
    try:
        records = csv_records(read_csv_text(path))
        header = [name.strip() for name in next(records, (1, []))[1]]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise LabelsFileError(f"{path}: missing column(s) {', '.join(missing)}")
        rows = [
            _row(dict(zip(header, fields, strict=False)), line, path, taxonomy)
            for line, fields in records
            if any(field.strip() for field in fields)
        ]
    except CsvFileError as error:
        raise LabelsFileError(f"{path}: {error}") from None
    return pd.DataFrame(rows, columns=LABEL_COLUMNS)


def human_categories(rows: pd.DataFrame, key: str | list[str]) -> pd.Series:
    """The category people gave each item, by `key` (one rule for training, labeling and the
    study): the latest adjudication, else the label every annotator chose (a single annotator
    counts as agreement). Items whose annotators disagree with no adjudication get none.

    rows: columns `key`, category and kind ('label' or 'adjudication'), one row per answered
    annotation (not skipped or unsure), oldest first.
    """
    keys = [key] if isinstance(key, str) else list(key)
    if rows.empty:
        return pd.Series(dtype=object, name="category")
    adjudicated = rows[rows["kind"] == "adjudication"].groupby(keys, sort=False)["category"].last()
    votes = rows[rows["kind"] == "label"].groupby(keys, sort=False)["category"]
    agreed = votes.first()[votes.nunique() == 1]
    agreed = agreed[~agreed.index.isin(adjudicated.index)]
    return pd.concat([adjudicated, agreed]).rename("category")


def final_labels(rows: pd.DataFrame) -> pd.DataFrame:
    """One label per (repository, number) by `human_categories`; issues with an unresolved
    disagreement are left out (and counted in the log), never settled by vote order."""
    if rows.empty:
        return pd.DataFrame(columns=["repository", "number", "category"])
    rows = rows.assign(key=rows["repository"].str.lower())
    categories = human_categories(rows, ["key", "number"])
    unresolved = rows.drop_duplicates(["key", "number"]).shape[0] - len(categories)
    if unresolved:
        log.warning("%d issues have disagreeing labels and no adjudication: left out", unresolved)
    names = rows.drop_duplicates(["key", "number"]).set_index(["key", "number"])["repository"]
    frame = categories.reset_index()
    frame["repository"] = [
        names[(k, n)] for k, n in zip(frame["key"], frame["number"], strict=True)
    ]
    order = rows.drop_duplicates(["key", "number"])[["key", "number"]]
    frame = order.merge(frame, on=["key", "number"])
    return frame[["repository", "number", "category"]].reset_index(drop=True)


def annotation_rows(engine: Engine, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Labeled annotations in the database (not skipped or unsure) as label rows."""
    taxonomy = taxonomy or default_taxonomy()
    query = (
        select(
            repositories.c.full_name.label("repository"),
            issues.c.number,
            annotations.c.category,
            annotations.c.annotator,
            annotations.c.kind,
            annotations.c.note,
        )
        .join(issues, issues.c.id == annotations.c.issue_id)
        .join(repositories, repositories.c.id == issues.c.repository_id)
        .where(annotations.c.status == "labeled", annotations.c.category.is_not(None))
        .order_by(annotations.c.created_at, annotations.c.id)
    )
    with engine.connect() as connection:
        frame = pd.DataFrame(
            [{str(k): v for k, v in row._mapping.items()} for row in connection.execute(query)]
        )
    if frame.empty:
        return pd.DataFrame(columns=LABEL_COLUMNS)
    frame["category"] = [taxonomy.normalize(code) for code in frame["category"]]
    frame["line"] = None
    return frame[LABEL_COLUMNS]
