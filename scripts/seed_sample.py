"""Draw the seed sample of issues for manual labeling from ../shared/corpus (reproducible).

The sample mixes a random part per repository (so the share of not-system-related issues stays
realistic) with an enriched part: issues whose title hits a category's keywords or that carry a
repository label pointing at a system issue, so that rare categories get examples.

    python scripts/seed_sample.py --corpus ../shared/corpus --out data/seed/sample.csv
"""

from __future__ import annotations

import argparse
import csv
import random
import re
from pathlib import Path

from miner.corpus import iter_issues, repo_dirs
from taxonomy import default_taxonomy

RANDOM_PER_REPO = {
    "tensorflow/tensorflow": 130,
    "pytorch/pytorch": 50,
    "apache/incubator-mxnet": 45,
    "keras-team/keras": 15,
}
KEYWORD_HITS_PER_CATEGORY = 20
LABEL_HITS_PER_LABEL = 8
SYSTEM_LABELS = (
    "type:performance",
    "type:bug/performance",
    "comp:gpu",
    "comp:dist-strat",
    "comp:data",
    "comp:gpu:tensorrt",
    "TFLiteConverter",
    "subtype:windows",
    "module: build",
    "module: performance",
    "module: memory usage",
    "module: multithreading",
    "module: onnx",
    "module: dataloader",
    "oncall: distributed",
    "module: windows",
    "module: cuda",
)


def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern | None:
    if not keywords:
        return None
    return re.compile("|".join(re.escape(k) for k in keywords), re.IGNORECASE)


def draw_sample(corpus: Path, seed: int) -> list[dict]:
    rng = random.Random(seed)
    issues = [
        (repo, issue) for repo, folder in repo_dirs(corpus).items() for issue in iter_issues(folder)
    ]
    chosen: dict[tuple[str, int], str] = {}

    def take(candidates: list, n: int, reason: str) -> None:
        fresh = [c for c in candidates if (c[0], c[1]["number"]) not in chosen]
        for repo, issue in rng.sample(fresh, min(n, len(fresh))):
            chosen[(repo, issue["number"])] = reason

    for repo, n in RANDOM_PER_REPO.items():
        take([c for c in issues if c[0] == repo], n, "random")
    for category in default_taxonomy().categories:
        pattern = _keyword_pattern(category.keywords)
        if pattern:
            hits = [c for c in issues if pattern.search(c[1]["title"] or "")]
            take(hits, KEYWORD_HITS_PER_CATEGORY, f"keyword:{category.code}")
    for label in SYSTEM_LABELS:
        hits = [c for c in issues if any(lab["name"] == label for lab in c[1]["labels"])]
        take(hits, LABEL_HITS_PER_LABEL, f"label:{label}")
    rows = [{"repository": r, "number": n, "reason": why} for (r, n), why in chosen.items()]
    rng.shuffle(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    parser.add_argument("--out", type=Path, default=Path("data/seed/sample.csv"))
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rows = draw_sample(args.corpus, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["repository", "number", "reason"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} issues -> {args.out}")


if __name__ == "__main__":
    main()
