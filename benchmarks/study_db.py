"""A fresh study database holding the Makkouk et al. (ICSME 2022) data, for the benchmarks."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy.engine import Engine

from db import open_database
from miner.makkouk import ImportSummary, import_study

STUDY = Path(__file__).resolve().parent.parent.parent / "shared" / "studies" / "makkouk-icsme2022"


def imported_study(folder: Path, study: Path = STUDY) -> tuple[Engine, ImportSummary, float]:
    """A new SQLite database in `folder` with the study imported, and the import's seconds."""
    engine = open_database(f"sqlite:///{folder / 'makkouk.db'}", create=True)
    started = time.perf_counter()
    summary = import_study(engine, study)
    return engine, summary, time.perf_counter() - started
