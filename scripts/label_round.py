"""Draw a further labeling round (round 4 on) and split it into annotator batches.

A round joins two documented strata, neither of which repeats an issue already labeled:

- a simple random sample of a repository's unlabeled issues (`--random tensorflow/tensorflow=560`),
  a probability sample, so that the labels keep estimating the population and the held-out
  TensorFlow split grows without enrichment;
- model-ranked issues for categories still short of examples, as written by
  `scripts/label_review.py targets` (`--ranked FILE`, columns repository, number, stratum).

The strata go to data/labeling/roundN/refs.csv (repository, number, stratum), which
`scripts/build_labels.py` reads to record why each issue was drawn. Batches continue the
numbering of the earlier ones (batchNN/refs.csv, one new annotator each) and share `--double`
issues for blind double labeling (label_sample.assign_batches). Batches are shuffled, so an
annotator never sees why an issue was drawn.

    python scripts/label_round.py 4 --random tensorflow/tensorflow=560 \\
        --ranked data/labeling/round4/ranked.csv --batches 5 --double 100
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

from label_sample import assign_batches, labeled_references  # the same batching as round 2

from miner.corpus import iter_issues, repo_dirs


def _random_stratum(corpus: Path, spec: str, done: set, rng: random.Random) -> dict:
    repository, _, size = spec.partition("=")
    folders = repo_dirs(corpus)
    if repository not in folders or not size.isdigit():
        raise SystemExit(f"--random {spec!r}: expected OWNER/NAME=COUNT of a corpus repository")
    numbers = sorted(
        int(issue["number"])
        for issue in iter_issues(folders[repository])
        if "pull_request" not in issue and (repository, int(issue["number"])) not in done
    )
    chosen = rng.sample(numbers, min(int(size), len(numbers)))
    return {(repository, n): f"random:{repository}" for n in sorted(chosen)}


def _ranked_stratum(path: Path, done: set) -> dict:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        (row["repository"], int(row["number"])): f"model-ranked:{row['stratum']}"
        for row in rows
        if (row["repository"], int(row["number"])) not in done
    }


def _next_batch(out: Path) -> int:
    numbers = [int(p.name[5:]) for p in out.glob("batch[0-9][0-9]") if p.name[5:].isdigit()]
    return max(numbers, default=0) + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("round", type=int)
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    parser.add_argument("--labeled", type=Path, default=Path("classifier/data/labels.csv"))
    parser.add_argument("--random", action="append", default=[], metavar="OWNER/NAME=COUNT")
    parser.add_argument("--ranked", type=Path, help="label_review.py targets output")
    parser.add_argument("--out", type=Path, default=Path("data/labeling"))
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--double", type=int, default=100)
    parser.add_argument("--first-annotator", type=int, default=22)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = random.Random(args.seed + args.round)
    done = labeled_references([args.labeled])
    strata = _ranked_stratum(args.ranked, done) if args.ranked else {}
    for spec in args.random:
        # after the ranked ones: an issue in both stays in the probability sample
        strata |= _random_stratum(args.corpus, spec, done, rng)
    folder = args.out / f"round{args.round}"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "refs.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["repository", "number", "stratum"])
        writer.writerows((r, n, s) for (r, n), s in sorted(strata.items()))
    first = _next_batch(args.out)
    batches = assign_batches(sorted(strata), args.batches, args.double, rng)
    for index, batch in enumerate(batches):
        batch_folder = args.out / f"batch{first + index:02d}"
        batch_folder.mkdir()
        with (batch_folder / "refs.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["repository", "number", "annotator"])
            annotator = f"labeler{args.first_annotator + index}"
            writer.writerows((r, n, annotator) for r, n in batch)
    print(f"round {args.round}: {len(strata)} issues -> {folder / 'refs.csv'}")
    print(f"batches {first}..{first + len(batches) - 1}: {[len(b) for b in batches]}")


if __name__ == "__main__":
    main()
