"""Small, deterministic slices of ../shared/corpus for tests (read at test time, never stored)."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

from miner.corpus import issue_number_from_url, iter_comments, iter_issues


def first_issues(corpus: Path, folder: str, count: int) -> list[dict]:
    return list(islice(iter_issues(corpus / folder), count))


def comments_of(corpus: Path, folder: str, numbers: set[int]) -> list[dict]:
    return [
        c
        for c in iter_comments(corpus / folder)
        if issue_number_from_url(c["issue_url"]) in numbers
    ]
