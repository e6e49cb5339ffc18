"""Classifier: documents, labels files, training, the saved model, abstention and classify.

A small database is built from two real corpus folders (pytorch, keras) and trained on the seed
labels of those repositories; nothing of the corpus is stored in the repository.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_estimator
from sqlalchemy import select

from classifier.documents import DOCUMENT_COLUMNS, issue_documents
from classifier.labels import LabelsFileError, annotation_rows, final_labels, read_labels_csv
from classifier.model import (
    CalibratedLinear,
    GatedClassifier,
    IssueClassifier,
    ModelError,
    decision_weights,
    load_model,
    prior_corrected,
)
from classifier.predict import NothingToClassifyError, classify_database
from classifier.training import train
from db import open_database
from db.schema import annotations, models, predictions
from miner.corpus import import_folder
from mlissues.cli import main
from taxonomy import default_taxonomy

SEED_LABELS = Path(__file__).resolve().parent.parent / "classifier" / "data" / "seed_labels.csv"
FOLDERS = {"pytorch/pytorch": "pytorch__pytorch", "keras-team/keras": "keras-team__keras"}


def load_corpus(engine, corpus: Path, folders: dict[str, str] = FOLDERS) -> None:
    for full_name, folder in folders.items():
        import_folder(engine, corpus / folder, full_name)


def slice_labels() -> pd.DataFrame:
    labels = final_labels(read_labels_csv(SEED_LABELS))
    return labels[labels["repository"].isin(FOLDERS)].reset_index(drop=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, corpus):
    """(database URL, model directory, report) of a model trained on the corpus slice."""
    directory = tmp_path_factory.mktemp("trained")
    url = f"sqlite:///{directory / 'issues.db'}"
    engine = open_database(url, create=True)
    load_corpus(engine, corpus)
    _, artifact, report = train(
        engine,
        slice_labels(),
        source="seed slice",
        out=directory / "model",
        n_splits=2,
        n_repeats=1,
    )
    engine.dispose()
    return url, artifact.parent, report


@pytest.fixture(scope="module")
def model(trained) -> IssueClassifier:
    return load_model(trained[1])


# --- documents and labels ---------------------------------------------------------------------


def test_issue_documents_has_one_row_per_issue_with_labels_and_comments(db_url, corpus):
    engine = open_database(db_url, create=True)
    load_corpus(engine, corpus, {"keras-team/keras": "keras-team__keras"})
    documents = issue_documents(engine)
    assert list(documents.columns) == DOCUMENT_COLUMNS
    assert len(documents) == 65 and documents["issue_id"].is_unique
    assert set(documents["repository"]) == {"keras-team/keras"}
    assert all(labels == ("bug%2Fperformance",) for labels in documents["labels"])
    assert (documents["comments"].str.len() > 0).sum() > 10
    some = documents["issue_id"].iloc[[3, 1]].tolist()
    assert issue_documents(engine, some)["issue_id"].tolist() == sorted(some)
    assert issue_documents(engine, []).empty
    engine.dispose()


def test_labels_csv_unknown_category_names_the_line(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text(
        "repository,number,category,annotator\n"
        "pytorch/pytorch,1,MLEAK,a\n"
        "pytorch/pytorch,2,memory leak,a\n"
        "pytorch/pytorch,3,GPU-STUFF,a\n"
    )
    with pytest.raises(LabelsFileError, match=r"labels.csv, line 4: unknown category 'GPU-STUFF'"):
        read_labels_csv(path)
    result = CliRunner().invoke(main, ["train", "--db", str(tmp_path / "x.db"), "--labels", path])
    assert result.exit_code != 0


def test_cli_train_reports_a_bad_labels_file_in_one_line(tmp_path):
    open_database(f"sqlite:///{tmp_path / 'x.db'}", create=True).dispose()
    path = tmp_path / "labels.csv"
    path.write_text("repository,number,category\npytorch/pytorch,1,NOPE\n")
    result = CliRunner().invoke(main, ["train", "--db", str(tmp_path / "x.db"), "--labels", path])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Error: ")
    assert "line 2: unknown category 'NOPE'" in result.output


def test_cli_train_without_labels_says_what_to_do(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    open_database(url, create=True).dispose()
    result = CliRunner().invoke(main, ["train", "--db", url])
    assert result.exit_code == 1
    assert "no labeled issues" in result.output and "--labels" in result.output


def test_annotations_in_the_database_give_final_labels(db_url, corpus):
    engine = open_database(db_url, create=True)
    load_corpus(engine, corpus, {"keras-team/keras": "keras-team__keras"})
    first, second = issue_documents(engine)["issue_id"].head(2).tolist()
    now = pd.Timestamp("2026-01-01").to_pydatetime()
    rows = [
        (first, "a", "MA", "labeled", "label"),
        (first, "b", "MLEAK", "labeled", "label"),
        (first, "c", "MLEAK", "labeled", "adjudication"),
        (second, "a", None, "skipped", "label"),
        (second, "b", "IO", "unsure", "label"),
    ]
    with engine.begin() as connection:
        connection.execute(
            annotations.insert(),
            [
                dict(issue_id=i, annotator=a, category=c, status=s, kind=k, created_at=now)
                for i, a, c, s, k in rows
            ],
        )
    labels = final_labels(annotation_rows(engine))
    assert labels[["repository", "category"]].values.tolist() == [["keras-team/keras", "MLEAK"]]
    engine.dispose()


def test_final_label_is_adjudication_then_majority_then_first():
    rows = pd.DataFrame(
        [
            ("o/r", 1, "MA", "a", "label"),
            ("o/r", 1, "MLEAK", "b", "label"),
            ("o/r", 1, "RU", "c", "adjudication"),
            ("o/r", 2, "EXEC", "a", "label"),
            ("o/r", 2, "NSR", "b", "label"),
            ("o/r", 3, "IO", "a", "label"),
            ("o/r", 3, "MT", "b", "label"),
            ("o/r", 3, "MT", "c", "label"),
        ],
        columns=["repository", "number", "category", "annotator", "kind"],
    )
    assert final_labels(rows)["category"].tolist() == ["RU", "EXEC", "MT"]


# --- estimators -------------------------------------------------------------------------------


@pytest.mark.parametrize("estimator", [CalibratedLinear(), GatedClassifier(default_class=0)])
def test_classifiers_pass_the_sklearn_estimator_checks(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(estimator)


def test_prior_correction_moves_decisions_to_rare_classes():
    probabilities = np.array([[0.6, 0.4], [0.9, 0.1]])
    prior = np.array([0.8, 0.2])
    assert prior_corrected(probabilities, prior, 0).tolist() == [0, 0]
    assert prior_corrected(probabilities, prior, 1).tolist() == [1, 0]


def test_calibration_waits_until_the_rarest_class_has_three_labels():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5))

    def fitted(rarest: int) -> object:
        y = np.array(["a"] * 20 + ["b"] * (20 - rarest) + ["c"] * rarest)
        return CalibratedLinear().fit(x, y).estimator_

    assert type(fitted(2)).__name__ == "LogisticRegression"
    calibrated = fitted(3)
    assert type(calibrated).__name__ == "CalibratedClassifierCV" and calibrated.cv == 3
    loose = CalibratedLinear(min_calibration_count=2).fit(x, ["a"] * 20 + ["b"] * 18 + ["c"] * 2)
    assert loose.estimator_.cv == 2


def test_decision_weights_rank_as_the_prior_corrected_decision():
    estimator = CalibratedLinear(prior_power=1.0)
    estimator.classes_, estimator.class_prior_ = np.array(["a", "b"]), np.array([0.8, 0.2])
    probabilities = np.array([[0.6, 0.4], [0.9, 0.1]])
    weights = decision_weights(estimator, probabilities)
    # 0.6/0.8 : 0.4/0.2 = 0.75 : 2, normalized; the decision (b) is the larger weight.
    assert np.allclose(weights[0], [0.75 / 2.75, 2 / 2.75]) and np.allclose(weights.sum(1), 1)
    assert weights.argmax(1).tolist() == estimator.decide(probabilities).tolist()
    assert decision_weights(object(), probabilities) is probabilities  # plain argmax models


# --- training, the artifact and the card --------------------------------------------------------


def test_train_end_to_end_writes_artifact_card_and_registers(trained, model):
    url, directory, report = trained
    assert {p.name for p in directory.iterdir()} == {"model.skops", "card.json", "card.md"}
    assert report["chosen"] in report["results"]
    assert {"majority class", "keyword rules"} <= set(report["results"])
    for result in report["results"].values():
        assert 0 <= result["summary"]["macro_f1"] <= 1
    assert model.card["n_train"] == len(slice_labels())
    assert model.card["taxonomy_version"] == default_taxonomy().version
    engine = open_database(url)
    with engine.connect() as connection:
        row = connection.execute(select(models)).one()
    assert row.version == model.version and row.card["class_counts"] == model.card["class_counts"]
    engine.dispose()


def test_saved_model_round_trip_gives_the_same_predictions(trained, model, tmp_path):
    engine = open_database(trained[0])
    documents = issue_documents(engine).head(40)
    engine.dispose()
    model.save(tmp_path / "again")
    again = load_model(tmp_path / "again" / "model.skops")
    assert again.version == model.version and again.threshold == model.threshold
    np.testing.assert_allclose(again.predict_proba(documents), model.predict_proba(documents))
    pd.testing.assert_frame_equal(again.predict(documents), model.predict(documents))


def test_abstention_follows_the_threshold(trained, model):
    engine = open_database(trained[0])
    documents = issue_documents(engine).head(60)
    engine.dispose()
    strict = IssueClassifier(model.pipeline, model.version, 1.01, model.card)
    lenient = IssueClassifier(model.pipeline, model.version, 0.0, model.card)
    assert strict.predict(documents)["abstained"].all()
    assert not lenient.predict(documents)["abstained"].any()
    predicted = model.predict(documents)
    assert (predicted["abstained"] == (predicted["probability"] < model.threshold)).all()
    sums = [sum(p.values()) for p in predicted["probabilities"]]
    np.testing.assert_allclose(sums, 1, atol=1e-4)


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="no model at"):
        load_model(tmp_path)


# --- classify -----------------------------------------------------------------------------------


def prediction_table(engine) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(predictions).order_by("id"))]


def test_classify_is_idempotent(db_url, corpus, model):
    engine = open_database(db_url, create=True)
    load_corpus(engine, corpus, {"keras-team/keras": "keras-team__keras"})
    first = classify_database(engine, model)
    assert (first.classified, first.already_done) == (65, 0)
    rows = prediction_table(engine)
    assert len(rows) == 65 and {row[2] for row in rows} == {model.version}
    second = classify_database(engine, model)
    assert (second.classified, second.already_done) == (0, 65)
    assert prediction_table(engine) == rows
    engine.dispose()


def test_cli_classify_twice_then_all(trained, tmp_path, corpus):
    url = f"sqlite:///{tmp_path / 'issues.db'}"
    load_corpus(open_database(url, create=True), corpus, {"keras-team/keras": "keras-team__keras"})
    args = ["-q", "classify", "--db", url, "--model", str(trained[1])]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0 and first.output.startswith("classified 65 issues")
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0 and second.output.startswith("nothing to classify")
    again = CliRunner().invoke(main, [*args, "--all"])
    assert again.exit_code == 0 and again.output.startswith("classified 65 issues")


def test_classify_empty_database_is_a_clear_error(tmp_path, trained, model):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = open_database(url, create=True)
    with pytest.raises(NothingToClassifyError, match="no issues"):
        classify_database(engine, model)
    engine.dispose()
    result = CliRunner().invoke(main, ["classify", "--db", url, "--model", str(trained[1])])
    assert result.exit_code == 1
    assert result.output.startswith("Error: the database has no issues")


def test_shipped_default_model_loads_offline_and_classifies(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    default = load_model()
    documents = pd.DataFrame(
        {
            "issue_id": [1, 2],
            "repository": ["o/r", "o/r"],
            "number": [1, 2],
            "title": ["Memory leak in training loop", "Typo in docs"],
            "body": ["memory keeps increasing every epoch until OOM", "fix the typo"],
            "labels": [(), ()],
            "comments": ["", ""],
        }
    )
    predicted = default.predict(documents)
    assert predicted["category"].tolist()[0] == "MLEAK"
    assert set(default.classes_) <= set(default.card["class_counts"])
    # Saved with the current estimator classes: every parameter is there (get_params, clone).
    assert (
        clone(default.pipeline).get_params()["classifier__prior_power"]
        == default.card["prior_power"]
    )


def test_classify_with_worker_processes_stores_the_same_predictions(tmp_path, corpus, model):
    engine = open_database(f"sqlite:///{tmp_path / 'issues.db'}", create=True)
    load_corpus(engine, corpus, {"keras-team/keras": "keras-team__keras"})
    result = classify_database(engine, model, workers=2, batch_size=20)
    assert result.classified == 65
    expected = model.predict(issue_documents(engine))["category"].tolist()
    with engine.connect() as connection:
        stored = connection.execute(select(predictions.c.category).order_by("issue_id")).scalars()
        assert list(stored) == expected
    engine.dispose()
