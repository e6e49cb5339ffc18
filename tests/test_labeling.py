"""Labeling sessions: answers stored at once, resume, undo, skip, unsure, strategies, overlap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from classifier.labeling import Assignment, LabelingSession, SamplingError
from classifier.labeling.active import UncertaintyStrategy, training_labels
from classifier.labeling.sampling import (
    KeywordStrategy,
    RandomStrategy,
    StratifiedStrategy,
    keyword_scores,
    least_confident,
    margin,
    mix,
    most_uncertain,
)
from classifier.labeling.session import NothingToLabelError
from classifier.labeling.store import candidate_issues
from taxonomy import UnknownCategoryError, default_taxonomy
from tests import test_labeling_support as support
from tests.test_labeling_support import annotation_rows

engine, two_repositories = support.engine, support.two_repositories

VERSION = default_taxonomy().version


def test_label_is_stored_at_once_with_note_and_taxonomy_version(engine):
    session = LabelingSession(engine, "alice")
    first = session.current
    session.label("memory leak", note="grows per epoch")  # names work as well as codes
    assert annotation_rows(engine) == [
        (first.issue_id, "alice", "MLEAK", "labeled", "label", "grows per epoch", VERSION)
    ]
    assert session.current.issue_id != first.issue_id


def test_skip_and_unsure_are_recorded_and_not_shown_again(engine):
    session = LabelingSession(engine, "alice")
    skipped = session.current.issue_id
    session.skip("template only")
    unsure = session.current.issue_id
    session.unsure("EXEC")
    tentative = session.current.issue_id
    session.unsure()
    assert annotation_rows(engine) == sorted(
        [
            (skipped, "alice", None, "skipped", "label", "template only", VERSION),
            (unsure, "alice", "EXEC", "unsure", "label", None, VERSION),
            (tentative, "alice", None, "unsure", "label", None, VERSION),
        ]
    )
    reopened = LabelingSession(engine, "alice")
    assert reopened.current.issue_id not in {skipped, unsure, tentative}
    assert reopened.progress.answered == 3
    assert reopened.progress.remaining == 65 - 3


def test_reopening_resumes_where_the_annotator_stopped(engine):
    first = LabelingSession(engine, "alice", "keyword")
    answered = []
    for _ in range(3):
        answered.append(first.current.issue_id)
        first.label("NSR")
    waiting = first.current.issue_id
    del first  # closing the notebook: nothing kept in memory matters

    second = LabelingSession(engine, "alice", "keyword")
    assert second.current.issue_id == waiting
    assert not set(answered) & set(second.queue)
    # another annotator starts from the beginning of the same order
    assert LabelingSession(engine, "bob", "keyword").current.issue_id == answered[0]


def test_undo_deletes_the_last_answer_and_shows_it_again_even_after_resume(engine):
    session = LabelingSession(engine, "alice")
    first = session.current.issue_id
    session.label("NSR")
    second = session.current.issue_id
    session.label("EXEC")
    assert session.undo().issue_id == second
    assert [row[0] for row in annotation_rows(engine)] == [first]

    reopened = LabelingSession(engine, "alice")
    assert reopened.undo().issue_id == first
    assert annotation_rows(engine) == []
    assert reopened.undo() is None


def test_unknown_category_writes_nothing(engine):
    session = LabelingSession(engine, "alice")
    with pytest.raises(UnknownCategoryError, match="BOGUS"):
        session.label("BOGUS")
    assert annotation_rows(engine) == []


def test_an_empty_queue_says_so(engine):
    first = int(candidate_issues(engine).issue_id.iloc[0])
    session = LabelingSession(engine, "alice", support.Only([first]))
    session.label("NSR")
    assert session.current is None
    with pytest.raises(NothingToLabelError):
        session.skip()


# --- strategies ---------------------------------------------------------------------------------


def test_random_order_is_deterministic_and_seeded(engine):
    candidates = candidate_issues(engine)
    order = RandomStrategy(seed=1).rank(engine, candidates)
    assert order == RandomStrategy(seed=1).rank(engine, candidates.sample(frac=1, random_state=3))
    assert order != RandomStrategy(seed=2).rank(engine, candidates)
    assert sorted(order) == sorted(candidates.issue_id)


def test_stratified_alternates_repositories(two_repositories):
    candidates = candidate_issues(two_repositories)
    order = StratifiedStrategy().rank(two_repositories, candidates)
    repository = candidates.set_index("issue_id").loc[order, "repository"].tolist()
    assert len(set(repository[:40:2])) == 1 and len(set(repository[1:40:2])) == 1
    assert repository[0] != repository[1]
    assert set(repository[40:]) == {"keras-team/keras"}  # only 20 MXNet issues


def test_keyword_strategy_puts_keyword_hits_first_with_random_picks_mixed_in():
    taxonomy = default_taxonomy()
    candidates = pd.DataFrame(
        {
            "issue_id": range(1, 11),
            "repository": "a/b",
            "number": range(1, 11),
            "title": ["memory leak and segfault", "typo in docs", "deadlock", *["docs"] * 7],
            "body": ["", "", "", *[""] * 7],
        }
    )
    assert keyword_scores(candidates, taxonomy).tolist()[:3] == [2, 0, 1]
    order = KeywordStrategy(taxonomy, random_share=0.5).rank(None, candidates)
    assert (
        order[0] == 1 and order[2] == 3
    )  # hits first (most categories first), a random pick between
    assert sorted(order) == list(range(1, 11))


def test_mix_interleaves_one_other_every_few_preferred():
    assert mix([1, 2, 3, 4, 5, 6], [10, 11, 12], share=0.25) == [1, 2, 3, 10, 4, 5, 6, 11, 12]
    assert mix([1, 2], [10], share=0) == [1, 2, 10]


def test_uncertainty_measures_by_hand():
    proba = np.array([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25], [0.5, 0.5, 0.0]])
    np.testing.assert_allclose(least_confident(proba), [0.1, 0.6, 0.5])
    np.testing.assert_allclose(margin(proba), [1 - 0.85, 1 - 0.05, 1.0])
    assert most_uncertain(proba, [7, 8, 9], "least-confident") == [8, 9, 7]
    assert most_uncertain(proba, [7, 8, 9], "margin") == [9, 8, 7]


def _text_model(frame: pd.DataFrame, labels: list[str]):
    """A tiny pipeline over the documents frame, as a stand-in for any predict_proba model."""
    text = FunctionTransformer(lambda docs: (docs["title"] + " " + docs["body"]).tolist())
    return make_pipeline(text, TfidfVectorizer(), LogisticRegression()).fit(frame, labels)


def test_active_learning_asks_first_about_what_the_model_is_least_sure_of(engine):
    from classifier.documents import issue_documents

    documents = issue_documents(engine)
    labels = ["MLEAK" if "memory" in t.lower() else "NSR" for t in documents.title]
    model = _text_model(documents, labels)
    for measure in ("least-confident", "margin"):
        session = LabelingSession(engine, "alice", UncertaintyStrategy(measure, model=model))
        proba = model.predict_proba(documents)
        expected = most_uncertain(proba, documents.issue_id.tolist(), measure)
        assert list(session.queue) == expected
        assert session.strategy.name == measure


def test_active_learning_ranks_by_the_weights_the_model_decides_with(engine):
    from classifier.documents import issue_documents
    from classifier.model import build_pipeline, decision_weights

    documents = issue_documents(engine)
    labels = ["MLEAK" if "memory" in t.lower() else "NSR" for t in documents.title]
    model = build_pipeline(structure="joint", prior_power=1.0).fit(documents, labels)
    proba = model.predict_proba(documents)
    weighted = decision_weights(model, proba)
    assert not np.allclose(weighted, proba)  # the rare MLEAK weighs more than p says
    session = LabelingSession(engine, "alice", UncertaintyStrategy("margin", model=model))
    ids = documents.issue_id.tolist()
    assert list(session.queue) == most_uncertain(weighted, ids, "margin")
    assert list(session.queue) != most_uncertain(proba, ids, "margin")


def test_active_learning_trains_on_the_labels_so_far_and_reranks(engine):
    strategy = UncertaintyStrategy("margin", pool_size=30)
    session = LabelingSession(engine, "alice", strategy, rerank_every=12)
    assert strategy.model_ is None  # no labels yet: random order
    for index in range(12):
        session.label("NSR" if index % 2 else "EXEC")
    assert len(training_labels(engine)) == 12
    assert list(strategy.model_.classes_) == ["EXEC", "NSR"]
    assert session.progress.remaining == len(session.queue) == 65 - 12


# --- overlap ------------------------------------------------------------------------------------


def test_assignment_is_deterministic_and_shares_the_asked_overlap():
    assignment = Assignment(("alice", "bob", "carol"), overlap=0.3)
    owners = {issue_id: assignment.annotators_of(issue_id) for issue_id in range(3000)}
    assert owners == {
        i: Assignment(("alice", "bob", "carol"), 0.3).annotators_of(i) for i in owners
    }
    shared = sum(len(names) == 2 for names in owners.values()) / len(owners)
    assert 0.27 < shared < 0.33
    assert all(len(set(names)) == len(names) >= 1 for names in owners.values())
    load = pd.Series([name for names in owners.values() for name in names]).value_counts()
    assert load.max() / load.min() < 1.1


def test_sessions_with_overlap_see_only_their_share(engine):
    assignment = Assignment(("alice", "bob"), overlap=0.25)
    alice = set(LabelingSession(engine, "alice", assignment=assignment).queue)
    bob = set(LabelingSession(engine, "bob", assignment=assignment).queue)
    assert alice | bob == set(candidate_issues(engine).issue_id)
    assert alice & bob == {i for i in alice | bob if len(assignment.annotators_of(i)) == 2}
    assert 0 < len(alice & bob) < len(alice)
    with pytest.raises(SamplingError, match="carol"):
        LabelingSession(engine, "carol", assignment=assignment)


def test_overlap_outside_zero_to_one_is_refused():
    with pytest.raises(SamplingError):
        Assignment(("a", "b"), overlap=1.5)
