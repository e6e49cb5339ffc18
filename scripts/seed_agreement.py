"""Agreement of the independent double labels in classifier/data/seed_labels.csv.

Cohen's kappa between the first annotation (labeler1-4, one per batch) and the second,
independent annotator (labeler5), computed before adjudication: overall on the 16 codes,
on system-related vs not, and per category (one-vs-rest).

    python scripts/seed_agreement.py [--labels classifier/data/seed_labels.csv] [--out FILE.md]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from sklearn.metrics import cohen_kappa_score

from taxonomy import default_taxonomy

SECOND_ANNOTATOR = "labeler5"


def paired_labels(labels: pd.DataFrame) -> pd.DataFrame:
    """One row per double-labeled issue: first and second annotator's category."""
    first_pass = labels[(labels.kind == "label") & (labels.annotator != SECOND_ANNOTATOR)]
    second_pass = labels[(labels.kind == "label") & (labels.annotator == SECOND_ANNOTATOR)]
    return first_pass.merge(second_pass, on=["repository", "number"], suffixes=("_a", "_b"))


def agreement_table(pairs: pd.DataFrame) -> pd.DataFrame:
    taxonomy = default_taxonomy()
    rows = [
        {
            "category": "all 16 codes",
            "kappa": cohen_kappa_score(pairs.category_a, pairs.category_b),
            "n_a": len(pairs),
            "n_b": len(pairs),
        },
        {
            "category": "system-related vs NSR",
            "kappa": cohen_kappa_score(pairs.category_a != "NSR", pairs.category_b != "NSR"),
            "n_a": int((pairs.category_a != "NSR").sum()),
            "n_b": int((pairs.category_b != "NSR").sum()),
        },
    ]
    for code in taxonomy.codes:
        a, b = pairs.category_a == code, pairs.category_b == code
        if not (a.any() or b.any()):
            continue
        kappa = cohen_kappa_score(a, b) if (a != b).any() or a.nunique() > 1 else 1.0
        rows.append({"category": code, "kappa": kappa, "n_a": int(a.sum()), "n_b": int(b.sum())})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=Path("classifier/data/seed_labels.csv"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    pairs = paired_labels(pd.read_csv(args.labels))
    table = agreement_table(pairs)
    agreed = (pairs.category_a == pairs.category_b).mean()
    text = (
        f"{len(pairs)} issues labeled independently by two annotators; "
        f"raw agreement {agreed:.1%}\n\n"
        + table.to_markdown(index=False, floatfmt=".3f")
        + "\n\nn_a, n_b: issues the first / second annotator put in the category.\n"
    )
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
