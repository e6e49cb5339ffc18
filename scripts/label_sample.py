"""Draw the second labeling round from ../shared/corpus and split it into annotator batches.

The round adds to the seed labels (classifier/data/labels.csv), never replaces them:

- every PyTorch, MXNet and Keras issue not labeled yet (the held-out population is mostly these);
- TensorFlow issues targeted at the weak categories by a documented search: one regular
  expression per category over title and body (title hits first), plus repository labels that
  hint at a component, plus the bugs Makkouk et al. judged to be performance bugs;
- TensorFlow issues whose top model decision is a weak category (active-learning picks, balanced
  over the predicted classes), when a database with predictions is given;
- a random TensorFlow stratum, so that the NSR share stays estimable.

A share of the new issues goes to a second annotator in another batch (blind double labeling).
Batches are shuffled, so an annotator never sees why an issue was drawn. The strata are kept in
``data/labeling/sample.csv`` for the report; the batches hold references only.

    python scripts/label_sample.py --batches 14 --double 660 --predictions data/demo/issues.db
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sqlite3
from collections import Counter
from pathlib import Path

from miner.corpus import iter_issues, repo_dirs

TENSORFLOW = "tensorflow/tensorflow"
# The documented search for the weak categories: precise phrases, not the taxonomy's broad
# keywords (which also drive the classifier's features and would only echo them).
SEARCH = {
    "API": r"version mismatch|incompatib|compat\.v1|tf\.compat|two versions|multiple versions|"
    r"libiomp|protobuf version|numpy version|compiled against|built against|undefined symbol|"
    r"api change|no attribute",
    "CONFIG": r"environment variable|configproto|allow_growth|intra_op|inter_op|"
    r"cuda_visible_devices|tf_cpp|xla_flags|tf_force|\./configure|build option|--config|"
    r"session config",
    "CONN": r"grpc|connection refused|connection reset|socket|\brpc\b|rendezvous|serving|"
    r"model server|ssl|proxy|timed out|unavailable:|deadline ?exceeded|\bhttp\b",
    "EXEC": r"segfault|segmentation fault|core dump|\babort|illegal memory access|double free|"
    r"check failed|sigsegv|sigabrt|crash",
    "HA": r"\bavx|sse4|compute capability|aarch64|arm64|\barm\b|ppc64|illegal instruction|"
    r"raspberry|jetson|\brocm\b|\bm1\b|apple silicon|\btpu\b|\bsm_\d+|cuda capability",
    "MA": r"out of memory|\boom\b|resourceexhausted|resource exhausted|failed to allocate|"
    r"allocator|\bbfc\b|fragmentation|pinned memory|memory allocation",
    "IO": r"tf\.data|dataloader|data loader|input pipeline|tfrecord|"
    r"slow.{0,20}(load|read|sav|writ)|(load|read|sav|writ)\w* .{0,20}slow|"
    r"\bdisk\b|serializ|prefetch|gfile|\bhdfs\b",
    "PR": r"regression|slower (than|in|after|since|with)|after upgrad|after updat|since upgrad|"
    r"was faster|performance drop|became slow|got slower|much slower",
    "SYNC": r"\bnccl|allreduce|all-reduce|all_reduce|allgather|all-gather|horovod|synchroniz|"
    r"multi-?gpu|multiworker|mirroredstrategy|\bddp\b|parameter server|collective",
    "RACE": r"race condition|data race|\brace\b|thread.?safe|threadsanitizer|\btsan\b|"
    r"nondeterministic|non-deterministic|concurrent",
    "MT": r"deadlock|\bhangs?\b|hanging|\bstuck\b|freez|thread ?pool|num_workers|multiprocessing|"
    r"openmp|omp_num_threads|\block\b|contention|multi-?thread",
    "RU": r"cpu usage|gpu usage|utili[sz]ation|100 ?%|high cpu|too many threads|"
    r"not using (the )?gpu|resource usage|disk space|file descriptor|too many open files",
}
PER_CATEGORY = {"CONN": 160, "RACE": 160, "IO": 150, "PR": 150, "MT": 150, "SYNC": 140}
DEFAULT_PER_CATEGORY = 120
COMPONENT_LABELS = {
    "comp:gpu": 40,
    "comp:dist-strat": 40,
    "comp:data": 40,
    "comp:tpus": 25,
    "comp:runtime": 25,
    "comp:xla": 20,
    "comp:mkl": 17,
    "regression issue": 40,
    "comp:gpu:tensorrt": 13,
}
MAKKOUK_PERF = 100
ACTIVE_PER_CLASS = 20
RANDOM_TENSORFLOW = 450
WEAK = ("API", "CONFIG", "CONN", "EXEC", "HA", "MA", "IO", "PR", "SYNC", "RACE", "MT", "RU")


def labeled_references(paths: list[Path]) -> set[tuple[str, int]]:
    done: set[tuple[str, int]] = set()
    for path in paths:
        with path.open(newline="", encoding="utf-8") as handle:
            done |= {(r["repository"], int(r["number"])) for r in csv.DictReader(handle)}
    return done


def makkouk_performance_numbers(study: Path) -> set[int]:
    with (study / "tensorflow_perf_bugs_information.csv").open(newline="", encoding="utf-8") as f:
        return {int(row["Issue.ID"]) for row in csv.DictReader(f)}


def active_picks(database: Path, rng: random.Random) -> list[int]:
    """TensorFlow issues whose decided category is weak, the same number per predicted class."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    rows = connection.execute(
        "SELECT i.number, p.category FROM predictions p JOIN issues i ON i.id = p.issue_id "
        "JOIN repositories r ON r.id = i.repository_id WHERE r.full_name = ?",
        (TENSORFLOW,),
    ).fetchall()
    by_class: dict[str, list[int]] = {}
    for number, category in rows:
        if category in WEAK:
            by_class.setdefault(category, []).append(number)
    picks: list[int] = []
    for numbers in by_class.values():
        picks += rng.sample(sorted(numbers), min(ACTIVE_PER_CLASS, len(numbers)))
    return picks


class Draw:
    """The growing sample: each issue once, with the first stratum that drew it."""

    def __init__(self, done: set[tuple[str, int]], rng: random.Random) -> None:
        self.done = done
        self.rng = rng
        self.strata: dict[tuple[str, int], str] = {}

    def fresh(self, refs) -> list[tuple[str, int]]:
        return [r for r in refs if r not in self.done and r not in self.strata]

    def take(self, refs, n: int, stratum: str) -> None:
        candidates = self.fresh(refs)
        for ref in self.rng.sample(candidates, min(n, len(candidates))):
            self.strata[ref] = stratum


def draw(corpus: Path, study: Path, done: set, predictions: Path | None, seed: int) -> Draw:
    rng = random.Random(seed)
    sample = Draw(done, rng)
    issues = {
        (repo, issue["number"]): issue
        for repo, folder in repo_dirs(corpus).items()
        for issue in iter_issues(folder)
    }
    for ref in sorted(issues):
        if ref[0] != TENSORFLOW and ref not in done:
            sample.strata[ref] = f"all:{ref[0]}"
    tensorflow = [ref for ref in sorted(issues) if ref[0] == TENSORFLOW]
    for code, pattern in SEARCH.items():
        regex = re.compile(pattern, re.IGNORECASE)
        quota = PER_CATEGORY.get(code, DEFAULT_PER_CATEGORY)
        in_title = [r for r in tensorflow if regex.search(issues[r]["title"] or "")]
        in_body = [r for r in tensorflow if regex.search(issues[r]["body"] or "")]
        before = len(sample.strata)
        sample.take(in_title, quota, f"search-title:{code}")
        sample.take(in_body, quota - (len(sample.strata) - before), f"search-body:{code}")
    for label, quota in COMPONENT_LABELS.items():
        hits = [r for r in tensorflow if any(x["name"] == label for x in issues[r]["labels"])]
        sample.take(hits, quota, f"label:{label}")
    performance = makkouk_performance_numbers(study)
    sample.take([r for r in tensorflow if r[1] in performance], MAKKOUK_PERF, "makkouk-perf")
    if predictions is not None:
        picks = [(TENSORFLOW, n) for n in active_picks(predictions, rng)]
        sample.take(picks, len(picks), "active")
    sample.take(tensorflow, RANDOM_TENSORFLOW, "random:tensorflow")
    return sample


def assign_batches(refs: list, batches: int, double: int, rng: random.Random) -> list[list]:
    """Deal first labels round-robin, then each double-labeled issue to a different batch."""
    rng.shuffle(refs)
    dealt: list[list] = [[] for _ in range(batches)]
    home = {}
    for i, ref in enumerate(refs):
        dealt[i % batches].append(ref)
        home[ref] = i % batches
    for j, ref in enumerate(rng.sample(refs, min(double, len(refs)))):
        other = (home[ref] + 1 + j % (batches - 1)) % batches
        dealt[other].append(ref)
    for batch in dealt:
        rng.shuffle(batch)
    return dealt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    parser.add_argument("--study", type=Path, default=Path("../shared/studies/makkouk-icsme2022"))
    parser.add_argument(
        "--labeled", type=Path, nargs="*", default=[Path("classifier/data/labels.csv")]
    )
    parser.add_argument("--predictions", type=Path, help="SQLite database with model predictions")
    parser.add_argument("--out", type=Path, default=Path("data/labeling"))
    parser.add_argument("--batches", type=int, default=14)
    parser.add_argument("--double", type=int, default=660)
    parser.add_argument("--first-annotator", type=int, default=6)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    done = labeled_references(args.labeled)
    sample = draw(args.corpus, args.study, done, args.predictions, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "sample.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["repository", "number", "stratum"])
        writer.writerows((r, n, s) for (r, n), s in sorted(sample.strata.items()))
    batches = assign_batches(sorted(sample.strata), args.batches, args.double, sample.rng)
    for index, batch in enumerate(batches):
        folder = args.out / f"batch{index + 1:02d}"
        folder.mkdir(exist_ok=True)
        with (folder / "refs.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["repository", "number", "annotator"])
            writer.writerows((r, n, f"labeler{args.first_annotator + index}") for r, n in batch)
    counts = Counter(
        s if s.startswith("search") else s.split(":")[0] for s in sample.strata.values()
    )
    print(f"{len(sample.strata)} new issues; batches of {[len(b) for b in batches]}")
    for stratum, n in sorted(counts.items()):
        print(f"  {stratum}: {n}")


if __name__ == "__main__":
    main()
