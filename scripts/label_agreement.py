"""Agreement of the independent double labels in classifier/data/labels.csv, before adjudication.

Every issue that two annotators labeled independently (kind `label`) is a pair; the first two
annotators of an issue in file order are compared. Cohen's kappa overall on the 16 codes, on
system-related vs not, and per category (one-vs-rest), for all pairs and per labeling round
(the issue's round in classifier/data/label_strata.csv). `--disagreements FILE` writes the
pairs that disagree and have no adjudication yet, for the adjudicator (references only).

    python scripts/label_agreement.py [--labels classifier/data/labels.csv] [--out FILE.md]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from sklearn.metrics import cohen_kappa_score

from taxonomy import default_taxonomy


def paired_labels(labels: pd.DataFrame, strata: pd.DataFrame) -> pd.DataFrame:
    """One row per double-labeled issue: the first two annotators' categories and the round
    the issue was drawn in."""
    first = labels[labels.kind == "label"].drop_duplicates(["repository", "number", "annotator"])
    ranked = first.assign(rank=first.groupby(["repository", "number"]).cumcount())
    a = ranked[ranked["rank"] == 0]
    b = ranked[ranked["rank"] == 1]
    pairs = a.merge(b, on=["repository", "number"], suffixes=("_a", "_b"))
    return pairs.merge(strata[["repository", "number", "round"]], how="left")


def _kappa(a: pd.Series, b: pd.Series) -> float:
    if (a == b).all():
        return 1.0
    return float(cohen_kappa_score(a, b))


def agreement_table(pairs: pd.DataFrame) -> pd.DataFrame:
    system_a, system_b = pairs.category_a != "NSR", pairs.category_b != "NSR"
    rows = [
        {
            "category": "all 16 codes",
            "kappa": _kappa(pairs.category_a, pairs.category_b),
            "n_a": len(pairs),
            "n_b": len(pairs),
        },
        {
            "category": "system-related vs NSR",
            "kappa": _kappa(system_a, system_b),
            "n_a": int(system_a.sum()),
            "n_b": int(system_b.sum()),
        },
    ]
    for code in default_taxonomy().codes:
        a, b = pairs.category_a == code, pairs.category_b == code
        if a.any() or b.any():
            rows.append(
                {"category": code, "kappa": _kappa(a, b), "n_a": int(a.sum()), "n_b": int(b.sum())}
            )
    return pd.DataFrame(rows)


def report(pairs: pd.DataFrame) -> str:
    parts = []
    for title, subset in [("all rounds", pairs), *pairs.groupby("round")]:
        name = title if isinstance(title, str) else f"round {title}"
        agreed = (subset.category_a == subset.category_b).mean()
        parts.append(
            f"## {name}: {len(subset)} issues labeled independently by two annotators, "
            f"raw agreement {agreed:.1%}\n\n"
            + agreement_table(subset).to_markdown(index=False, floatfmt=".3f")
        )
    return "\n\n".join(parts) + "\n\nn_a, n_b: issues the first / second annotator put there.\n"


def open_disagreements(labels: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    adjudicated = labels[labels.kind == "adjudication"][["repository", "number"]]
    split = pairs[pairs.category_a != pairs.category_b]
    split = split.merge(adjudicated.drop_duplicates(), how="left", indicator=True)
    split = split[split["_merge"] == "left_only"]
    return split[["repository", "number", "category_a", "note_a", "category_b", "note_b"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=Path("classifier/data/labels.csv"))
    parser.add_argument("--strata", type=Path, default=Path("classifier/data/label_strata.csv"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--disagreements", type=Path)
    args = parser.parse_args()
    labels = pd.read_csv(args.labels)
    pairs = paired_labels(labels, pd.read_csv(args.strata))
    text = report(pairs)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    if args.disagreements:
        open_disagreements(labels, pairs).to_csv(args.disagreements, index=False)


if __name__ == "__main__":
    main()
