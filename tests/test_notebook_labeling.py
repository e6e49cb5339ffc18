"""notebooks/02-label-issues.ipynb runs headless top to bottom and labels through the package."""

from __future__ import annotations

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
def test_notebook_after_make_demo_labels_reports_agreement_and_writes_no_file(
    corpus, tmp_path, monkeypatch
):
    """Laid out as `make demo` leaves a checkout (data/demo/issues.db, no data/issues.db), the
    notebook finds the database itself, labels, reports agreement, and writes no export file
    unless asked (issue 12, items 12 and 14)."""
    (tmp_path / "notebooks").mkdir()
    demo = tmp_path / "data" / "demo" / "issues.db"
    demo.parent.mkdir(parents=True)
    engine = keras_database(f"sqlite:///{demo}", corpus)
    bob = LabelingSession(engine, "bob", "random")
    for category in ("NSR", "EXEC", "NSR", "MA", "NSR"):
        bob.label(category)
    monkeypatch.delenv("MLISSUES_DB", raising=False)
    monkeypatch.delenv("MLISSUES_LABELS_EXPORT", raising=False)
    for name, value in {
        "MLISSUES_ANNOTATOR": "alice",
        "MLISSUES_TEAM": "alice,bob",
        "MLISSUES_OVERLAP": "1.0",
        "MLISSUES_NOTEBOOK_AUTOLABEL": "3",
    }.items():
        monkeypatch.setenv(name, value)  # the kernel inherits the environment
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=180,
        resources={"metadata": {"path": tmp_path / "notebooks"}},
    ).execute()

    alice = [row for row in annotation_rows(engine) if row[1] == "alice"]
    assert [row[2:5] for row in alice] == [("NSR", "labeled", "label")] * 3
    text = _outputs(notebook)
    assert "balanced-margin Progress(answered=3" in text
    assert "3 issues labeled by two or more; kappa" in text
    assert "Set EXPORT in the first cell" in text
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["demo"]


def test_notebook_is_stored_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
