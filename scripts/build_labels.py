"""Merge a labeling round into classifier/data/labels.csv (references and notes only).

Round 2 (data/labeling/, not committed: the annotators' working files):
- batchNN/labels.csv: first and second independent labels, one annotator per batch;
- adjudications.csv: the adjudicator's resolution of every disagreement (kind adjudication);
- review*/changes.csv: labels changed when issues flagged for a convention settled during
  adjudication were re-read (annotator convention-review);
- cleanlab*/changes.csv: labels changed after re-reading the issues cleanlab flagged
  (annotator cleanlab-review);
- roundN/adjudications.csv: the resolution of the disagreements of a later round
  (scripts/label_round.py; annotator adjudicator3).
All three are kind adjudication; the latest adjudication of an issue wins (classifier.labels),
so they are written in the order of the review stages (ADJUDICATION_STAGES).

Rows already in labels.csv from other annotators (round 1) are kept as they are; rows of the
round-2 annotators are replaced, so the script can be rerun.

It also writes classifier/data/label_strata.csv: why each labeled issue was drawn (round and
stratum: `random:<repository>` and `all:<repository>` are probability samples, the others are
enriched), so that population shares can be estimated from the random strata alone.

Every category is validated against the taxonomy and every referenced issue must exist in
../shared/corpus.

    python scripts/build_labels.py [--round-dir data/labeling]
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

from miner.corpus import iter_issues, repo_dirs
from taxonomy import default_taxonomy

FIELDS = ["repository", "number", "category", "annotator", "kind", "note"]
LABELS = Path("classifier/data/labels.csv")
STRATA = Path("classifier/data/label_strata.csv")
ROUND_EXTRA = (
    "adjudications.csv",
    "review*/changes.csv",
    "cleanlab*/changes.csv",
    "round*/adjudications.csv",
)
ADJUDICATION_STAGES = (
    "adjudicator",
    "adjudicator2",
    "convention-review",
    "adjudicator3",  # round 4 on: disagreements of the later rounds, then cleanlab's review
    "cleanlab-review",
)
# A note is the annotator's own words: no links, no @mentions, no code.
_NOT_A_NOTE = re.compile(r"https?://|www\.|@\w|```|\n")


def read_rows(path: Path, kind: str | None = None) -> list[dict]:
    taxonomy = default_taxonomy()
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for line, row in enumerate(rows, start=2):
        try:
            row["category"] = taxonomy.normalize(row["category"])
            row["number"] = int(row["number"])
        except (KeyError, ValueError) as error:
            raise SystemExit(f"{path}:{line}: {error}") from None
        row["kind"] = kind or row.get("kind") or "label"
        row["note"] = " ".join((row.get("note") or "").split())
        if _NOT_A_NOTE.search(row["note"]):
            raise SystemExit(f"{path}:{line}: the note quotes the issue (link, mention or code)")
    return rows


def round_rows(round_dir: Path) -> list[dict]:
    rows: list[dict] = []
    for path in sorted(round_dir.glob("batch*/labels.csv")):
        rows += read_rows(path, "label")
    for pattern in ROUND_EXTRA:
        for path in sorted(round_dir.glob(pattern)):
            rows += read_rows(path, "adjudication")
    return rows


def _order(row: dict) -> tuple:
    stage = row["annotator"] if row["annotator"] in ADJUDICATION_STAGES else ""
    stage_index = ADJUDICATION_STAGES.index(stage) if stage else -1
    return (row["repository"], row["number"], row["kind"], stage_index, row["annotator"])


def corpus_references(corpus: Path) -> set[tuple[str, int]]:
    return {
        (repo, issue["number"])
        for repo, folder in repo_dirs(corpus).items()
        for issue in iter_issues(folder)
    }


def write_strata(labeled: set[tuple[str, int]], round_dir: Path, seed_sample: Path) -> None:
    """Round and stratum of every labeled issue (see the module docstring)."""
    strata: dict[tuple[str, int], tuple[int, str]] = {}
    if seed_sample.exists():  # round 1: scripts/seed_sample.py; its random part is exact
        with seed_sample.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["reason"] == "random":
                    key = (row["repository"], int(row["number"]))
                    strata[key] = (1, f"random:{row['repository']}")
    rounds = [(round_dir / "sample.csv", 2)]
    rounds += [(path, int(path.parent.name[5:])) for path in round_dir.glob("round*/refs.csv")]
    for path, round_number in sorted(rounds, key=lambda pair: pair[1]):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                # round 3 wrote the ranked category alone; later rounds write whole strata
                stratum = (
                    row["stratum"]
                    if ":" in row["stratum"] or round_number == 2
                    else (f"model-ranked:{row['stratum']}")
                )
                strata[(row["repository"], int(row["number"]))] = (round_number, stratum)
    with STRATA.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["repository", "number", "round", "stratum"])
        for key in sorted(labeled):
            round_number, stratum = strata.get(key, (1, "enriched (keyword or label)"))
            writer.writerow([*key, round_number, stratum])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round-dir", type=Path, default=Path("data/labeling"))
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    parser.add_argument("--seed-sample", type=Path, default=Path("data/seed/sample.csv"))
    args = parser.parse_args()
    new = round_rows(args.round_dir)
    replaced = {row["annotator"] for row in new}
    kept = [row for row in read_rows(args.labels) if row["annotator"] not in replaced]
    rows = kept + new
    keys = [(r["repository"], r["number"], r["annotator"], r["kind"]) for r in rows]
    duplicates = len(keys) - len(set(keys))
    if duplicates:
        raise SystemExit(f"{duplicates} rows repeat an annotator's label of an issue")
    known = corpus_references(args.corpus)
    unknown = sorted({(r["repository"], r["number"]) for r in rows} - known)
    if unknown:
        raise SystemExit(f"{len(unknown)} references are not in the corpus, e.g. {unknown[0]}")
    rows.sort(key=_order)
    with args.labels.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    issues = {(r["repository"], r["number"]) for r in rows}
    print(f"{len(rows)} annotations of {len(issues)} issues -> {args.labels}")
    write_strata(issues, args.round_dir, args.seed_sample)
    print(f"round and stratum of each labeled issue -> {STRATA}")


if __name__ == "__main__":
    main()
