"""`mlissues export`: the dataset as CSV, a data dictionary, a datasheet and datapackage.json.

Issue titles and bodies are not exported. They belong to their authors (GitHub's terms give us
no licence to redistribute them), may carry personal data, and can be fetched again from the
`url` column; the dataset holds references, metadata and our labels. Annotator notes stay out
for the same reason: they may quote the issue.

Every column is declared once in `TABLES` (type, unit, meaning, derivation, whether it holds a
GitHub login); the CSV writer, the data dictionary, the Frictionless schema and the login
pseudonymization are all generated from it. Keys are declared once in `PRIMARY_KEYS`.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import frictionless
import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from analysis import queries
from analysis.queries import StudyData, load_study, require_issues
from classifier.labeling.agreement import krippendorff_alpha
from db.csvfiles import neutralize_formula, runs_as_formula

log = logging.getLogger(__name__)

NOT_STATED = "not stated"
UPSTREAM_LICENSE = (
    "no license granted; the issue texts and metadata come from GitHub, where their authors "
    "keep their rights and GitHub's Terms of Service let others view public content, not "
    "redistribute it. The texts are therefore left out and every row links to its issue; "
    "whether sharing the metadata is allowed where you use it is for you to check"
)
LOGIN_KEY_ENV = "MLISSUES_LOGIN_KEY"


class ExportError(ValueError):
    """The written dataset does not validate against its own datapackage.json."""


class MissingLoginKeyError(ValueError):
    """Pseudonymizing logins needs a key, and none was given."""


@dataclass(frozen=True)
class Field:
    """One CSV column: Frictionless type, unit and meaning (with how it is derived); `login`
    marks a column of GitHub logins (personal data, pseudonymized on request)."""

    name: str
    type: str
    description: str
    unit: str = ""
    login: bool = False


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
            "state is closed, closed_at is known and no later than the end of observation: "
            "the event of the survival analysis.",
        ),
        Field(
            "close_time_unknown",
            "boolean",
            "state is closed but closed_at is missing: closed at an unknown time. Such issues "
            "have no duration; time analyses leave them out (they never count as open).",
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
            "time_to_close_days for closed issues; for open ones the time from created_at to "
            "the end of observation, the censoring time: the study's collection end when the "
            "study file gives one, else the end of the repository's latest crawl, else the "
            "latest created_at, updated_at or closed_at stored for the repository (the "
            "datasheet says which). Empty when close_time_unknown.",
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
        Field(
            "author",
            "string",
            "Login of the issue author (public GitHub login; its keyed hash when pseudonymized).",
            login=True,
        ),
        Field(
            "author_association",
            "string",
            "GitHub's author_association (OWNER, MEMBER, "
            "COLLABORATOR, CONTRIBUTOR, NONE, ...); a placeholder in some sources.",
        ),
        Field(
            "closed_by",
            "string",
            "Login of who closed the issue, when known (its keyed hash when pseudonymized).",
            login=True,
        ),
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
        Field(
            "login",
            "string",
            "Public GitHub login (its keyed hash when pseudonymized).",
            login=True,
        ),
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
# What identifies a row of each table; every other table refers to issues by issue_id.
PRIMARY_KEYS: dict[str, list[str]] = {
    "issues": ["issue_id"],
    "annotations": ["issue_id", "annotator", "kind"],
    "labels": ["issue_id", "label"],
    "people": ["issue_id", "login", "role"],
    "predictions": ["issue_id", "model_version"],
}


# --- frames ---------------------------------------------------------------------------------


def _issues_table(data: StudyData) -> pd.DataFrame:
    issues = data.issues.copy()
    issues["model_version"] = data.model_version
    issues["url"] = (
        "https://github.com/" + issues["repository"] + "/issues/" + issues["number"].astype(str)
    )
    issues["labels"] = issues["issue_id"].map(_label_names(data.labels))
    return issues


def _label_names(labels: pd.DataFrame) -> pd.Series:
    """Issue id -> its GitHub label names, sorted, joined with '; '. Sorted once for all issues
    and joined in one pass: a pandas aggregation per issue costs a minute for a million."""
    if labels.empty:
        return pd.Series(dtype=object)
    ordered = labels.sort_values(["issue_id", "label"], kind="stable")
    ids, names = ordered["issue_id"].to_numpy(), ordered["label"].tolist()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    joined = ["; ".join(names[start:end]) for start, end in zip(starts, ends, strict=True)]
    return pd.Series(joined, index=ids[starts], dtype=object)


def dataset_tables(engine: Engine, data: StudyData) -> dict[str, pd.DataFrame]:
    """The exported tables, columns in the order of `TABLES`; rows of the other tables only
    for exported issues (no pull requests), one per primary key."""
    frames = {
        "issues": _issues_table(data),
        "annotations": queries.read_annotations(engine),
        "labels": data.labels,
        "people": data.people,
        "predictions": queries.read_predictions(engine, data.model_version, probabilities=False),
    }
    ids = frames["issues"]["issue_id"]
    tables = {}
    for name, fields in TABLES.items():
        frame = frames[name][[f.name for f in fields]]
        frame = frame[frame["issue_id"].isin(ids)].drop_duplicates(PRIMARY_KEYS[name])
        tables[name] = frame.reset_index(drop=True)
    return tables


def read_login_key(given: str | None) -> bytes:
    """The pseudonymization key: `given`, else the MLISSUES_LOGIN_KEY environment variable."""
    key = given or os.environ.get(LOGIN_KEY_ENV, "")
    if not key:
        raise MissingLoginKeyError(
            f"pseudonymizing logins needs a key: pass --login-key or set {LOGIN_KEY_ENV}"
        )
    return key.encode("utf-8")


def pseudonym(login: str, key: bytes) -> str:
    """A login's keyed hash (HMAC-SHA256, hex): the same login gives the same pseudonym in
    every table, and without the key nobody can test a guess."""
    return hmac.new(key, login.encode("utf-8"), hashlib.sha256).hexdigest()


def pseudonymize(tables: dict[str, pd.DataFrame], key: bytes) -> dict[str, pd.DataFrame]:
    """Every login column (Field.login) replaced by its pseudonym; missing logins stay so."""
    out = {}
    for name, frame in tables.items():
        frame = frame.copy()
        for f in TABLES[name]:
            if f.login:
                frame[f.name] = frame[f.name].map(
                    lambda login: pseudonym(login, key) if isinstance(login, str) else login
                )
        out[name] = frame
    return out


def _iso_times(values: pd.Series) -> pd.Series:
    """Each time as ISO 8601 UTC text, YYYY-MM-DDThh:mm:ssZ (as data_dictionary says), missing
    ones missing; numpy formats a million times in a fraction of strftime's seconds."""
    times = pd.to_datetime(values)
    text = np.datetime_as_string(times.to_numpy("datetime64[s]"), unit="s")
    return pd.Series(np.char.add(text, "Z"), index=values.index).where(times.notna())


def _neutralized(values: pd.Series) -> pd.Series:
    """neutralize_formula over a column, called only on the cells that start like a formula
    (a Python call per cell costs 40 s for a million issues)."""
    risky = np.fromiter(map(runs_as_formula, values), bool, len(values))
    if not risky.any():
        return values
    return values.mask(risky, values[risky].map(neutralize_formula))


def _to_csv(frame: pd.DataFrame, fields: list[Field], path: Path) -> None:
    frame = frame.copy()
    for f in fields:
        if f.type == "datetime":
            frame[f.name] = _iso_times(frame[f.name])
        elif f.type == "integer":
            frame[f.name] = frame[f.name].astype("Int64")
        elif f.type == "boolean":
            frame[f.name] = frame[f.name].map({True: "true", False: "false"})
        elif f.type == "string":  # logins, labels, annotators: strangers' text
            frame[f.name] = _neutralized(frame[f.name])
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


def _stated(metadata: dict, key: str) -> str:
    value = metadata.get(key)
    if not value:
        return NOT_STATED
    return "; ".join(value) if isinstance(value, list) else str(value)


def _logins(tables: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Distinct values of each login column, and of all of them together."""
    columns = {
        f"{name}.{f.name}": tables[name][f.name].dropna()
        for name, fields in TABLES.items()
        for f in fields
        if f.login
    }
    counts = {column: int(values.nunique()) for column, values in columns.items()}
    counts["all"] = int(pd.concat(list(columns.values())).nunique())
    return counts


def datasheet(data: StudyData, tables: dict[str, pd.DataFrame], pseudonymized: bool) -> str:
    """The datasheet (Gebru et al.): what the study file states, else 'not stated'."""
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
    logins = _logins(tables)
    meta = data.metadata
    return DATASHEET.format(
        title=_stated(meta, "title") if meta.get("title") else DEFAULT_TITLE,
        description=f"{meta['description']}\n\n" if meta.get("description") else "",
        creators=_stated(meta, "creators"),
        version=_stated(meta, "version"),
        license=_stated(meta, "license"),
        contact=_stated(meta, "contact"),
        upstream=UPSTREAM_LICENSE,
        collection_end=_stated(meta, "collection_end"),
        first=f"{issues['created_at'].min():%Y-%m-%d}",
        last=f"{issues['created_at'].max():%Y-%m-%d}",
        censoring=data.censoring,
        composition=composition,
        n=len(issues),
        human=counts["human"],
        decided=(
            f"{counts['classifier']} decided by model {data.model_version} (every decision, "
            "abstained or not)"
            if data.model_version
            else "none decided by a model (the database holds no model's predictions)"
        ),
        none=counts["none"],
        unknown_close=int(issues["close_time_unknown"].sum()),
        annotators=", ".join(annotators) or "none",
        shared=stats["issues"],
        alpha=alpha,
        raw=raw,
        logins=logins["all"],
        login_columns=", ".join(f"{c} ({n})" for c, n in logins.items() if c != "all"),
        login_form=LOGINS_PSEUDONYMIZED if pseudonymized else LOGINS_AS_IS,
    )


DEFAULT_TITLE = "system-related issues in ML frameworks"
LOGINS_AS_IS = (
    "In this export they appear as they are on GitHub. `mlissues export "
    "--pseudonymize-logins` replaces each with its keyed hash instead."
)
LOGINS_PSEUDONYMIZED = (
    "In this export each is replaced by its keyed hash (HMAC-SHA256, hex), the same in "
    "every table, so one person's issues can still be counted together; the key stays "
    "with the publisher and is in no file of the dataset. Logins can still be recovered "
    "by whoever holds the key, or by matching public activity (dates, repositories)."
)

DATASHEET = """# Datasheet: {title}

Following Gebru et al., "Datasheets for Datasets" (CACM 2021). Values the study file does not
give are marked "not stated".

- Creators: {creators}
- Version: {version}
- Contact: {contact}
- License of this dataset (labels, predictions and derived columns): {license}
- License of the upstream data (GitHub issue texts and metadata): {upstream}.

## Motivation
{description}Built to study system-related issues (performance, memory, build, configuration,
concurrency, hardware, I/O, communication, conversion) in machine-learning frameworks: how often
each kind occurs, how long it takes to close, how much debate it draws, who handles it, and how
that changes over time. Created by: {creators}.

## Composition
{n} GitHub issues (pull requests excluded):
{composition}

Each issue has at most one category from the taxonomy in `taxonomy/system_issues.yaml`
(15 system-related categories and NSR, not system-related): {human} from humans,
{decided}, {none} not classified.
Tables: issues, annotations, labels (GitHub labels), people (authors, closers, commenters),
predictions; `datapackage.json` declares their primary keys and the references to
issues.issue_id. See data_dictionary.md for every column.

Issue titles and bodies are not included: they belong to their authors, and each row links to
its issue.

### Personal data: GitHub logins
The dataset holds {logins} distinct GitHub logins, in {login_columns}. They are public on
GitHub, and kept because RQ4 (who opens, closes and discusses which issues) needs to count each
person's issues together. {login_form}
Annotator names (annotations.annotator) are the project's annotators or source studies, not
GitHub logins. To have your login removed, ask the contact above; the maintainers then delete
it from the database and publish a new version. Do not use the logins to contact, profile or
rank individuals.

## Collection process
Issues, comments, labels and events were crawled from the GitHub REST API (`mlissues crawl`),
or imported from published research data in the same shape (`../shared/corpus`: Denchmark,
MHNurf, Makkouk et al. ICSME 2022, Tambon et al. EMSE 2023, perfBugMiner) or from study
metadata without texts (Makkouk et al.: synthetic negative ids, empty titles). Ids in the
corpus are synthetic.
Collection window: issues opened from {first} to {last}; collection end: {collection_end}.
Time to close: {censoring}. {unknown_close} issue(s) are closed without a close date
(close_time_unknown): they have no time to close and do not count as open.

## Preprocessing, cleaning and labeling
Pull requests are dropped; times are UTC. Annotators: {annotators}. Each labels one primary
category per issue following the project codebook; disagreements are adjudicated. Over the
{shared} issues labeled by two or more annotators: Krippendorff's alpha (nominal) = {alpha},
raw agreement = {raw}. Labels from the Makkouk et al. study are its performance root causes
mapped onto our taxonomy only where they match plainly (miner/makkouk.py, ROOT_CAUSE_CODES).
Categories of unlabeled issues are the model's decisions; category_source says which.

## Uses
Intended: research on how ML frameworks' system-related issues arise, are discussed and are
closed; training and evaluating issue classifiers (use category_source to keep human labels
apart). Beware: classifier categories carry the classifier's errors; comment authors are
unknown for most corpus comments, so participants and commenter concentration are partial;
author_association is a placeholder ("NONE") in parts of the corpus; time to close depends on
the collection end. Not for: contacting, profiling, ranking or judging individual
contributors.

## Distribution
Distributed as CSV files with data_dictionary.md, this datasheet and a Frictionless
datapackage.json, regenerated by `mlissues export`. License of this dataset: {license}.
Upstream data: {upstream}.

## Maintenance
Maintained by: {creators} (contact: {contact}). Version {version}; a new version is exported
from the study database after new crawls, labels or removals (`mlissues export`). Errata and
removal requests go to the contact.
"""


# --- package --------------------------------------------------------------------------------


def _schema(name: str) -> dict:
    schema = {
        "fields": [
            {"name": f.name, "type": f.type, "description": f.description} for f in TABLES[name]
        ],
        "primaryKey": PRIMARY_KEYS[name],
    }
    if name != "issues":
        schema["foreignKeys"] = [
            {"fields": "issue_id", "reference": {"resource": "issues", "fields": "issue_id"}}
        ]
    return schema


def datapackage(tables: dict[str, pd.DataFrame], metadata: dict | None = None) -> dict:
    """A Frictionless data package descriptor for the CSV files, with primary and foreign
    keys; the license only when the study file states one."""
    metadata = metadata or {}
    resources = [
        {
            "name": name,
            "path": f"{name}.csv",
            "format": "csv",
            "encoding": "utf-8",
            "schema": _schema(name),
        }
        for name in tables
    ]
    described = [metadata["description"]] if metadata.get("description") else []
    package = {
        "name": "mlissues-system-issues",
        "title": metadata.get("title", "System-related issues in ML frameworks"),
        "description": " ".join([*described, f"License of the upstream data: {UPSTREAM_LICENSE}."]),
        "resources": resources,
    }
    if metadata.get("version"):
        package["version"] = metadata["version"]
    if metadata.get("license"):
        package["licenses"] = [{"name": metadata["license"]}]
    if metadata.get("creators"):
        package["contributors"] = [{"title": name} for name in metadata["creators"]]
    return package


# Frictionless validates the descriptor, and each file's header and cells over its first
# VALIDATED_ROWS rows. Its check of every row's keys reads issues.csv once per table that refers
# to it, cell by cell in Python (a minute for the 34k-issue study, hours for a million issues),
# so every row's primary and foreign keys are checked column-wise instead (`_key_errors`). The
# cells' types hold by construction (`_to_csv` writes each column from its declared type).
VALIDATED_ROWS = 1_000


def validate_package(path: Path) -> None:
    """Check the written package: frictionless over the descriptor and the first rows of each
    file, then every row's keys; ExportError names the first problems."""
    descriptor = json.loads(Path(path).read_text(encoding="utf-8"))
    errors = _frictionless_errors(descriptor, Path(path).parent)
    errors = errors or _key_errors(descriptor, Path(path).parent)
    if errors:
        raise ExportError(f"{path} does not validate: {'; '.join(errors[:5])}")


# jsonschema, which frictionless checks descriptors with, imports the optional rfc3987-syntax
# package when it is installed (jupyter brings it). That import compiles Lark grammars for
# the "iri" formats (1.6-1.7 s against 0.07-0.09 s without: benchmarks/import_costs.py),
# formats frictionless never checks. The plugin is hidden while jsonschema is first imported,
# and only then.
IRI_PLUGIN = "rfc3987_syntax"


def _import_jsonschema_without_iri_grammars() -> None:
    if "jsonschema" in sys.modules or IRI_PLUGIN in sys.modules:
        return
    sys.modules[IRI_PLUGIN] = None  # importing it now raises ImportError, which jsonschema expects
    try:
        importlib.import_module("jsonschema")
    finally:
        del sys.modules[IRI_PLUGIN]


def _frictionless_errors(descriptor: dict, folder: Path) -> list[str]:
    _import_jsonschema_without_iri_grammars()
    report = frictionless.Package.validate_descriptor(descriptor)
    if report.valid:
        # Without its foreign keys, so that frictionless does not read issues.csv for them.
        resources = [
            {**r, "schema": {k: v for k, v in r["schema"].items() if k != "foreignKeys"}}
            for r in descriptor["resources"]
        ]
        package = frictionless.Package({**descriptor, "resources": resources}, basepath=str(folder))
        report = package.validate(limit_rows=VALIDATED_ROWS)
    return [e.message for e in report.errors] + [
        e.message for task in report.tasks for e in task.errors
    ]


def _key_errors(descriptor: dict, folder: Path) -> list[str]:
    """Every row's primary key present and unique, and its foreign keys found in the table
    they refer to; keys compared as the text written (pandas, column-wise)."""
    resources = {r["name"]: r for r in descriptor["resources"]}

    def column(name: str, fields: list[str]) -> pd.DataFrame:
        path = folder / resources[name]["path"]
        return pd.read_csv(path, usecols=fields, dtype=str, keep_default_na=False)

    errors = []
    for name, resource in resources.items():
        schema = resource["schema"]
        keys = column(name, schema["primaryKey"])
        broken = keys.eq("").any(axis=1) | keys.duplicated(keep="first")
        if broken.any():
            row = int(broken.to_numpy().argmax()) + 2  # the header is line 1
            errors.append(f"{name}.csv line {row}: its primary key is missing or repeated")
        for foreign in schema.get("foreignKeys", []):
            field, reference = foreign["fields"], foreign["reference"]
            values = column(name, [field])[field]
            known = column(reference["resource"], [reference["fields"]])[reference["fields"]]
            missing = values.ne("") & ~values.isin(known)
            if missing.any():
                row = int(missing.to_numpy().argmax())
                errors.append(
                    f"{name}.csv line {row + 2} violates the foreign key: {field} "
                    f"{values.iloc[row]} is not in {reference['resource']}.{reference['fields']}"
                )
    return errors


def export_dataset(
    engine: Engine,
    out_dir: str | Path,
    model_version: str | None = None,
    login_key: bytes | None = None,
) -> list[Path]:
    """Write the dataset into out_dir and validate it; returns the files written. The issues
    table carries one model's decisions (queries.choose_model; `model_version` to pick). With
    `login_key`, every login is replaced by its keyed hash (`pseudonymize`); the key itself is
    written nowhere."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = load_study(engine, model_version)
    require_issues(data)
    tables = dataset_tables(engine, data)
    if login_key is not None:
        tables = pseudonymize(tables, login_key)
    written = []
    for name, frame in tables.items():
        _to_csv(frame, TABLES[name], out_dir / f"{name}.csv")
        written.append(out_dir / f"{name}.csv")
    documents = {
        "data_dictionary.md": data_dictionary(),
        "datasheet.md": datasheet(data, tables, pseudonymized=login_key is not None),
        "datapackage.json": json.dumps(datapackage(tables, data.metadata), indent=2) + "\n",
    }
    for name, text in documents.items():
        (out_dir / name).write_text(text, encoding="utf-8")
        written.append(out_dir / name)
    validate_package(out_dir / "datapackage.json")
    log.info("dataset of %d issues written to %s", len(tables["issues"]), out_dir)
    return written
