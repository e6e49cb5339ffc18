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


def _pages(items: Iterator[dict], size: int) -> Iterator[list[dict]]:
    page: list[dict] = []
    for item in items:
        page.append(item)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page


def import_folder(
    engine, folder: str | Path, full_name: str, page_size: int = 1000
) -> tuple[int, int]:
    """Load an API-shaped dump folder straight into the database, without HTTP.

    For offline studies and test fixtures; the crawler is the way to get the same data from an
    API. Each page commits on its own, like a crawl. Returns (issues, comments) stored.
    """
    from miner.store import Provenance, ensure_repository, save_comments, save_issues, utcnow
    from mlissues import __version__

    folder = Path(folder)
    provenance = Provenance(folder.resolve().as_uri(), __version__, utcnow())
    with engine.begin() as connection:
        repository_id = ensure_repository(connection, full_name, provenance.source_url)
    counts = [0, 0]
    for index, (items, save) in enumerate(
        ((iter_issues(folder), save_issues), (iter_comments(folder), save_comments))
    ):
        for page in _pages(items, page_size):
            with engine.begin() as connection:
                save(connection, repository_id, page, provenance)
            counts[index] += len(page)
    return counts[0], counts[1]
