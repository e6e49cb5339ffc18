"""`mlissues figures`: every figure, a tables.md of every number quoted, and an HTML report.

The HTML goes through a Jinja2 template with autoescaping on: issue titles, logins and
repository names come from strangers on GitHub and must show as text, never run as markup.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pandas as pd
from sqlalchemy.engine import Engine

from analysis import replication, style
from analysis.figures import FIGURES
from analysis.queries import StudyData, load_study
from analysis.results import Result, require_issues

log = logging.getLogger(__name__)
# fontTools logs every font subset it writes into a PDF at INFO: noise for our users.
logging.getLogger("fontTools").setLevel(logging.WARNING)

TEMPLATE = jinja2.Environment(
    loader=jinja2.PackageLoader("analysis", "templates"),
    autoescape=True,  # every value is escaped unless explicitly marked safe (none is)
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
FLOAT_FORMAT = "{:.4g}".format


@dataclass(frozen=True)
class Report:
    """What `build_report` wrote."""

    out_dir: Path
    figures: list[Path]
    tables: Path
    index: Path


def build_report(
    engine: Engine,
    out_dir: str | Path,
    model_version: str | None = None,
    estimator: str = "PACC",
) -> Report:
    """Regenerate all figures, tables.md and index.html in out_dir from the database, with the
    decisions of one model (queries.choose_model) and shares estimated by `estimator`."""
    out_dir = Path(out_dir)
    data = load_study(engine, model_version, estimator)
    require_issues(data)
    computed: list[Result] = []
    paths: list[Path] = []
    for name, (draw, compute) in (FIGURES | replication.report_entries(engine)).items():
        result = compute(data)
        paths += style.save(draw(data, result), out_dir, name)
        computed.append(result)
        log.info("figure %s written", name)
    tables = out_dir / "tables.md"
    tables.write_text(tables_markdown(data, computed), encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(html_report(data, computed), encoding="utf-8")
    return Report(out_dir, paths, tables, index)


# --- rendering ------------------------------------------------------------------------------


def _printable(table: pd.DataFrame) -> pd.DataFrame:
    """Period indexes become columns, so every table prints the same way."""
    if isinstance(table.index, pd.PeriodIndex):
        table = table.copy()
        table.index = table.index.astype(str)
        return table.rename_axis("month").reset_index()
    return table


def _markdown_cell(value) -> str:
    if isinstance(value, float):
        return FLOAT_FORMAT(value)
    # Markdown renders inline HTML, and a pipe would split the cell: escape both.
    return html.escape(str(value), quote=False).replace("|", "\\|").replace("\n", " ")


def markdown_table(table: pd.DataFrame) -> str:
    table = _printable(table)
    if table.empty:
        return "(empty)\n"
    header = "| " + " | ".join(_markdown_cell(c) for c in table.columns) + " |"
    rule = "|" + "---|" * len(table.columns)
    rows = [
        "| " + " | ".join(_markdown_cell(v) for v in row) + " |" for row in table.itertuples(False)
    ]
    return "\n".join([header, rule, *rows]) + "\n"


def _tests_table(result: Result) -> pd.DataFrame:
    return pd.DataFrame([{"name": name, **test.as_dict()} for name, test in result.tests.items()])


def result_markdown(result: Result) -> str:
    """One research question's tables, tests and notes as markdown (also used by the notebook)."""
    figure = f"Figure: `{result.key}.pdf` / `{result.key}.png`; {result.source_note}."
    lines = [f"## {result.title}", "", figure, ""]
    for name, table in result.tables.items():
        lines += [f"### {name}", "", markdown_table(table)]
    lines += ["### tests", "", markdown_table(_tests_table(result))]
    lines += [f"- {_markdown_cell(note)}" for note in result.notes] + [""]
    return "\n".join(lines)


def tables_markdown(data: StudyData, computed: list[Result]) -> str:
    header = ["# Study tables", "", f"{data.source_note()}.", ""]
    return "\n".join(header + [result_markdown(result) for result in computed])


def _html_table(table: pd.DataFrame) -> dict:
    table = _printable(table)
    cells = [
        [FLOAT_FORMAT(v) if isinstance(v, float) else v for v in row]
        for row in table.itertuples(False)
    ]
    return {"columns": list(table.columns), "rows": cells}


def html_report(data: StudyData, computed: list[Result]) -> str:
    sections = [
        {
            "key": result.key,
            "title": result.title,
            "source_note": result.source_note,
            "tables": {name: _html_table(t) for name, t in result.tables.items()},
            "tests": _html_table(_tests_table(result)),
            "notes": result.notes,
        }
        for result in computed
    ]
    return TEMPLATE.get_template("report.html.j2").render(
        source_note=data.source_note(), counts=data.source_counts(), sections=sections
    )
