"""The model card: what a model was trained on, how well it does, and what it is for."""

from __future__ import annotations

from typing import Any

INTENDED_USE = (
    "Triage and large-scale labeling of GitHub issues of ML frameworks with the system-issue "
    "taxonomy, for empirical studies. Predictions below the threshold are marked abstained "
    "('needs review') and should be checked by a person before they are counted."
)
LIMITS = (
    "Trained on a few hundred issues from four repositories (mostly TensorFlow), sampled with "
    "keyword and label enrichment, so category shares differ from a random sample; rare "
    "categories have only a handful of examples and low recall. English text only. The "
    "repository-label features are specific to the repositories' label schemes."
)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _number(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def card_markdown(card: dict) -> str:
    """The card as a short Markdown document."""
    lines = [
        f"# Model card: {card.get('version')}",
        "",
        f"- trained: {card.get('trained_at')}",
        f"- taxonomy: {card.get('taxonomy_name', '')} {card.get('taxonomy_version')}",
        f"- structure: {card.get('structure')}, learner: {card.get('learner')}",
        f"- abstention threshold: {card.get('threshold')}",
        f"- training issues: {card.get('n_train')} (labels from {card.get('label_source')})",
        "",
        "## Intended use",
        card.get("intended_use", INTENDED_USE),
        "",
        "## Limits",
        card.get("limits", LIMITS),
        "",
        "## Training data per category",
    ]
    counts = card.get("class_counts", {})
    lines += _table(["category", "issues"], [[k, v] for k, v in counts.items()])
    metrics = card.get("metrics") or {}
    summary = metrics.get("summary") or {}
    if summary:
        lines += ["", f"## Cross-validated metrics ({metrics.get('protocol', '')})"]
        names = list(summary)
        keys = [k for k in next(iter(summary.values())) if not k.endswith("_std")]
        lines += _table(
            ["metric", *names],
            [[key, *(_number(summary[name].get(key)) for name in names)] for key in keys],
        )
    per_category = metrics.get("per_category") or {}
    if per_category:
        lines += ["", "## Per category (chosen model, cross-validated)"]
        lines += _table(
            ["category", "support", "precision", "recall", "F1"],
            [
                [code, r["support"], *(_number(r[k]) for k in ("precision", "recall", "f1"))]
                for code, r in per_category.items()
            ],
        )
    return "\n".join(lines) + "\n"
