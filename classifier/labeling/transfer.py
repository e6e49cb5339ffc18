"""Annotations in and out as CSV with references only (never issue text), so labels can be
shared without sharing what strangers wrote.

Import is all or nothing: every line is checked first (category, issue present, shape), then
all rows are written in one transaction. Errors name the line. With skip_unknown, rows naming a
repository or issue the database lacks are counted and left out instead. Rows already stored
exactly as the file has them are left alone, so importing a file twice changes nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import Connection, Engine

from classifier.labeling import store
from classifier.labeling.store import Annotation, AnnotationError
from db.csvfiles import CsvFileError, csv_records, neutralize_formula, read_csv_text
from db.repositories import repository_ids_by_name
from taxonomy import Taxonomy, UnknownCategoryError, default_taxonomy

COLUMNS = ("repository", "number", "category", "annotator", "kind", "note", "status")
REQUIRED = ("repository", "number", "category", "annotator")
MAX_REPORTED_ERRORS = 10


class AnnotationImportError(ValueError):
    """A CSV of annotations that cannot be imported; nothing was written."""

    def __init__(self, source: str, errors: list[str], hint: str = ""):
        self.errors = errors
        shown = errors[:MAX_REPORTED_ERRORS]
        more = len(errors) - len(shown)
        tail = f" (and {more} more)" if more else ""
        hint = f"; {hint}" if hint else ""
        super().__init__(f"{source}: nothing imported; " + "; ".join(shown) + tail + hint)


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: dict[str, str]


def export_annotations(engine: Engine, out: TextIO) -> int:
    """Write every annotation as a CSV row of references; returns the number of rows."""
    frame = store.annotations_frame(engine)
    frame = frame.sort_values(["repository", "number", "kind", "annotator"], kind="stable")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in frame.itertuples(index=False):
        cells = [row.repository, row.number, row.category or "", row.annotator, row.kind,
                 row.note or "", row.status]  # fmt: skip
        writer.writerow([neutralize_formula(cell) for cell in cells])
    return len(frame)


def _check_header(header: list[str]) -> None:
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    if missing or unknown:
        raise ValueError(
            f"line 1: header needs {', '.join(REQUIRED)} (optional: kind, note, status); "
            + (f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}")
        )


def read_rows(text: str) -> Iterator[CsvRow]:
    """CSV records with the line each starts on; raises ValueError naming a malformed line."""
    records = csv_records(text)
    first = next(records, None)
    if first is None:
        raise ValueError("line 1: the file is empty; expected a header row")
    header = [name.strip().lower() for name in first[1]]
    _check_header(header)
    for line, fields in records:
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(header):
            raise ValueError(f"line {line}: expected {len(header)} fields, found {len(fields)}")
        yield CsvRow(line, dict(zip(header, (f.strip() for f in fields), strict=True)))


class NotInDatabase(LookupError):
    """A row names a repository or issue the database does not hold."""


class _Resolver:
    """(repository name or alias, number) to issue id, reading each repository's issues once."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.repositories = repository_ids_by_name(connection)
        self.issues: dict[int, dict[int, int]] = {}

    def issue_id(self, repository: str, number: int) -> int:
        repository_id = self.repositories.get(repository.lower())
        if repository_id is None:
            raise NotInDatabase(f"repository {repository} is not in the database")
        if repository_id not in self.issues:
            self.issues[repository_id] = store.issue_ids(self.connection, repository_id)
        found = self.issues[repository_id].get(number)
        if found is None:
            raise NotInDatabase(f"issue {repository}#{number} is not in the database")
        return found


def _annotation(row: CsvRow, resolver: _Resolver, taxonomy: Taxonomy) -> Annotation:
    values = row.values
    try:
        number = int(values["number"])
    except ValueError:
        raise ValueError(f"number {values['number']!r} is not an issue number") from None
    category = taxonomy.normalize(values["category"]) if values["category"] else None
    status = values.get("status") or ("labeled" if category else "skipped")
    return Annotation(
        issue_id=resolver.issue_id(values["repository"], number),
        annotator=values["annotator"],
        category=category,
        status=status,
        kind=values.get("kind") or "label",
        note=values.get("note", ""),
    )


@dataclass(frozen=True)
class ParsedFile:
    """The annotations of a CSV, and the rows left out for naming what the database lacks."""

    annotations: list[Annotation]
    not_in_database: list[str]  # "line N: ..." of each row skipped with skip_unknown


def parse_annotations(
    text: str,
    connection: Connection,
    taxonomy: Taxonomy,
    source: str = "CSV",
    skip_unknown: bool = False,
) -> ParsedFile:
    """Every row as an Annotation, or AnnotationImportError listing the bad lines. With
    skip_unknown, rows naming a repository or issue not in the database are left out."""
    resolver = _Resolver(connection)
    annotations: list[Annotation] = []
    errors: list[str] = []
    unknown: list[str] = []
    seen: dict[tuple, int] = {}
    try:
        for row in read_rows(text):
            try:
                annotation = _annotation(row, resolver, taxonomy)
            except NotInDatabase as error:
                (unknown if skip_unknown else errors).append(f"line {row.line}: {error}")
                continue
            except (ValueError, LookupError, UnknownCategoryError, AnnotationError) as error:
                errors.append(f"line {row.line}: {error}")
                continue
            key = (annotation.issue_id, annotation.annotator, annotation.kind)
            if key in seen:
                errors.append(
                    f"line {row.line}: same issue, annotator and kind as line {seen[key]}"
                )
            seen[key] = row.line
            annotations.append(annotation)
    except ValueError as error:  # a malformed record or header (CsvFileError included)
        errors.append(str(error))
    if errors:
        unknown_named = any(error.endswith("is not in the database") for error in errors)
        hint = "--skip-unknown imports the rows the database has" if unknown_named else ""
        raise AnnotationImportError(source, errors, hint)
    return ParsedFile(annotations, unknown)


@dataclass(frozen=True)
class ImportResult:
    """What an import did: rows stored (new or changed), rows already stored as they are,
    and rows skipped for naming a repository or issue not in the database."""

    new: int
    changed: int
    unchanged: int
    skipped: int

    @property
    def stored(self) -> int:
        return self.new + self.changed


def import_annotations(
    engine: Engine,
    path: str | Path,
    taxonomy: Taxonomy | None = None,
    skip_unknown: bool = False,
) -> ImportResult:
    """Import a CSV of annotations in one transaction; rows already stored as they are in the
    file are left alone (they keep their time), the others are inserted or replaced."""
    taxonomy = taxonomy or default_taxonomy()
    path = Path(path)
    try:
        text = read_csv_text(path)
    except CsvFileError as error:
        raise AnnotationImportError(str(path), [str(error)]) from None
    with engine.begin() as connection:
        parsed = parse_annotations(text, connection, taxonomy, str(path), skip_unknown)
        stored = store.stored_answers(connection)
        fresh = [a for a in parsed.annotations if stored.get(store.answer_key(a)) != a]
        store.save_annotations(connection, fresh, taxonomy.version)
    changed = sum(store.answer_key(a) in stored for a in fresh)
    return ImportResult(
        new=len(fresh) - changed,
        changed=changed,
        unchanged=len(parsed.annotations) - len(fresh),
        skipped=len(parsed.not_in_database),
    )


def resolve_issue(engine: Engine, repository: str, number: int) -> int:
    """The id of issue `number` of a repository named by its name or an old alias."""
    with engine.connect() as connection:
        return _Resolver(connection).issue_id(repository, number)
