"""Class-balanced margin sampling with a random half (classifier.labeling.active)."""

from __future__ import annotations

import numpy as np

from classifier.labeling import LabelingSession, make_strategy
from classifier.labeling.active import (
    BALANCED,
    BalancedStrategy,
    balanced_order,
    balanced_uncertain,
    half_random,
    training_labels,
)
from tests import test_labeling_support as support

engine = support.engine

CLASSES = ["NSR", "A", "B"]
# Calibrated-looking probabilities: NSR is the model's favourite everywhere but row 12.
PROBA = np.array(
    [
        [0.90, 0.05, 0.05],  # 10: NSR, sure
        [0.50, 0.40, 0.10],  # 11: A after the prior correction, margin 0.9
        [0.20, 0.10, 0.70],  # 12: B
        [0.40, 0.30, 0.30],  # 13: A, margin 0.9 (tie with 11, broken by id)
        [0.34, 0.33, 0.33],  # 14: A, the most uncertain of all
        [0.60, 0.05, 0.35],  # 15: B
    ]
)
IDS = [10, 11, 12, 13, 14, 15]
COUNTS = {"NSR": 20, "A": 2, "B": 5}  # labels so far: A is the rarest


def test_balanced_takes_one_per_predicted_class_rarest_class_first_most_uncertain_within():
    # A: 14 (margin .99), 11, 13 (.9, by id); B: 15 (margin .75), 12 (.4); NSR: 10.
    assert balanced_uncertain(PROBA, IDS, CLASSES, COUNTS) == [14, 15, 10, 11, 12, 13]
    # The same probabilities when NSR is the rarest label: most issues now count as NSR
    # (14, 11, 13, 15, 10 by margin), 12 stays B, nothing is A; NSR comes first.
    assert balanced_uncertain(PROBA, IDS, CLASSES, {"NSR": 2, "A": 20, "B": 5}) == [
        14, 12, 11, 13, 15, 10
    ]  # fmt: skip


def test_a_class_without_labels_counts_as_rarest():
    # B's prior counts as 1 label in 22, so every issue but 11 (A) now looks like B (even 10:
    # 0.05 * 22 > 0.9 * 22 / 20), and B goes first.
    order = balanced_uncertain(PROBA, IDS, CLASSES, {"NSR": 20, "A": 2})
    assert order == [14, 11, 13, 15, 12, 10]


def test_half_random_alternates_and_never_repeats():
    assert half_random([1, 2, 3, 4], [9, 8, 7], 0.5) == [1, 9, 2, 8, 3, 7, 4]
    assert half_random([1, 2, 3], [2, 1, 5], 0.5) == [1, 2, 3, 5]  # duplicates skipped
    assert half_random([1, 2], [3], 0.0) == [1, 2]


def test_balanced_order_is_half_balanced_half_shuffled():
    order = balanced_order(PROBA, IDS, CLASSES, COUNTS, [12, 10, 15, 11, 13, 14])
    assert order == [14, 12, 15, 10, 11, 13]
    assert sorted(order) == IDS


def test_balanced_strategy_is_selectable_and_trains_on_the_labels_so_far(engine):
    strategy = make_strategy(BALANCED, seed=3)
    assert isinstance(strategy, BalancedStrategy) and strategy.name == BALANCED
    session = LabelingSession(engine, "alice", strategy, rerank_every=12)
    assert strategy.model_ is None  # no labels yet: random order
    for index in range(12):
        session.label("NSR" if index % 3 else "EXEC")
    assert len(training_labels(engine)) == 12
    assert list(strategy.model_.classes_) == ["EXEC", "NSR"]
    assert session.progress.remaining == len(session.queue) == 65 - 12
    assert len(set(session.queue)) == len(session.queue)
