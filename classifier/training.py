"""Train: labels -> documents -> cross-validated choice of model -> fitted, versioned artifact."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from classifier.card import INTENDED_USE, LIMITS
from classifier.documents import issue_documents, issue_ids_by_reference
from classifier.evaluation import (
    DEFAULT_REPEATS,
    DEFAULT_SPLITS,
    EvaluationError,
    check_labels,
    cross_validate,
    evaluate_held_out,
    summarize,
)
from classifier.model import IssueClassifier, baseline_pipelines, build_pipeline
from db.schema import models
from db.upsert import upsert
from taxonomy import Taxonomy, default_taxonomy

log = logging.getLogger(__name__)

# The configuration that benchmarks/select_model.py chose on held-out repositories and time
# (build_pipeline's defaults). `train` scores it at every prior power (see
# model.prior_corrected) and keeps the power with the best held-out macro-F1.
CANDIDATES: dict[str, dict] = {"gated": {"structure": "gated"}}
PRIOR_POWERS = (0.0, 0.5, 1.0)


class TrainingError(ValueError):
    """Training cannot run on these labels or this database; the message says why."""


@dataclass
class LabeledSet:
    """Documents and their final labels, in the same row order."""

    documents: pd.DataFrame
    y: np.ndarray
    missing: list[tuple[str, int]]
    source: str

    def counts(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in pd.Series(self.y).value_counts().items()}

    def fingerprint(self) -> str:
        """A short hash of (issue id, label) pairs: the same labels give the same version."""
        pairs = sorted(zip(self.documents["issue_id"].tolist(), self.y.tolist(), strict=True))
        return hashlib.sha256(repr(pairs).encode()).hexdigest()[:8]


def labeled_set(engine: Engine, labels: pd.DataFrame, source: str) -> LabeledSet:
    """Join final labels (repository, number, category) to the issues in the database."""
    ids = issue_ids_by_reference(engine, zip(labels["repository"], labels["number"], strict=True))
    keys = [
        (r.lower(), int(n)) for r, n in zip(labels["repository"], labels["number"], strict=True)
    ]
    present = [key in ids for key in keys]
    missing = [key for key, ok in zip(keys, present, strict=True) if not ok]
    if missing:
        log.warning(
            "%d labeled issues are not in the database, e.g. %s#%d", len(missing), *missing[0]
        )
    labels = labels[present]
    issue_ids = [ids[key] for key, ok in zip(keys, present, strict=True) if ok]
    documents = issue_documents(engine, issue_ids).set_index("issue_id").loc[issue_ids]
    return LabeledSet(documents.reset_index(), labels["category"].to_numpy(), missing, source)


def model_version(taxonomy: Taxonomy, structure: str, data: LabeledSet, now: datetime) -> str:
    return f"sysissues-{taxonomy.version}-{structure}-{now:%Y%m%dT%H%M%S}-{data.fingerprint()}"


def evaluate_candidates(
    data: LabeledSet,
    taxonomy: Taxonomy,
    *,
    n_splits: int = DEFAULT_SPLITS,
    n_repeats: int = DEFAULT_REPEATS,
    candidates: dict[str, dict] | None = None,
    seed: int = 0,
) -> dict:
    """Cross-validate every candidate and the baselines, and score the candidates on held-out
    repositories and a time split (evaluation.held_out_splits). The report names the candidate
    and prior power with the best mean held-out macro-F1 (pooled cross-validation when there is
    no held-out split, e.g. a single small repository). Its threshold comes from the pooled
    out-of-fold probabilities."""
    check_labels(data.y, n_splits)
    candidates = CANDIDATES if candidates is None else candidates
    estimators = {  # folds repeat the same texts
        name: build_pipeline(taxonomy=taxonomy, memoize_text=True, **p)
        for name, p in candidates.items()
    }
    estimators.update(baseline_pipelines(taxonomy))
    results, params, held_out, out_of_fold = {}, {}, {}, {}
    for name, estimator in estimators.items():
        result = cross_validate(
            name,
            estimator,
            data.documents,
            data.y,
            n_splits=n_splits,
            n_repeats=n_repeats,
            seed=seed,
        )
        if name not in candidates:
            results[name] = summarize(result, taxonomy.default_code)
            continue
        splits = evaluate_held_out(
            estimator,
            data.documents,
            data.y,
            prior_powers=PRIOR_POWERS,
            default_code=taxonomy.default_code,
        )
        for power in PRIOR_POWERS:
            label = f"{name}, prior^{power:g}"
            results[label] = {**summarize(result, taxonomy.default_code, power), "name": label}
            params[label] = {**candidates[name], "prior_power": power}
            held_out[label] = splits[power]
            out_of_fold[label] = result
    chosen = max(params, key=lambda label: _selection_score(results[label], held_out[label]))
    return {
        "protocol": f"{n_splits}-fold stratified cross-validation repeated {n_repeats} times "
        f"(seed {seed}), folds split by issue",
        "n_issues": len(data.y),
        "class_counts": data.counts(),
        "taxonomy_version": taxonomy.version,
        "chosen": chosen,
        "chosen_params": params[chosen],
        "threshold": results[chosen]["threshold"],
        "results": results,
        "held_out": held_out[chosen],
        "out_of_fold": out_of_fold_record(out_of_fold[chosen]),
        "selection": "mean macro-F1 over held-out repositories and the time split"
        if held_out[chosen]
        else "pooled cross-validated macro-F1 (no held-out split possible)",
    }


def out_of_fold_record(result) -> dict:
    """The chosen model's out-of-fold probabilities with the true labels (first repeat): its
    error on issues it was not trained on, which quantification needs (analysis.shares)."""
    return {
        "protocol": "out-of-fold probabilities of pooled cross-validation, first repeat",
        "classes": list(result.classes),
        "labels": [str(code) for code in result.y],
        "probabilities": np.round(result.probabilities[0], 5).tolist(),
    }


def _selection_score(result: dict, held_out: dict[str, dict]) -> tuple[float, float]:
    """(macro-F1, system F1) averaged over the held-out splits, else pooled cross-validation."""
    if not held_out:
        return result["summary"]["macro_f1"], result["summary"]["system_f1"]
    macro = [s["macro_f1"] for s in held_out.values() if s["macro_f1"] == s["macro_f1"]]
    system = [s["system_f1"] for s in held_out.values()]
    return float(np.mean(macro)) if macro else 0.0, float(np.mean(system))


def _metrics(report: dict) -> dict:
    """The card's metrics: summaries of every evaluated model, per-category of the chosen one."""
    return {
        "protocol": report["protocol"],
        "summary": {name: r["summary"] for name, r in report["results"].items()},
        "per_category": report["results"][report["chosen"]]["per_category"],
        "abstention": report["results"][report["chosen"]]["abstention"],
        "held_out": report.get("held_out", {}),
        "selection": report.get("selection"),
    }


def fit_model(
    data: LabeledSet,
    taxonomy: Taxonomy,
    report: dict,
    now: datetime | None = None,
) -> IssueClassifier:
    """Fit the chosen candidate on all labels and wrap it with its version and card."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    params = report["chosen_params"]
    pipeline = build_pipeline(taxonomy=taxonomy, **params)
    started = datetime.now(UTC)
    pipeline.fit(data.documents, data.y)
    seconds = (datetime.now(UTC) - started).total_seconds()
    version = model_version(taxonomy, params.get("structure", "joint"), data, now)
    card = {
        "version": version,
        "trained_at": now.isoformat(timespec="seconds"),
        "taxonomy_name": taxonomy.name,
        "taxonomy_version": taxonomy.version,
        "structure": params.get("structure", "joint"),
        "learner": params.get("learner", "svm"),
        "prior_power": params.get("prior_power", 0.0),
        "threshold": report["threshold"],
        "n_train": len(data.y),
        "class_counts": data.counts(),
        "label_source": data.source,
        "fit_seconds": round(seconds, 2),
        "metrics": _metrics(report),
        "intended_use": INTENDED_USE,
        "limits": LIMITS,
    }
    return IssueClassifier(
        pipeline, version, float(report["threshold"]), card, report.get("out_of_fold")
    )


def register_model(engine: Engine, model: IssueClassifier, artifact_path: str | None) -> None:
    """Insert or update the model's row in the models table."""
    trained_at = datetime.fromisoformat(model.card["trained_at"]) if model.card else None
    row = {
        "version": model.version,
        "trained_at": trained_at or datetime.now(UTC).replace(tzinfo=None),
        "taxonomy_version": model.taxonomy_version,
        "artifact_path": artifact_path,
        # The out-of-fold record goes with the metrics: analysis.shares corrects for it.
        "metrics": {**((model.card or {}).get("metrics") or {}), "out_of_fold": model.out_of_fold},
        "card": model.card,
    }
    with engine.begin() as connection:
        upsert(connection, models, [row], key=["version"])


def train(
    engine: Engine,
    labels: pd.DataFrame,
    *,
    source: str,
    taxonomy: Taxonomy | None = None,
    out: str | Path | None = None,
    n_splits: int = DEFAULT_SPLITS,
    n_repeats: int = DEFAULT_REPEATS,
    candidates: dict[str, dict] | None = None,
    on_report: Callable[[dict], None] | None = None,
) -> tuple[IssueClassifier, Path, dict]:
    """Evaluate, fit, save to `out` (default data/models/<version>) and register the model."""
    taxonomy = taxonomy or default_taxonomy()
    data = labeled_set(engine, labels, source)
    try:
        report = evaluate_candidates(
            data, taxonomy, n_splits=n_splits, n_repeats=n_repeats, candidates=candidates
        )
    except EvaluationError as error:
        raise TrainingError(str(error)) from None
    report["missing_issues"] = len(data.missing)
    if on_report is not None:
        on_report(report)
    model = fit_model(data, taxonomy, report)
    directory = Path(out) if out else Path("data/models") / model.version
    artifact = model.save(directory)
    register_model(engine, model, str(artifact))
    return model, artifact, report
