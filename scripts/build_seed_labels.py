"""Merge the seed labeling batches into classifier/data/seed_labels.csv (references only).

Inputs (under data/seed/, not committed: they are the annotators' working files):
labels_batch*.csv and second_annotator.csv (repository,number,category,annotator,note) and, once
disagreements are resolved, adjudications.csv (same columns). Every category is validated
against the taxonomy; the output holds no issue text.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from taxonomy import default_taxonomy

FIELDS = ["repository", "number", "category", "annotator", "kind", "note"]


def read_rows(path: Path, kind: str) -> list[dict]:
    taxonomy = default_taxonomy()
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for line, row in enumerate(rows, start=2):
        try:
            row["category"] = taxonomy.normalize(row["category"])
        except ValueError as error:
            raise SystemExit(f"{path}:{line}: {error}") from None
        row["kind"] = kind
        row["number"] = int(row["number"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-dir", type=Path, default=Path("data/seed"))
    parser.add_argument("--out", type=Path, default=Path("classifier/data/seed_labels.csv"))
    args = parser.parse_args()
    rows: list[dict] = []
    for path in sorted(args.seed_dir.glob("labels_batch*.csv")):
        rows += read_rows(path, "label")
    rows += read_rows(args.seed_dir / "second_annotator.csv", "label")
    adjudications = args.seed_dir / "adjudications.csv"
    if adjudications.exists():
        rows += read_rows(adjudications, "adjudication")
    keys = [(r["repository"], r["number"], r["annotator"], r["kind"]) for r in rows]
    if len(keys) != len(set(keys)):
        raise SystemExit("an annotator labeled the same issue twice; fix the batch files")
    rows.sort(key=lambda r: (r["repository"], r["number"], r["kind"], r["annotator"]))
    with args.out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    issues = {(r["repository"], r["number"]) for r in rows}
    print(f"{len(rows)} annotations of {len(issues)} issues -> {args.out}")


if __name__ == "__main__":
    main()
