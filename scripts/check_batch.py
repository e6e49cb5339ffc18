"""Check an annotator's batch: every reference labeled once, with a taxonomy code and a note.

python scripts/check_batch.py data/labeling/batch01
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from taxonomy import default_taxonomy


def check(folder: Path) -> list[str]:
    taxonomy = default_taxonomy()
    with (folder / "refs.csv").open(newline="", encoding="utf-8") as handle:
        wanted = [(r["repository"], int(r["number"])) for r in csv.DictReader(handle)]
    problems: list[str] = []
    seen: dict[tuple[str, int], int] = {}
    labels = folder / "labels.csv"
    rows = []
    if labels.exists():
        with labels.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    for line, row in enumerate(rows, start=2):
        try:
            ref = (row["repository"], int(row["number"]))
            taxonomy.normalize(row["category"])
        except (KeyError, TypeError, ValueError) as error:
            problems.append(f"line {line}: {error}")
            continue
        if ref in seen:
            problems.append(f"line {line}: {ref[0]}#{ref[1]} labeled again (line {seen[ref]})")
        seen[ref] = line
        if not (row.get("note") or "").strip():
            problems.append(f"line {line}: empty note")
    missing = [f"{r}#{n}" for r, n in wanted if (r, n) not in seen]
    extra = [f"{r}#{n}" for r, n in seen if (r, n) not in set(wanted)]
    if missing:
        problems.append(f"{len(missing)} not labeled yet, first: {', '.join(missing[:5])}")
    if extra:
        problems.append(f"{len(extra)} labeled but not in refs.csv: {', '.join(extra[:5])}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    problems = check(parser.parse_args().folder)
    print("\n".join(problems) if problems else "complete: every reference labeled once")


if __name__ == "__main__":
    main()
