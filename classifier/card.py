"""The model card: what a model was trained on, how well it does, and what it is for."""

from __future__ import annotations

from typing import Any

INTENDED_USE = (
    "Triage and large-scale labeling of GitHub issues of ML frameworks with the system-issue "
    "taxonomy, for empirical studies. Every decision is stored and exported; decisions below "
    "the threshold are marked abstained: at the threshold, committed decisions reached the "
    "stated precision out of fold. Category shares of a study are estimated from the "
    "probabilities with the model's measured error (mlissues figures), not counted."
)
LIMITS = (
    "Trained on labeled issues of four repositories (TensorFlow, PyTorch, MXNet, Keras), sampled "
    "with keyword, label and active-learning enrichment plus a random stratum, so category "
    "shares in the labels differ from a random sample. Rare categories have few examples and "
    "low recall. English text only. Scores on held-out repositories and newer issues are the "
    "ones to expect on a new repository; pooled cross-validation is optimistic."
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
    held_out = metrics.get("held_out") or {}
    if held_out:
        lines += [
            "",
            f"## Held-out repositories and time (chosen by {metrics.get('selection')})",
            "Macro-F1 over the categories with at least 5 test issues.",
        ]
        lines += _table(
            ["split", "test issues", "system F1", "macro-F1", "accuracy", "categories"],
            [
                [
                    name,
                    s["n"],
                    *(_number(s[k]) for k in ("system_f1", "macro_f1", "accuracy")),
                    s["categories"],
                ]
                for name, s in held_out.items()
            ],
        )
    abstention = metrics.get("abstention") or []
    if abstention:
        lines += ["", "## Abstention (out of fold): coverage and precision of committed decisions"]
        lines += _table(
            ["threshold", "coverage", "precision"],
            [[r["threshold"], _number(r["coverage"]), _number(r["accuracy"])] for r in abstention],
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
