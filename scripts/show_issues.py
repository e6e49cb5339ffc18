"""Print issues of ../shared/corpus as readable text, for labeling from a terminal.

python scripts/show_issues.py tensorflow/tensorflow#123 pytorch/pytorch#45
python scripts/show_issues.py --from-csv data/seed/batch1.csv --start 0 --count 10
python scripts/show_issues.py --from-csv data/labeling/batch01/refs.csv --count 0 --chunks DIR

With --chunks, the threads are written to DIR/chunkNNN.txt files of at most --chunk-chars
characters each, so an annotator can read a whole batch one terminal screen-full at a time.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from miner.corpus import issue_number_from_url, iter_comments, iter_issues, repo_dirs


def _clip(text: str | None, limit: int) -> str:
    text = (text or "").strip()
    return (
        text
        if len(text) <= limit
        else text[:limit] + f"\n[... {len(text) - limit} more characters]"
    )


def load_threads(corpus: Path, refs: list[tuple[str, int]]) -> dict[tuple[str, int], dict]:
    wanted = set(refs)
    threads: dict[tuple[str, int], dict] = {}
    for repo, folder in repo_dirs(corpus).items():
        numbers = {n for r, n in wanted if r == repo}
        if not numbers:
            continue
        for issue in iter_issues(folder):
            if issue["number"] in numbers:
                threads[(repo, issue["number"])] = {"issue": issue, "comments": []}
        for comment in iter_comments(folder):
            key = (repo, issue_number_from_url(comment["issue_url"]))
            if key in threads:
                threads[key]["comments"].append(comment)
    return threads


def render(repo: str, thread: dict, body_limit: int, comment_limit: int, max_comments: int) -> str:
    issue = thread["issue"]
    labels = ", ".join(lab["name"] for lab in issue["labels"]) or "-"
    lines = [
        "=" * 100,
        f"{repo}#{issue['number']}  [{issue['state']}]  labels: {labels}",
        f"TITLE: {issue['title']}",
        "BODY:",
        _clip(issue.get("body"), body_limit),
    ]
    comments = sorted(thread["comments"], key=lambda c: c["created_at"])
    for i, comment in enumerate(comments[:max_comments], 1):
        lines += [f"--- comment {i}/{len(comments)}:", _clip(comment.get("body"), comment_limit)]
    return "\n".join(lines)


def _parse_ref(text: str) -> tuple[str, int]:
    repo, number = text.rsplit("#", 1)
    return repo, int(number)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("refs", nargs="*", help="owner/repo#number")
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    parser.add_argument("--from-csv", type=Path, help="CSV with repository,number columns")
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--body-limit", type=int, default=2500)
    parser.add_argument("--comment-limit", type=int, default=500)
    parser.add_argument("--max-comments", type=int, default=4)
    parser.add_argument("--chunks", type=Path, help="write chunk files here instead of printing")
    parser.add_argument("--chunk-chars", type=int, default=24000)
    args = parser.parse_args()
    refs = [_parse_ref(r) for r in args.refs]
    if args.from_csv:
        with args.from_csv.open() as handle:
            rows = list(csv.DictReader(handle))
        rows = rows[args.start : args.start + args.count] if args.count else rows[args.start :]
        refs += [(row["repository"], int(row["number"])) for row in rows]
    threads = load_threads(args.corpus, refs)
    texts = [
        render(ref[0], threads[ref], args.body_limit, args.comment_limit, args.max_comments)
        if ref in threads
        else f"{ref[0]}#{ref[1]}: not in the corpus"
        for ref in refs
    ]
    if args.chunks:
        write_chunks(texts, args.chunks, args.chunk_chars)
    else:
        print("\n".join(texts))


def write_chunks(texts: list[str], folder: Path, limit: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    chunks: list[list[str]] = [[]]
    for text in texts:
        if chunks[-1] and sum(map(len, chunks[-1])) + len(text) > limit:
            chunks.append([])
        chunks[-1].append(text)
    for index, chunk in enumerate(chunks, 1):
        (folder / f"chunk{index:03d}.txt").write_text("\n".join(chunk) + "\n", encoding="utf-8")
    print(f"{len(texts)} issues in {len(chunks)} chunks under {folder}")


if __name__ == "__main__":
    main()
