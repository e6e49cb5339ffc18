"""`mlissues export`: the dataset as CSV, a data dictionary, a datasheet and datapackage.json.

Issue titles and bodies are not exported. They belong to their authors (GitHub's terms give us
no licence to redistribute them), may carry personal data, and can be fetched again from the
`url` column; the dataset holds references, metadata and our labels. Annotator notes stay out
for the same reason: they may quote the issue.

Every column is declared once in `TABLES` (type, unit, meaning, derivation); the CSV writer,
the data dictionary and the Frictionless schema are all generated from it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import frictionless
import pandas as pd
from sqlalchemy.engine import Engine

from analysis import queries
from analysis.queries import StudyData, load_study
from analysis.results import require_issues
from classifier.labeling.agreement import krippendorff_alpha
from db.csvfiles import neutralize_formula

log = logging.getLogger(__name__)

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
LICENSE_NOTE = (
    "Metadata and labels: CC-BY-4.0. Issue texts are not included; they remain their "
    "authors' and can be read at each issue's url."
)


class ExportError(ValueError):
    """The written dataset does not validate against its own datapackage.json."""


@dataclass(frozen=True)
class Field:
    """One CSV column: Frictionless type, unit and meaning (with how it is derived)."""

    name: str
    type: str
    description: str
    unit: str = ""


TABLES: dict[str, list[Field]] = {
    "issues": [
        Field(
            "issue_id",
            "integer",
            "Issue id: GitHub's, or a stable synthetic id (negative "
            "for study metadata without ids, see miner/makkouk.py).",
        ),
        Field("repository", "string", "owner/name of the GitHub repository."),
        Field(
            "group",
            "string",
            "Study group of the repository (e.g. ml, traditional); the "
            "repository name when none was set.",
        ),
        Field("number", "integer", "Issue number within the repository."),
        Field(
            "url",
            "string",
            "https://github.com/{repository}/issues/{number}: where to read "
            "the issue text, which is not redistributed.",
        ),
        Field("state", "string", "open or closed, as last seen."),
        Field("created_at", "datetime", "When the issue was opened.", "UTC"),
        Field("closed_at", "datetime", "When the issue was last closed; empty if open.", "UTC"),
        Field(
            "updated_at",
            "datetime",
            "Last update as stored (for study imports: the latest date the source gives).",
            "UTC",
        ),
        Field(
            "closed",
            "boolean",
            "state is closed and closed_at is known: the event of the survival analysis.",
        ),
        Field(
            "time_to_close_days",
            "number",
            "closed_at - created_at in days (seconds / "
            "86,400) for closed issues; empty for open ones. A reopened issue counts until "
            "its last closing, reopen periods included.",
            "days",
        ),
        Field(
            "duration_days",
            "number",
            "time_to_close_days for closed issues; for open ones "
            "the time from created_at to the end of observation (the latest created_at, "
            "updated_at or closed_at stored for the repository): the censoring time.",
            "days",
        ),
        Field(
            "comments_count",
            "integer",
            "Number of comments as GitHub (or the source "
            "study) counts them; may exceed the comments stored.",
            "comments",
        ),
        Field(
            "participants",
            "integer",
            "Distinct logins among the author and commenters; empty "
            "when the issue has comments but their authors are unknown.",
            "people",
        ),
        Field("author", "string", "Login of the issue author (public GitHub login)."),
        Field(
            "author_association",
            "string",
            "GitHub's author_association (OWNER, MEMBER, "
            "COLLABORATOR, CONTRIBUTOR, NONE, ...); a placeholder in some sources.",
        ),
        Field("closed_by", "string", "Login of who closed the issue, when known."),
        Field("labels", "string", "GitHub label names, sorted, joined with '; '."),
        Field(
            "category",
            "string",
            "Taxonomy code (taxonomy/system_issues.yaml) of the "
            "issue's system-related problem, NSR if none; empty when unknown.",
        ),
        Field(
            "category_source",
            "string",
            "human: the latest adjudication, else the label all "
            "annotators agree on (classifier.labels.human_categories); classifier: the "
            "decision of the dataset's model (model_version), whatever its probability; none: "
            "no model has classified the issue.",
        ),
        Field(
            "model_version",
            "string",
            "The one model whose decisions this dataset uses (the same on every row; "
            "empty when no model classified any issue).",
        ),
        Field(
            "model_category",
            "string",
            "The model's decided category for the issue, also where a human label exists "
            "and where the model abstained; empty when the model did not classify it.",
        ),
        Field(
            "model_probability",
            "number",
            "The model's probability of model_category.",
            "probability",
        ),
        Field(
            "model_abstained",
            "boolean",
            "model_probability is below the model's threshold, where its committed "
            "decisions reached the precision stated in its card: review before relying on "
            "this one decision. Category shares never drop such issues (see the datasheet).",
        ),
        Field(
            "model_system_probability",
            "number",
            "The model's probability that the issue is system-related (1 - P(NSR)).",
            "probability",
        ),
        Field("annotators", "integer", "Number of annotators who labeled the issue.", "people"),
    ],
    "annotations": [
        Field("issue_id", "integer", "The annotated issue (issues.issue_id)."),
        Field(
            "annotator",
            "string",
            "Annotator name (a person, or a study such as "
            "makkouk-icsme2022 whose labels were mapped onto the taxonomy).",
        ),
        Field(
            "kind",
            "string",
            "label (an annotator's answer) or adjudication (the resolved "
            "label after disagreement).",
        ),
        Field("status", "string", "labeled, unsure or skipped."),
        Field("category", "string", "Taxonomy code; empty when skipped."),
        Field("created_at", "datetime", "When the annotation was saved.", "UTC"),
    ],
    "labels": [
        Field("issue_id", "integer", "The issue (issues.issue_id)."),
        Field("label", "string", "A GitHub label name on the issue."),
    ],
    "people": [
        Field("issue_id", "integer", "The issue (issues.issue_id)."),
        Field("login", "string", "Public GitHub login."),
        Field(
            "role", "string", "author, closer (closed_by or the last 'closed' event) or commenter."
        ),
        Field(
            "comments",
            "integer",
            "Comments by this login on the issue (1 for author and closer rows).",
            "comments",
        ),
    ],
    "predictions": [
        Field("issue_id", "integer", "The classified issue (issues.issue_id)."),
        Field("model_version", "string", "Classifier version (models.version)."),
        Field(
            "category",
            "string",
            "The model's decided taxonomy code (its prior-weighted argmax, see the model "
            "card), stored whether or not it abstained.",
        ),
        Field("probability", "number", "Probability of that category.", "probability"),
        Field("abstained", "boolean", "The probability was below the model's own threshold."),
        Field("created_at", "datetime", "When the prediction was made.", "UTC"),
    ],
}


# --- frames ---------------------------------------------------------------------------------


def _issues_table(data: StudyData) -> pd.DataFrame:
    issues = data.issues.copy()
    issues["model_version"] = data.model_version
    issues["url"] = (
        "https://github.com/" + issues["repository"] + "/issues/" + issues["number"].astype(str)
    )
    names = data.labels.groupby("issue_id")["label"].agg(lambda s: "; ".join(sorted(s)))
    issues["labels"] = issues["issue_id"].map(names)
    return issues


def dataset_tables(engine: Engine, data: StudyData) -> dict[str, pd.DataFrame]:
    """The exported tables, columns in the order of `TABLES`."""
    frames = {
        "issues": _issues_table(data),
        "annotations": queries.read_annotations(engine),
        "labels": data.labels,
        "people": data.people,
        "predictions": queries.read_predictions(engine, data.model_version),
    }
    return {name: frames[name][[f.name for f in TABLES[name]]] for name in TABLES}


def _to_csv(frame: pd.DataFrame, fields: list[Field], path: Path) -> None:
    frame = frame.copy()
    for f in fields:
        if f.type == "datetime":
            frame[f.name] = pd.to_datetime(frame[f.name]).dt.strftime(TIME_FORMAT)
        elif f.type == "integer":
            frame[f.name] = frame[f.name].astype("Int64")
        elif f.type == "boolean":
            frame[f.name] = frame[f.name].map({True: "true", False: "false"})
        elif f.type == "string":  # logins, labels, annotators: strangers' text
            frame[f.name] = frame[f.name].map(neutralize_formula)
    frame.to_csv(path, index=False, float_format="%.6f", lineterminator="\n")


# --- documents ------------------------------------------------------------------------------


def data_dictionary() -> str:
    lines = ["# Data dictionary", "", "Times are UTC, ISO 8601 (`YYYY-MM-DDThh:mm:ssZ`).", ""]
    for table, fields in TABLES.items():
        lines += [f"## {table}.csv", "", "| column | type | unit | meaning and derivation |"]
        lines += ["|---|---|---|---|"]
        lines += [f"| {f.name} | {f.type} | {f.unit or '-'} | {f.description} |" for f in fields]
        lines.append("")
    return "\n".join(lines)


def agreement(annotations: pd.DataFrame) -> dict:
    """Krippendorff's alpha (nominal) and raw agreement over issues with two or more labels."""
    labels = annotations[(annotations["kind"] == "label") & (annotations["status"] == "labeled")]
    matrix = labels.pivot_table(
        index="annotator", columns="issue_id", values="category", aggfunc="first"
    )
    shared = matrix.loc[:, matrix.notna().sum() >= 2]
    if shared.shape[1] == 0:
        return {"issues": 0, "alpha": None, "agreement": None}
    alpha = krippendorff_alpha(shared.T)
    agree = shared.nunique() == 1
    return {
        "issues": int(shared.shape[1]),
        "alpha": None if alpha != alpha else alpha,
        "agreement": float(agree.mean()),
    }


def datasheet(data: StudyData, tables: dict[str, pd.DataFrame]) -> str:
    issues = tables["issues"]
    per_repo = (
        issues.groupby(["group", "repository"])
        .agg(
            issues=("issue_id", "size"),
            closed=("closed", "sum"),
            first=("created_at", "min"),
            last=("created_at", "max"),
        )
        .reset_index()
    )
    stats = agreement(tables["annotations"])
    counts = data.source_counts()
    annotators = sorted(tables["annotations"]["annotator"].unique())
    composition = "\n".join(
        f"- {r.repository} (group {r.group}): {r.issues} issues, {r.closed} closed, "
        f"opened {r.first:%Y-%m-%d} to {r.last:%Y-%m-%d}"
        for r in per_repo.itertuples()
    )
    alpha = "n/a" if stats["alpha"] is None else f"{stats['alpha']:.3f}"
    raw = "n/a" if stats["agreement"] is None else f"{stats['agreement']:.1%}"
    return DATASHEET.format(
        composition=composition,
        n=len(issues),
        human=counts["human"],
        classifier=counts["classifier"],
        none=counts["none"],
        model=data.model_version or "none",
        annotators=", ".join(annotators) or "none",
        shared=stats["issues"],
        alpha=alpha,
        raw=raw,
        license=LICENSE_NOTE,
    )


DATASHEET = """# Datasheet: system-related issues in ML frameworks

Following Gebru et al., "Datasheets for Datasets" (CACM 2021), in brief.

## Motivation
Built to study system-related issues (performance, memory, build, configuration, concurrency,
hardware, I/O, communication, conversion) in machine-learning frameworks: how often each kind
occurs, how long it takes to close, how much debate it draws, who handles it, and how that
changes over time. Regenerate it with `mlissues export` from the study database.

## Composition
{n} GitHub issues (pull requests excluded):
{composition}

Each issue has at most one category from the taxonomy in `taxonomy/system_issues.yaml`
(15 system-related categories and NSR, not system-related): {human} from humans,
{classifier} decided by model {model} (every decision, abstained or not), {none} not classified.
Tables: issues, annotations, labels (GitHub labels), people (authors, closers, commenters),
predictions. See data_dictionary.md for every column.

## Collection
Issues, comments, labels and events were crawled from the GitHub REST API, or imported from
published research data in the same shape (`../shared/corpus`: Denchmark, MHNurf, Makkouk et
al. ICSME 2022, Tambon et al. EMSE 2023, perfBugMiner) or from study metadata without texts
(Makkouk et al.: synthetic negative ids, empty titles). Ids in the corpus are synthetic.

## Labeling and agreement
Annotators: {annotators}. Each labels one primary category per issue following the project
codebook; disagreements are adjudicated. Over the {shared} issues labeled by two or more
annotators: Krippendorff's alpha (nominal) = {alpha}, raw agreement = {raw}.
Labels from the Makkouk et al. study are its performance root causes mapped onto our taxonomy
only where they match plainly (miner/makkouk.py, ROOT_CAUSE_CODES).

## Limits
- Issue texts are not included ({license}).
- Logins are public GitHub logins; comment authors are unknown for most corpus comments, so
  participants and commenter concentration are partial.
- author_association and some counts are placeholders in parts of the corpus (see its README).
- Time to close depends on when the data was observed: open issues are censored at the latest
  time stored for their repository.
- Classifier categories carry the classifier's errors; use category_source to separate them.
"""


# --- package --------------------------------------------------------------------------------


def datapackage(tables: dict[str, pd.DataFrame]) -> dict:
    """A Frictionless data package descriptor for the CSV files."""
    resources = [
        {
            "name": name,
            "path": f"{name}.csv",
            "format": "csv",
            "encoding": "utf-8",
            "schema": {
                "fields": [
                    {"name": f.name, "type": f.type, "description": f.description}
                    for f in TABLES[name]
                ]
            },
        }
        for name in tables
    ]
    return {
        "name": "mlissues-system-issues",
        "title": "System-related issues in ML frameworks",
        "licenses": [{"name": "CC-BY-4.0", "title": LICENSE_NOTE}],
        "resources": resources,
    }


def validate_package(path: Path) -> None:
    report = frictionless.validate(str(path))
    if not report.valid:
        errors = [e.message for task in report.tasks for e in task.errors][:5]
        raise ExportError(f"{path} does not validate: {'; '.join(errors)}")


def export_dataset(
    engine: Engine, out_dir: str | Path, model_version: str | None = None
) -> list[Path]:
    """Write the dataset into out_dir and validate it; returns the files written. The issues
    table carries one model's decisions (queries.choose_model; `model_version` to pick)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = load_study(engine, model_version)
    require_issues(data)
    tables = dataset_tables(engine, data)
    written = []
    for name, frame in tables.items():
        _to_csv(frame, TABLES[name], out_dir / f"{name}.csv")
        written.append(out_dir / f"{name}.csv")
    documents = {
        "data_dictionary.md": data_dictionary(),
        "datasheet.md": datasheet(data, tables),
        "datapackage.json": json.dumps(datapackage(tables), indent=2) + "\n",
    }
    for name, text in documents.items():
        (out_dir / name).write_text(text, encoding="utf-8")
        written.append(out_dir / name)
    validate_package(out_dir / "datapackage.json")
    log.info("dataset of %d issues written to %s", len(tables["issues"]), out_dir)
    return written
