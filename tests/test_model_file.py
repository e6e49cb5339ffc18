"""Model files: the shipped model and every model build_pipeline makes load; a crafted file that
would run code is refused with one line, and its code never runs (issue 12, item 1).

When this fails naming a type, an estimator was added to build_pipeline: add its exact name to
classifier/artifact_types.py TRUSTED_TYPES (never a prefix).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from click.testing import CliRunner
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from classifier.artifact_types import artifact_types, untrusted_types
from classifier.documents import DOCUMENT_COLUMNS
from classifier.features import DocumentColumns
from classifier.model import (
    LEARNERS,
    STRUCTURES,
    IssueClassifier,
    ModelError,
    build_pipeline,
    load_model,
)
from mlissues.cli import main
from tests.analysis_fixtures import build_study_db

WORDS = {
    "NSR": "docs question feature request typo readme",
    "MLEAK": "memory leak grows every epoch",
    "COMPL": "build fails bazel compile cmake",
}


def _documents(per_class: int, classes: tuple[str, ...]) -> tuple[pd.DataFrame, np.ndarray]:
    rows, y = [], []
    for code in classes:
        for i in range(per_class):
            text = f"{WORDS[code]} {i}"
            rows.append(
                {"issue_id": len(rows), "repository": "o/r", "number": len(rows),
                 "title": text, "body": f"{text} {text}", "labels": f"type:{code.lower()}",
                 "comments": ""}
            )  # fmt: skip
            y.append(code)
    return pd.DataFrame(rows)[DOCUMENT_COLUMNS], np.array(y)


# Enough labels to calibrate every model; and so few that the gate falls back to logistic
# regression and the category model of the gated structure sees a single class.
TRAINING_SETS = {"calibrated": _documents(3, tuple(WORDS)), "tiny": _documents(2, ("NSR", "MLEAK"))}


def test_the_shipped_model_holds_only_trusted_types():
    from classifier.model import DEFAULT_MODEL_DIR

    assert untrusted_types(artifact_types(DEFAULT_MODEL_DIR / "model.skops")) == []
    assert load_model().version


@pytest.mark.parametrize(
    ("structure", "learner", "weak_signals"),
    list(itertools.product(STRUCTURES, LEARNERS, (True, False))),
)
def test_every_model_build_pipeline_makes_loads(tmp_path, structure, learner, weak_signals):
    for name, (documents, y) in TRAINING_SETS.items():
        pipeline = build_pipeline(
            structure=structure, learner=learner, weak_signals=weak_signals, memoize_text=True
        ).fit(documents, y)
        directory = tmp_path / name
        IssueClassifier(pipeline, f"test-{name}", 0.5).save(directory)
        assert untrusted_types(artifact_types(directory / "model.skops")) == [], name
        loaded = load_model(directory)
        assert list(loaded.predict(documents)["category"]) == list(pipeline.predict(documents))


def _crafted_model(directory: Path) -> Path:
    """A pipeline that hands every issue title to builtins.exec, saved as a model directory."""
    pipeline = Pipeline(
        [
            ("select", DocumentColumns("title")),
            ("run", FunctionTransformer(np.vectorize(exec))),
            ("classifier", DummyClassifier()),
        ]
    )
    harmless, _ = _documents(1, ("NSR", "MLEAK"))
    pipeline.fit(harmless.assign(title="pass"), ["NSR", "MLEAK"])
    directory.mkdir()
    sio.dump(pipeline, directory / "model.skops")
    card = {"version": "evil", "threshold": 0.5, "trained_at": "2026-01-01T00:00:00"}
    (directory / "card.json").write_text(json.dumps(card))
    return directory


def test_a_model_that_would_run_code_is_refused_in_one_line_and_never_runs(tmp_path):
    marker = tmp_path / "ran"
    payload = f"open({str(marker)!r}, 'w').write('code ran')"
    db = tmp_path / "issues.db"
    build_study_db(f"sqlite:///{db}", per_repo=2, title=payload).dispose()
    model = _crafted_model(tmp_path / "evil")

    result = CliRunner().invoke(main, ["classify", "--db", str(db), "--model", str(model)])

    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")
    assert "builtins.exec" in result.output and "numpy.vectorize" in result.output
    assert not marker.exists()
    with pytest.raises(ModelError, match="refusing to load"):
        load_model(model)
    assert not marker.exists()
