"""notebooks/03-study-figures.ipynb runs headless against a small study database."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from miner.makkouk import import_study
from tests.analysis_fixtures import build_study_db, write_synthetic_study

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "03-study-figures.ipynb"


@pytest.mark.slow
def test_notebook_runs_headless(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    engine = build_study_db(url, per_repo=10)
    study = tmp_path / "makkouk"  # a published study's files, so its replication view shows
    study.mkdir()
    write_synthetic_study(study)
    import_study(engine, study)
    monkeypatch.setenv("MLISSUES_DB", url)  # the kernel inherits the environment
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    # The group contrast (two groups in the fixture), RQ1–RQ5 and the replication.
    assert len(images) == 7
    text = "".join(o.get("text", "") for o in outputs)
    assert "categories: 10 human" in text
    shown = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    assert shown.index("## Groups compared") < shown.index("## RQ1")
    assert "Makkouk" in shown[shown.index("## RQ5") :]
