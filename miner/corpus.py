"""Read a directory of GitHub-API-shaped JSONL (as in ../shared/corpus/<owner>__<repo>/)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path


def repo_dirs(corpus_root: str | Path) -> dict[str, Path]:
    """Map 'owner/name' to its folder for every '<owner>__<name>' folder under corpus_root."""
    root = Path(corpus_root)
    return {
        d.name.replace("__", "/", 1): d
        for d in sorted(root.iterdir())
        if d.is_dir() and "__" in d.name
    }


def _open_jsonl(folder: Path, stem: str):
    for candidate in (folder / f"{stem}.jsonl.gz", folder / f"{stem}.jsonl"):
        if candidate.exists():
            if candidate.suffix == ".gz":
                return gzip.open(candidate, "rt", encoding="utf-8")
            return candidate.open(encoding="utf-8")
    return None


def iter_jsonl(folder: str | Path, stem: str) -> Iterator[dict]:
    """Yield the objects of folder/<stem>.jsonl(.gz); nothing if the file does not exist."""
    handle = _open_jsonl(Path(folder), stem)
    if handle is None:
        return
    with handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def iter_issues(folder: str | Path) -> Iterator[dict]:
    return iter_jsonl(folder, "issues")


def iter_comments(folder: str | Path) -> Iterator[dict]:
    return iter_jsonl(folder, "comments")


def issue_number_from_url(issue_url: str) -> int:
    """The issue number at the end of an API issue URL (…/issues/123)."""
    return int(issue_url.rstrip("/").rsplit("/", 1)[1])
