"""Agreement between annotators: Cohen's kappa, Krippendorff's alpha, disagreements, adjudication.

The pure functions take a ratings frame (issue_id, annotator, category); `agreement_report`
reads one from the database. Skipped answers never count; unsure ones count when they carry a
category, unless include_unsure=False.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import krippendorff
import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from classifier.labeling import store
from db import schema
from taxonomy import Taxonomy, default_taxonomy


class AgreementError(ValueError):
    """Agreement cannot be computed as asked (e.g. an unknown annotator)."""


def cohen_kappa(first: Sequence, second: Sequence) -> float:
    """Cohen's kappa of two raters over the same items; NaN when chance agreement is 1."""
    a, b = np.asarray(first, dtype=object), np.asarray(second, dtype=object)
    if len(a) != len(b) or len(a) == 0:
        raise AgreementError("kappa needs two equally long, non-empty lists of ratings")
    categories = sorted(set(a) | set(b), key=str)
    observed = float(np.mean(a == b))
    expected = sum(float(np.mean(a == c)) * float(np.mean(b == c)) for c in categories)
    if expected == 1.0:
        return float("nan")
    return (observed - expected) / (1.0 - expected)


def krippendorff_alpha(matrix: pd.DataFrame) -> float:
    """Nominal alpha of a units x annotators frame of categories (missing = NaN/None).

    NaN when the data hold fewer than two distinct values (alpha is undefined then).
    """
    values = sorted(pd.unique(matrix.stack().dropna()), key=str)
    if len(values) < 2:
        return float("nan")
    codes = {value: index for index, value in enumerate(values)}
    data = matrix.apply(lambda column: column.map(codes)).to_numpy(dtype=float).T
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def rating_matrix(ratings: pd.DataFrame, annotators: Sequence[str]) -> pd.DataFrame:
    """Issues x annotators, keeping only issues rated by at least two of them."""
    subset = ratings[ratings.annotator.isin(annotators)]
    matrix = subset.pivot(index="issue_id", columns="annotator", values="category")
    matrix = matrix.reindex(columns=list(annotators))
    return matrix[matrix.notna().sum(axis=1) >= 2]


def _pair_kappa(matrix: pd.DataFrame, first: str, second: str) -> tuple[int, float]:
    both = matrix[[first, second]].dropna()
    return len(both), (cohen_kappa(both[first], both[second]) if len(both) else float("nan"))


def one_vs_rest(matrix: pd.DataFrame, code: str) -> pd.DataFrame:
    """1.0 where the annotator chose `code`, 0.0 where another category, NaN where unrated."""
    return matrix.apply(lambda column: column.map(lambda v: v if pd.isna(v) else float(v == code)))


@dataclass(frozen=True)
class AgreementReport:
    annotators: tuple[str, ...]
    units: int  # issues rated by at least two of the annotators
    alpha: float
    kappa: float | None  # only for exactly two annotators
    per_category: pd.DataFrame  # category, ratings, kappa (two annotators), alpha
    pairwise: pd.DataFrame  # first, second, units, kappa
    disagreements: pd.DataFrame


def agreement_from_ratings(
    ratings: pd.DataFrame, annotators: Sequence[str], taxonomy: Taxonomy
) -> AgreementReport:
    """Overall and per-category agreement of `annotators` on the issues several of them rated."""
    if len(annotators) < 2:
        raise AgreementError("agreement needs at least two annotators")
    matrix = rating_matrix(ratings, annotators)
    pairwise = pd.DataFrame(
        [(a, b, *_pair_kappa(matrix, a, b)) for a, b in combinations(annotators, 2)],
        columns=["first", "second", "units", "kappa"],
    )
    two = len(annotators) == 2
    rows = []
    for code in taxonomy.codes:
        binary = one_vs_rest(matrix, code)
        rows.append(
            {
                "category": code,
                "ratings": int((matrix == code).sum().sum()),
                "kappa": _pair_kappa(binary, *annotators)[1] if two else float("nan"),
                "alpha": krippendorff_alpha(binary),
            }
        )
    return AgreementReport(
        annotators=tuple(annotators),
        units=len(matrix),
        alpha=krippendorff_alpha(matrix),
        kappa=float(pairwise.kappa.iloc[0]) if two else None,
        per_category=pd.DataFrame(rows),
        pairwise=pairwise,
        disagreements=matrix[matrix.nunique(axis=1) > 1],
    )


# --- from the database ------------------------------------------------------------------------


def ratings_frame(engine: Engine, include_unsure: bool = True) -> pd.DataFrame:
    """Annotations of kind 'label' that carry a category."""
    frame = store.annotations_frame(engine, kind="label")
    statuses = ["labeled", "unsure"] if include_unsure else ["labeled"]
    return frame[frame.status.isin(statuses) & frame.category.notna()]


def agreement_report(
    engine: Engine,
    annotators: Sequence[str] | None = None,
    *,
    include_unsure: bool = True,
    taxonomy: Taxonomy | None = None,
) -> AgreementReport:
    """Agreement among the named annotators (default: everyone who labeled)."""
    ratings = ratings_frame(engine, include_unsure)
    known = sorted(ratings.annotator.unique())
    chosen = list(annotators) if annotators else known
    missing = [name for name in chosen if name not in known]
    if missing:
        listed = ", ".join(known) or "none"
        raise AgreementError(f"no labels by {', '.join(missing)}; annotators with labels: {listed}")
    report = agreement_from_ratings(ratings, chosen, taxonomy or default_taxonomy())
    side_by_side = disagreements_side_by_side(engine, ratings, report.disagreements)
    return AgreementReport(**{**report.__dict__, "disagreements": side_by_side})


def disagreements_side_by_side(
    engine: Engine, ratings: pd.DataFrame, matrix: pd.DataFrame
) -> pd.DataFrame:
    """One row per disputed issue: reference, title, each annotator's category and note,
    and the adjudicated category if there is one."""
    columns = ["issue_id", "repository", "number", "title"]
    if matrix.empty:
        return pd.DataFrame(columns=[*columns, *matrix.columns, "adjudicated"])
    ids = matrix.index.tolist()
    notes = ratings[ratings.issue_id.isin(ids)].pivot(
        index="issue_id", columns="annotator", values="note"
    )
    notes = notes.reindex(columns=matrix.columns).add_suffix(" note")
    adjudicated = store.annotations_frame(engine, kind="adjudication").set_index("issue_id")[
        "category"
    ]
    frame = matrix.join(notes).assign(adjudicated=adjudicated.reindex(ids).to_numpy())
    return _issue_references(engine, ids).join(frame, on="issue_id")


def _issue_references(engine: Engine, issue_ids: list[int]) -> pd.DataFrame:
    i, r = schema.issues, schema.repositories
    statement = (
        select(i.c.id.label("issue_id"), r.c.full_name.label("repository"), i.c.number, i.c.title)
        .join(r, r.c.id == i.c.repository_id)
        .where(i.c.id.in_(issue_ids))
        .order_by(r.c.full_name, i.c.number)
    )
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
    return pd.DataFrame(rows, columns=["issue_id", "repository", "number", "title"])


def adjudicate(
    engine: Engine,
    issue_id: int,
    category: str,
    adjudicator: str,
    note: str = "",
    taxonomy: Taxonomy | None = None,
) -> store.Annotation:
    """Record the settled category of a disputed issue (kind='adjudication')."""
    taxonomy = taxonomy or default_taxonomy()
    annotation = store.Annotation(
        issue_id, adjudicator, taxonomy.normalize(category), "labeled", "adjudication", note
    )
    with engine.begin() as connection:
        store.save_annotations(connection, [annotation], taxonomy.version)
    return annotation
