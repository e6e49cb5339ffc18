"""Agreement numbers: hand-computed examples, scikit-learn and the krippendorff package."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from classifier.labeling import LabelingSession, adjudicate, agreement_report
from classifier.labeling.agreement import (
    AgreementError,
    agreement_from_ratings,
    cohen_kappa,
    krippendorff_alpha,
    one_vs_rest,
)
from taxonomy import default_taxonomy
from tests import test_labeling_support as support

engine = support.engine


def test_kappa_by_hand():
    # 50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15.
    # p_o = 35/50 = 0.7; p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5; kappa = 0.2 / 0.5 = 0.4
    first = ["yes"] * 25 + ["no"] * 25
    second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(first, second) == pytest.approx(0.4)
    assert math.isnan(cohen_kappa(["a", "a"], ["a", "a"]))  # chance agreement 1: undefined


@pytest.mark.parametrize("seed", range(5))
def test_kappa_matches_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    codes = default_taxonomy().codes
    first = rng.choice(codes, size=200)
    second = np.where(rng.random(200) < 0.6, first, rng.choice(codes, size=200))
    assert cohen_kappa(first, second) == pytest.approx(cohen_kappa_score(first, second))


def test_alpha_by_hand():
    # Units (a,a), (a,b), (b,b), (b,b): coincidences o_aa=2, o_ab=o_ba=1, o_bb=4; n_a=3, n_b=5,
    # n=8. alpha = 1 - (n-1) * (o_ab+o_ba) / (2 * n_a * n_b) = 1 - 7*2/30 = 8/15.
    matrix = pd.DataFrame({"x": ["a", "a", "b", "b"], "y": ["a", "b", "b", "b"]})
    assert krippendorff_alpha(matrix) == pytest.approx(8 / 15)


def test_alpha_reproduces_krippendorffs_own_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 observers,
    # 12 units, missing values; nominal alpha = 0.743. Values 1..5 given as category codes.
    rows = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    codes = {1: "API", 2: "EXEC", 3: "MA", 4: "IO", 5: "NSR"}
    matrix = pd.DataFrame([[codes.get(v) for v in row] for row in rows]).T
    assert krippendorff_alpha(matrix) == pytest.approx(0.743, abs=5e-4)
    numeric = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)
    assert krippendorff_alpha(matrix) == pytest.approx(
        krippendorff.alpha(reliability_data=numeric, level_of_measurement="nominal")
    )


def _ratings(**by_annotator: list[str | None]) -> pd.DataFrame:
    rows = [
        {"issue_id": issue_id, "annotator": name, "category": category}
        for name, categories in by_annotator.items()
        for issue_id, category in enumerate(categories, start=1)
        if category is not None
    ]
    return pd.DataFrame(rows)


def test_report_overall_and_per_category_one_vs_rest():
    alice = ["EXEC", "EXEC", "MA", "NSR", "NSR", "NSR", "MLEAK", None]
    bob = ["EXEC", "MA", "MA", "NSR", "NSR", "EXEC", "MLEAK", "NSR"]
    report = agreement_from_ratings(
        _ratings(alice=alice, bob=bob), ["alice", "bob"], default_taxonomy()
    )
    both = [(a, b) for a, b in zip(alice, bob, strict=True) if a is not None]
    first, second = zip(*both, strict=True)
    assert report.units == 7
    assert report.kappa == pytest.approx(cohen_kappa_score(first, second))
    per = report.per_category.set_index("category")
    exec_kappa = cohen_kappa_score([c == "EXEC" for c in first], [c == "EXEC" for c in second])
    assert per.loc["EXEC", "kappa"] == pytest.approx(exec_kappa)
    assert per.loc["EXEC", "ratings"] == 4
    assert per.loc["MLEAK", "kappa"] == pytest.approx(1.0)
    assert math.isnan(per.loc["CONN", "kappa"]) and math.isnan(per.loc["CONN", "alpha"])
    assert sorted(report.disagreements.index) == [2, 6]


def test_three_annotators_alpha_with_missing_values_and_pairwise_kappa():
    ratings = _ratings(
        a=["EXEC", "MA", "NSR", "NSR", None],
        b=["EXEC", "MA", "EXEC", None, "IO"],
        c=[None, "MA", "NSR", "NSR", "IO"],
    )
    report = agreement_from_ratings(ratings, ["a", "b", "c"], default_taxonomy())
    assert report.kappa is None
    matrix = ratings.pivot(index="issue_id", columns="annotator", values="category")
    assert report.alpha == pytest.approx(krippendorff_alpha(matrix))
    pairs = report.pairwise.set_index(["first", "second"])
    assert pairs.loc[("a", "b"), "units"] == 3
    binary = one_vs_rest(matrix, "NSR")
    assert binary.loc[4].tolist()[:1] == [1.0] and math.isnan(binary.loc[5, "a"])


def test_fewer_than_two_annotators_is_an_error():
    with pytest.raises(AgreementError):
        agreement_from_ratings(_ratings(a=["EXEC"]), ["a"], default_taxonomy())


def test_report_from_the_database_lists_disagreements_side_by_side_and_adjudication(engine):
    answers = {"alice": ["EXEC", "NSR", "MA", "NSR"], "bob": ["EXEC", "NSR", "MLEAK", "IO"]}
    for name, categories in answers.items():
        session = LabelingSession(engine, name)  # same seed: both see the same issues
        for index, category in enumerate(categories):
            session.label(category, note=f"{name} {index}")
    report = agreement_report(engine, ["alice", "bob"])
    assert report.units == 4
    assert report.kappa == pytest.approx(cohen_kappa_score(*answers.values()))
    table = report.disagreements
    assert list(table.columns) == [
        "issue_id", "repository", "number", "title", "alice", "bob",
        "alice note", "bob note", "adjudicated",
    ]  # fmt: skip
    sides = {tuple(row) for row in table[["alice", "bob", "alice note", "bob note"]].to_numpy()}
    assert sides == {("MA", "MLEAK", "alice 2", "bob 2"), ("NSR", "IO", "alice 3", "bob 3")}
    disputed = int(table.issue_id.iloc[0])
    adjudicate(engine, disputed, "memory leak", "carol", note="grows per step")
    after = agreement_report(engine, ["alice", "bob"]).disagreements.set_index("issue_id")
    assert after.loc[disputed, "adjudicated"] == "MLEAK"
    with pytest.raises(AgreementError, match="dave"):
        agreement_report(engine, ["alice", "dave"])
