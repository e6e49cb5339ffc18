"""CSV files the toolkit writes and reads: the rules, once.

Writing: stored text comes from strangers (labels, logins, annotator names), and a spreadsheet
runs a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return as a formula
(`=HYPERLINK(...)`, `+cmd|...`). Every CSV writer passes its text cells through
`neutralize_formula`, which puts a single quote in front of such a cell, as OWASP recommends
("CSV Injection"); numbers are not text cells and stay numbers. Reading undoes exactly that
prefix (`restore_formula`), so an exported file imports back unchanged.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formula(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, prefixed with `'`; any other
    value as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restore_formula(text: str) -> str:
    """The text `neutralize_formula` was given (a cell without its prefix is returned as is)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
