"""Leak-free evaluation: repeated stratified cross-validation over issues, metrics and a report.

Every issue appears once in the labels (one final label per issue), so a fold split over rows is
a split over issues: no issue is ever in both the training and the test part of a fold (checked
for every fold). Categories with fewer members than folds stay in: StratifiedKFold puts each
member in a different test fold, so such a category is missing from some test folds and, with a
single member, absent from the training part when that member is tested (it then cannot be
predicted there, which is what the model would face on new data too). Per-category scores come
with their support so that rare categories are read for what they are.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.metrics import precision_recall_fscore_support as prfs
from sklearn.model_selection import RepeatedStratifiedKFold
from tqdm import tqdm

from classifier.model import prior_corrected
from db.cli import progress_enabled

log = logging.getLogger(__name__)

DEFAULT_SPLITS = 5
DEFAULT_REPEATS = 1
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.0, 1.0, 0.05))
# The abstention threshold is the lowest one whose committed decisions reach this precision on
# held-out (out-of-fold) issues; the share of decisions committed at it is reported as coverage.
TARGET_PRECISION = 0.9
# Held-out splits: a repository is left out when it has this many labeled issues; the time split
# tests on the newest share of issues; macro-F1 counts categories with this many test issues.
MIN_REPOSITORY_ISSUES = 50
TIME_TEST_SHARE = 0.2
MIN_TEST_SUPPORT = 5


class EvaluationError(ValueError):
    """The labels cannot be cross-validated as asked (too few issues or categories)."""


@dataclass
class CrossValidation:
    """Out-of-fold probabilities of one estimator: one matrix per repeat, rows as in `y`."""

    name: str
    classes: list[str]
    y: np.ndarray
    probabilities: list[np.ndarray]
    seconds: float

    def prior(self) -> np.ndarray:
        counts = pd.Series(self.y).value_counts()
        return np.array([counts[c] / len(self.y) for c in self.classes])

    def decided(self, prior_power: float = 0.0) -> list[np.ndarray]:
        """Index of the decided class per issue, per repeat (see model.prior_corrected)."""
        prior = self.prior()
        return [prior_corrected(p, prior, prior_power) for p in self.probabilities]

    def predictions(self, prior_power: float = 0.0) -> list[np.ndarray]:
        return [np.asarray(self.classes)[d] for d in self.decided(prior_power)]


def _aligned(estimator, probabilities: np.ndarray, classes: list[str]) -> np.ndarray:
    """Probabilities in `classes` order; classes the fold never saw get 0."""
    out = np.zeros((probabilities.shape[0], len(classes)))
    index = {code: i for i, code in enumerate(classes)}
    for j, code in enumerate(estimator.classes_):
        out[:, index[str(code)]] = probabilities[:, j]
    return out


def check_labels(y: np.ndarray, n_splits: int) -> None:
    if len(y) < 2 * n_splits:
        raise EvaluationError(f"{len(y)} labeled issues are too few for {n_splits}-fold evaluation")
    if len(set(y)) < 2:
        raise EvaluationError("the labels name only one category; a classifier needs two or more")


def cross_validate(
    name: str,
    estimator,
    documents: pd.DataFrame,
    y: np.ndarray,
    *,
    n_splits: int = DEFAULT_SPLITS,
    n_repeats: int = DEFAULT_REPEATS,
    seed: int = 0,
) -> CrossValidation:
    """Out-of-fold class probabilities of `estimator` over repeated stratified K folds."""
    y = np.asarray(y, dtype=object)
    check_labels(y, n_splits)
    classes = sorted(set(y))
    issue_ids = documents["issue_id"].to_numpy()
    splitter = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    repeats = [np.zeros((len(y), len(classes))) for _ in range(n_repeats)]
    start = time.perf_counter()
    bar = tqdm(
        total=n_splits * n_repeats,
        desc=f"cross-validating {name}",
        unit=" folds",
        disable=not progress_enabled(),
    )
    with bar, warnings.catch_warnings():
        # "The least populated class has only k members": expected and described above.
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        for fold, (train, test) in enumerate(splitter.split(np.zeros(len(y)), y)):
            if set(issue_ids[train]) & set(issue_ids[test]):
                raise EvaluationError("an issue is in both the training and the test part")
            fitted = clone(estimator).fit(documents.iloc[train], y[train])
            probabilities = fitted.predict_proba(documents.iloc[test])
            repeats[fold // n_splits][test] = _aligned(fitted, probabilities, classes)
            log.debug("%s: fold %d done", name, fold + 1)
            bar.update()
    seconds = time.perf_counter() - start
    log.info("%s: %d folds in %.0f s", name, n_splits * n_repeats, seconds)
    return CrossValidation(name, classes, y, repeats, seconds)


def _system(codes: np.ndarray, default_code: str) -> np.ndarray:
    return np.asarray(codes) != default_code


def brier_score(y: np.ndarray, probabilities: np.ndarray, classes: list[str]) -> float:
    """Multi-class Brier score: mean over issues of the squared error summed over classes."""
    truth = (np.asarray(y)[:, None] == np.asarray(classes)[None, :]).astype(float)
    return float(np.mean(np.sum((probabilities - truth) ** 2, axis=1)))


def _decided(probabilities: np.ndarray, decided: np.ndarray | None) -> np.ndarray:
    return probabilities.argmax(axis=1) if decided is None else decided


def reliability(
    y: np.ndarray,
    probabilities: np.ndarray,
    classes: list[str],
    decided: np.ndarray | None = None,
    bins: int = 10,
) -> tuple[list[dict], float]:
    """Reliability table of the decided class's probability and expected calibration error."""
    decided = _decided(probabilities, decided)
    confidence = probabilities[np.arange(len(decided)), decided]
    correct = np.asarray(classes)[decided] == np.asarray(y)
    edges = np.linspace(0, 1, bins + 1)
    table, ece = [], 0.0
    for low, high in itertools.pairwise(edges):
        inside = (confidence > low) & (confidence <= high) if low else confidence <= high
        if not inside.any():
            continue
        mean_confidence, accuracy = float(confidence[inside].mean()), float(correct[inside].mean())
        ece += inside.mean() * abs(mean_confidence - accuracy)
        table.append(
            {
                "bin": f"{low:.1f}-{high:.1f}",
                "issues": int(inside.sum()),
                "confidence": mean_confidence,
                "accuracy": accuracy,
            }
        )
    return table, float(ece)


def abstention_curve(
    y: np.ndarray, probabilities: np.ndarray, classes: list[str], decided: np.ndarray | None = None
) -> list[dict]:
    """Coverage and accuracy of the predictions kept at each confidence threshold."""
    decided = _decided(probabilities, decided)
    confidence = probabilities[np.arange(len(decided)), decided]
    predicted = np.asarray(classes)[decided]
    rows = []
    for threshold in THRESHOLDS:
        kept = confidence >= threshold
        rows.append(
            {
                "threshold": threshold,
                "coverage": float(kept.mean()),
                "accuracy": float((predicted[kept] == y[kept]).mean()) if kept.any() else None,
            }
        )
    return rows


def choose_threshold(curve: list[dict], target: float = TARGET_PRECISION) -> float:
    """The lowest threshold whose committed decisions reach `target` precision (else the most
    precise threshold)."""
    reached = [
        r["threshold"] for r in curve if r["accuracy"] is not None and r["accuracy"] >= target
    ]
    if reached:
        return float(min(reached))
    scored = [r for r in curve if r["accuracy"] is not None]
    return float(max(scored, key=lambda r: r["accuracy"])["threshold"])


def _repeat_scores(result: CrossValidation, default_code: str, power: float) -> pd.DataFrame:
    rows = []
    y = result.y
    for probabilities, decided in zip(result.probabilities, result.decided(power), strict=True):
        predicted = np.asarray(result.classes)[decided]
        p_system = 1 - probabilities[:, result.classes.index(default_code)]
        rows.append(
            {
                "macro_f1": f1_score(y, predicted, labels=result.classes, average="macro"),
                "weighted_f1": f1_score(y, predicted, average="weighted"),
                "accuracy": accuracy_score(y, predicted),
                "system_f1": f1_score(_system(y, default_code), _system(predicted, default_code)),
                "brier": brier_score(y, probabilities, result.classes),
                "system_brier": float(np.mean((p_system - _system(y, default_code)) ** 2)),
                "ece": reliability(y, probabilities, result.classes, decided)[1],
            }
        )
    return pd.DataFrame(rows)


def summarize(result: CrossValidation, default_code: str = "NSR", prior_power: float = 0.0) -> dict:
    """Mean and standard deviation over repeats of every score, per-category scores pooled over
    repeats (with support per repeat), the confusion matrix, calibration and abstention."""
    scores = _repeat_scores(result, default_code, prior_power)
    summary = {}
    for column in scores:
        summary[column] = float(scores[column].mean())
        summary[f"{column}_std"] = float(scores[column].std(ddof=0))
    repeats = len(result.probabilities)
    y_all = np.concatenate([result.y] * repeats)
    decided_all = np.concatenate(result.decided(prior_power))
    predicted_all = np.asarray(result.classes)[decided_all]
    probabilities_all = np.vstack(result.probabilities)
    precision, recall, f1, support = prfs(
        y_all, predicted_all, labels=result.classes, zero_division=0
    )
    per_category = {
        code: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i] // repeats),
        }
        for i, code in enumerate(result.classes)
    }
    curve = abstention_curve(y_all, probabilities_all, result.classes, decided_all)
    table, _ = reliability(y_all, probabilities_all, result.classes, decided_all)
    return {
        "name": result.name,
        "prior_power": prior_power,
        "summary": summary,
        "per_category": per_category,
        "confusion": confusion_matrix(y_all, predicted_all, labels=result.classes).tolist(),
        "classes": result.classes,
        "reliability": table,
        "abstention": curve,
        "threshold": choose_threshold(curve),
        "seconds": result.seconds,
    }


# --- held-out repositories and time ----------------------------------------------------------


def held_out_splits(documents: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Splits that test on issues unlike the training ones, as (train rows, test rows):

    'without <repository>' for each repository with MIN_REPOSITORY_ISSUES labeled issues
    (train on the others), and 'time' (train on the older issues, test on the newest
    TIME_TEST_SHARE by creation date).
    """
    splits: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    repositories = documents["repository"].str.lower().to_numpy()
    rows = np.arange(len(documents))
    for repository in sorted(set(repositories)):
        inside = repositories == repository
        if inside.sum() >= MIN_REPOSITORY_ISSUES and (~inside).any():
            splits[f"without {repository}"] = (rows[~inside], rows[inside])
    created = pd.to_datetime(documents["created_at"]).to_numpy()
    order = np.argsort(created, kind="stable")
    cut = round(len(order) * (1 - TIME_TEST_SHARE))
    if 0 < cut < len(order):
        splits["time"] = (np.sort(order[:cut]), np.sort(order[cut:]))
    return splits


def held_out_scores(
    y: np.ndarray, predicted: np.ndarray, default_code: str = "NSR", min_support: int = 5
) -> dict:
    """system-related F1, macro-F1 over the categories with `min_support` test issues,
    accuracy, and F1 per such category."""
    y, predicted = np.asarray(y, dtype=object), np.asarray(predicted, dtype=object)
    counts = pd.Series(y).value_counts()
    scored = sorted(code for code, n in counts.items() if n >= min_support)
    per_category = f1_score(y, predicted, labels=scored, average=None, zero_division=0)
    return {
        "n": len(y),
        "system_f1": float(f1_score(_system(y, default_code), _system(predicted, default_code))),
        "macro_f1": float(np.mean(per_category)) if scored else float("nan"),
        "accuracy": float(accuracy_score(y, predicted)),
        "categories": len(scored),
        "per_category": {code: float(f) for code, f in zip(scored, per_category, strict=True)},
    }


def evaluate_held_out(
    estimator,
    documents: pd.DataFrame,
    y: np.ndarray,
    *,
    prior_powers: tuple[float, ...] = (0.5,),
    default_code: str = "NSR",
) -> dict[float, dict[str, dict]]:
    """Scores of `estimator` on every held_out_splits split, for each prior power (decisions
    at several powers come from the same fitted models)."""
    y = np.asarray(y, dtype=object)
    out: dict[float, dict[str, dict]] = {power: {} for power in prior_powers}
    for name, (train, test) in held_out_splits(documents).items():
        fitted = clone(estimator).fit(documents.iloc[train], y[train])
        probabilities = fitted.predict_proba(documents.iloc[test])
        classes = np.asarray(fitted.classes_)
        prior = pd.Series(y[train]).value_counts().reindex(classes).to_numpy() / len(train)
        for power in prior_powers:
            predicted = classes[prior_corrected(probabilities, prior, power)]
            out[power][name] = held_out_scores(y[test], predicted, default_code)
        log.info("held out %s: %d train, %d test", name, len(train), len(test))
    return out


# --- the report ----------------------------------------------------------------------------

SUMMARY_KEYS = ("macro_f1", "system_f1", "accuracy", "weighted_f1", "brier", "ece")


def _fmt(value) -> str:
    return "" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def report_markdown(report: dict) -> str:
    """The evaluation as Markdown: protocol, model vs baselines, per category, abstention."""
    results = report["results"]
    chosen = report["chosen"]
    lines = [
        "# Classifier evaluation",
        "",
        f"{report['protocol']}. {report['n_issues']} labeled issues, "
        f"taxonomy {report['taxonomy_version']}. Chosen model: **{chosen}**, abstention "
        f"threshold {report['threshold']} (lowest whose committed decisions reach precision "
        f"{TARGET_PRECISION} out of fold).",
        "The chosen configuration and threshold were picked on these same folds, so its scores",
        "are slightly optimistic; the baselines involve no choice.",
        "",
        "## Model and baselines (mean ± std over repeats)",
        "",
        "| model | " + " | ".join(SUMMARY_KEYS) + " |",
        "|---|" + "---|" * len(SUMMARY_KEYS),
    ]
    for name, result in results.items():
        s = result["summary"]
        cells = [f"{s[k]:.3f} ± {s[k + '_std']:.3f}" for k in SUMMARY_KEYS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "## Per category (chosen model vs keyword rules), pooled over repeats", ""]
    lines += [
        "| category | support | precision | recall | F1 | rules F1 |",
        "|---|---|---|---|---|---|",
    ]
    rules = results.get("keyword rules", {}).get("per_category", {})
    for code, row in results[chosen]["per_category"].items():
        cells = [row["support"], row["precision"], row["recall"], row["f1"]]
        cells.append(rules.get(code, {}).get("f1"))
        lines.append(f"| {code} | " + " | ".join(_fmt(c) for c in cells) + " |")
    lines += ["", "## Abstention (chosen model)", "", "| threshold | coverage | accuracy |"]
    lines.append("|---|---|---|")
    for row in results[chosen]["abstention"]:
        cells = [row["threshold"], row["coverage"], row["accuracy"]]
        lines.append("| " + " | ".join(_fmt(c) for c in cells) + " |")
    lines += [
        "",
        "![confusion matrix](confusion_matrix.png)",
        "",
        "![reliability](reliability.png)",
    ]
    return "\n".join(lines) + "\n"


def confusion_figure(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = np.asarray(result["confusion"], dtype=float)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    classes = result["classes"]
    figure, axes = plt.subplots(figsize=(8, 7))
    image = axes.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(classes)), classes, rotation=90)
    axes.set_yticks(range(len(classes)), classes)
    axes.set_xlabel("predicted")
    axes.set_ylabel("labeled")
    axes.set_title(f"{result['name']}: confusion (row-normalized, pooled over repeats)")
    for i in range(len(classes)):
        for j in range(len(classes)):
            if counts[i, j]:
                color = "white" if rates[i, j] > 0.5 else "black"
                axes.text(
                    j, i, int(counts[i, j]), ha="center", va="center", fontsize=6, color=color
                )
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def reliability_figure(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5, 5))
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect")
    for name, result in results.items():
        table = result["reliability"]
        if len(table) > 1:
            axes.plot(
                [row["confidence"] for row in table],
                [row["accuracy"] for row in table],
                marker="o",
                label=name,
            )
    axes.set_xlabel("confidence (top probability)")
    axes.set_ylabel("accuracy")
    axes.set_title("Reliability of the top-label probability")
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write_report(report: dict, directory: str | Path) -> Path:
    """evaluation.json, evaluation.md, confusion_matrix.png and reliability.png in `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "evaluation.json").write_text(json.dumps(report, indent=2) + "\n")
    (directory / "evaluation.md").write_text(report_markdown(report))
    confusion_figure(report["results"][report["chosen"]], directory / "confusion_matrix.png")
    reliability_figure(report["results"], directory / "reliability.png")
    return directory / "evaluation.md"
