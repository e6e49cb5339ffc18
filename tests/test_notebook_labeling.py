"""notebooks/02-label-issues.ipynb runs headless top to bottom and labels through the package."""

from __future__ import annotations

import csv

import nbformat
import pytest
from nbclient import NotebookClient

from classifier.labeling import LabelingSession
from tests.conftest import REPO_ROOT
from tests.test_labeling_support import annotation_rows, keras_database

NOTEBOOK = REPO_ROOT / "notebooks" / "02-label-issues.ipynb"


def _outputs(notebook) -> str:
    return "\n".join(
        output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


@pytest.mark.slow
def test_notebook_labels_reports_agreement_and_exports(corpus, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'issues.db'}"
    engine = keras_database(url, corpus)
    bob = LabelingSession(engine, "bob", "random")
    for category in ("NSR", "EXEC", "NSR", "MA", "NSR"):
        bob.label(category)
    export = tmp_path / "labels.csv"
    for name, value in {
        "MLISSUES_DB": url,
        "MLISSUES_ANNOTATOR": "alice",
        "MLISSUES_STRATEGY": "random",
        "MLISSUES_TEAM": "alice,bob",
        "MLISSUES_OVERLAP": "1.0",
        "MLISSUES_NOTEBOOK_AUTOLABEL": "3",
        "MLISSUES_LABELS_EXPORT": str(export),
    }.items():
        monkeypatch.setenv(name, value)  # the kernel inherits the environment
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, kernel_name="python3", timeout=180, resources={"metadata": {"path": tmp_path}}
    ).execute()

    alice = [row for row in annotation_rows(engine) if row[1] == "alice"]
    assert [row[2:5] for row in alice] == [("NSR", "labeled", "label")] * 3
    text = _outputs(notebook)
    assert "3 issues labeled by two or more; kappa" in text
    assert "8 annotations written to" in text
    with export.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8 and {row["annotator"] for row in rows} == {"alice", "bob"}


def test_notebook_is_stored_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
