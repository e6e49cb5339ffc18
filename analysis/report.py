"""`mlissues figures`: every figure, a tables.md of every number quoted, tests.csv of every
test (machine-readable), and an HTML report.

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

from analysis import replication, results, style
from analysis.figures import FIGURES
from analysis.formatting import effect_text, format_cell
from analysis.queries import StudyData, load_study, require_issues
from analysis.results import Result
from analysis.stats import CORRECTIONS
from db.csvfiles import neutralize_formula

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


@dataclass(frozen=True)
class Report:
    """What `build_report` wrote."""

    out_dir: Path
    figures: list[Path]
    tables: Path
    tests: Path
    index: Path


def build_report(
    engine: Engine,
    out_dir: str | Path,
    model_version: str | None = None,
    estimator: str = "PACC",
    correction: str = results.DEFAULT_CORRECTION,
) -> Report:
    """Regenerate all figures, tables.md, tests.csv and index.html in out_dir from the
    database, with the decisions of one model (queries.choose_model), shares estimated by
    `estimator` and every p-value adjusted by `correction` (stats.CORRECTIONS)."""
    out_dir = Path(out_dir)
    data = load_study(engine, model_version, estimator)
    require_issues(data)
    # A published study the database holds (analysis.replication) joins the report, and its
    # tests join the report-wide correction.
    studies = replication.report_entries(engine)
    extra = {key: compute for key, (_, compute) in studies.items()}
    by_key = results.study_results(data, correction, extra)
    draws = FIGURES | {key: draw for key, (draw, _) in studies.items()}
    paths: list[Path] = []
    for name, draw in draws.items():
        figure = draw(data, by_key[name])
        if figure is None:  # a skipped view: no figure, its note says why
            continue
        paths += style.save(figure, out_dir, name)
        log.info("figure %s written", name)
    computed = list(by_key.values())
    tables = out_dir / "tables.md"
    tables.write_text(tables_markdown(data, computed), encoding="utf-8")
    tests = out_dir / "tests.csv"
    # Group names come from study files and repositories: no cell may run as a formula.
    frame = results.tests_frame(computed).map(neutralize_formula)
    frame.to_csv(tests, index=False, lineterminator="\n")
    index = out_dir / "index.html"
    index.write_text(html_report(data, computed), encoding="utf-8")
    return Report(out_dir, paths, tables, tests, index)


# --- rendering ------------------------------------------------------------------------------


def _printable(table: pd.DataFrame) -> pd.DataFrame:
    """Period indexes become columns, so every table prints the same way."""
    if isinstance(table.index, pd.PeriodIndex):
        table = table.copy()
        table.index = table.index.astype(str)
        return table.rename_axis("month").reset_index()
    return table


def _markdown_text(text: str) -> str:
    # Markdown renders inline HTML, and a pipe would split the cell: escape both. A "<" before
    # a space opens no tag, so "< 0.001" stays readable.
    escaped = html.escape(str(text), quote=False).replace("&lt; ", "< ")
    return escaped.replace("|", "\\|").replace("\n", " ")


def _cells(table: pd.DataFrame) -> list[list[str]]:
    """Every cell as text (formatting.format_cell: APA p-values, '–' for missing values)."""
    columns = [str(c) for c in table.columns]
    return [
        [format_cell(column, value) for column, value in zip(columns, row, strict=True)]
        for row in table.itertuples(False)
    ]


def markdown_table(table: pd.DataFrame) -> str:
    table = _printable(table)
    if table.empty:
        return "(empty)\n"
    header = "| " + " | ".join(_markdown_text(c) for c in table.columns) + " |"
    rule = "|" + "---|" * len(table.columns)
    rows = ["| " + " | ".join(_markdown_text(v) for v in row) + " |" for row in _cells(table)]
    return "\n".join([header, rule, *rows]) + "\n"


def _tests_table(result: Result) -> pd.DataFrame:
    """The tests of one question as a reader reads them: effect with its 95% interval."""
    rows = [
        {
            "name": name,
            "test": test.test,
            "statistic": test.statistic,
            "df": test.dof,
            "p_value": test.p_value,
            "p_adjusted": test.p_adjusted,
            "effect [95% CI]": effect_text(test) or None,
            "n": test.n,
        }
        for name, test in result.tests.items()
    ]
    return pd.DataFrame(rows)


def result_markdown(result: Result) -> str:
    """One research question's tables, tests and notes as markdown (also used by the notebook)."""
    if result.skipped:
        return "\n".join([f"## {result.title}", "", f"{_markdown_text(result.skipped)}.", ""])
    figure = f"Figure: `{result.key}.pdf` / `{result.key}.png`; {result.source_note}."
    lines = [f"## {result.title}", "", figure, ""]
    for name, table in result.tables.items():
        lines += [f"### {name}", "", markdown_table(table)]
    lines += ["### tests", "", markdown_table(_tests_table(result))]
    lines += [f"- {_markdown_text(note)}" for note in result.notes] + [""]
    return "\n".join(lines)


def correction_note(computed: list[Result]) -> str:
    """How the report's p-values were adjusted, for its header."""
    tests = [test for result in computed for test in result.tests.values()]
    methods = {test.correction for test in tests if test.correction}
    if not methods:
        return "p-values are not adjusted for multiple comparisons"
    (method,) = methods
    return (
        f"p_adjusted: {CORRECTIONS[method]} correction over all {len(tests)} tests of the "
        "report (tests.csv lists them)"
    )


def tables_markdown(data: StudyData, computed: list[Result]) -> str:
    header = ["# Study tables", "", f"{data.source_note()}; {correction_note(computed)}.", ""]
    return "\n".join(header + [result_markdown(result) for result in computed])


def _html_table(table: pd.DataFrame) -> dict:
    table = _printable(table)
    return {"columns": [str(c) for c in table.columns], "rows": _cells(table)}


def html_report(data: StudyData, computed: list[Result]) -> str:
    sections = [
        {
            "key": result.key,
            "title": result.title,
            "source_note": result.source_note,
            "tables": {name: _html_table(t) for name, t in result.tables.items()},
            "tests": _html_table(_tests_table(result)),
            "notes": result.notes,
            "skipped": result.skipped,
        }
        for result in computed
    ]
    return TEMPLATE.get_template("report.html.j2").render(
        source_note=f"{data.source_note()}; {correction_note(computed)}",
        counts=data.source_counts(),
        sections=sections,
    )
