"""Category shares estimated with the classifier's measured error (analysis.shares)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import shares
from classifier.model import load_model

CLASSES = ("A", "B", "NSR")


def _error(confusion: list[list[int]], confidence: float = 0.8) -> shares.ModelError:
    """A record where true class i is decided as j confusion[i][j] times, each decision with
    `confidence` on the decided class and the rest spread evenly."""
    labels, rows = [], []
    for truth, decisions in enumerate(confusion):
        for decided, count in enumerate(decisions):
            row = np.full(len(CLASSES), (1 - confidence) / (len(CLASSES) - 1))
            row[decided] = confidence
            labels += [truth] * count
            rows += [row] * count
    return shares.ModelError(CLASSES, np.array(labels), np.array(rows))


def test_adjusted_estimators_undo_a_known_confusion():
    # The model calls 30% of A issues B; a set of 100 A issues looks like 70 A + 30 B.
    error = _error([[70, 30, 0], [0, 100, 0], [0, 0, 100]])
    observed = error.probabilities[:100]  # exactly the A issues of the record
    for estimator in ("ACC", "PACC"):
        estimate = shares.prevalence(estimator, error, observed)
        np.testing.assert_allclose(estimate, [1, 0, 0], atol=1e-6, err_msg=estimator)
    counted = shares.prevalence("CC", error, observed)
    np.testing.assert_allclose(counted, [0.7, 0.3, 0], atol=1e-9)


def test_human_labels_count_as_labeled_and_no_issue_is_dropped():
    error = _error([[80, 10, 10], [10, 80, 10], [5, 5, 90]])
    issues = pd.DataFrame(
        {
            "issue_id": range(10),
            "group": ["g"] * 10,
            "category_source": ["human"] * 4 + ["classifier"] * 6,
            "category": ["A", "A", "B", "NSR", "B", "B", "B", "NSR", "NSR", "NSR"],
        }
    )
    probabilities = pd.DataFrame(
        error.probabilities[[100, 110, 120, 200, 210, 220]], index=range(4, 10), columns=CLASSES
    )
    table = shares.estimate_shares(issues, probabilities, error, CLASSES, replicates=50)
    assert table[["n", "n_human", "n_model"]].drop_duplicates().values.tolist() == [[10, 4, 6]]
    assert table["share"].sum() == pytest.approx(1)
    assert (table["ci_low"] <= table["share"]).all() and (table["share"] <= table["ci_high"]).all()


def test_people_alone_need_no_model_and_an_unknown_error_is_a_clear_error():
    issues = pd.DataFrame(
        {"issue_id": [1, 2], "category_source": ["human", "human"], "category": ["A", "NSR"]}
    )
    table = shares.estimate_shares(issues, pd.DataFrame(), None, CLASSES, replicates=10)
    assert table.set_index("category")["share"].to_dict() == {"A": 0.5, "B": 0.0, "NSR": 0.5}
    with pytest.raises(shares.NoErrorRecordError, match="retrain it with mlissues train"):
        shares.ModelError.from_record(None)


def test_intervals_cover_true_shares_at_about_the_nominal_rate():
    """On held-out labeled issues (the shipped model's out-of-fold record), the default
    estimator's 95% intervals hold the true category shares about 95% of the time, and
    counting decisions (CC) does not."""
    error = shares.ModelError.from_record(load_model().out_of_fold)
    coverage = shares.interval_coverage(error, shares.DEFAULT_ESTIMATOR, trials=30, seed=1)
    assert 0.88 <= coverage <= 0.995, coverage
    assert shares.interval_coverage(error, "CC", trials=10, seed=2) < 0.8
