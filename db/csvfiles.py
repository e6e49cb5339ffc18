"""CSV files the toolkit writes and reads: the rules, once.

Reading (labels for `train`, `label import`): UTF-8 with or without a byte-order mark (what
Excel's "CSV UTF-8" writes); anything else, and a malformed record, is a CsvFileError whose
message names the line and says what to do, never a traceback.

Writing: stored text comes from strangers (labels, logins, annotator names), and a spreadsheet
runs a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return as a formula
(`=HYPERLINK(...)`, `+cmd|...`). Every CSV writer passes its text cells through
`neutralize_formula`, which puts a single quote in front of such a cell, as OWASP recommends
("CSV Injection"); numbers are not text cells and stay numbers. Reading undoes exactly that
prefix (`restore_formula`), so an exported file imports back unchanged.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def runs_as_formula(value: object) -> bool:
    """Whether a spreadsheet would run this cell as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def neutralize_formula(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, prefixed with `'`; any other
    value as it is."""
    return "'" + value if runs_as_formula(value) else value


def restore_formula(text: str) -> str:
    """The text `neutralize_formula` was given (a cell without its prefix is returned as is)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


class CsvFileError(ValueError):
    """A CSV file that cannot be read; the message (without the path) says why and what to do."""


def read_csv_text(path: str | Path) -> str:
    """The text of a CSV file in UTF-8, a byte-order mark dropped."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise CsvFileError(f"cannot read it ({error.strerror})") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CsvFileError("it is UTF-16 text; save it as UTF-8 (Excel: CSV UTF-8)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CsvFileError(
            f"line {line}: not UTF-8 text (byte {data[error.start]:#x}); save the file as UTF-8 "
            "(Excel: CSV UTF-8)"
        ) from None


# The csv module's default field limit, checked here too: the limit is process-wide state that
# other libraries raise (frictionless does), and the rule should not depend on what ran before.
MAX_FIELD = 131_072


def csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    """The records of CSV text with the line each starts on (quoted fields may span lines),
    each field as written before `neutralize_formula`; CsvFileError names a malformed line."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    too_long = f"a field is longer than {MAX_FIELD:,} characters"
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # e.g. an unclosed quote
            reason = too_long if "field limit" in str(error) else f"malformed CSV ({error})"
            raise CsvFileError(f"line {start}: {reason}") from None
        if any(len(field) > MAX_FIELD for field in fields):
            raise CsvFileError(f"line {start}: {too_long}")
        yield start, [restore_formula(field) for field in fields]
        start = reader.line_num + 1
