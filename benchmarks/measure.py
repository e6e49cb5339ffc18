"""Run an `mlissues` command as a user would, and measure its wall time and peak memory."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    """One command's wall time (seconds) and peak resident memory (MB), its own process and
    any it waited for."""

    seconds: float
    peak_mb: float

    def as_dict(self) -> dict:
        return {"seconds": round(self.seconds, 1), "peak_rss_mb": round(self.peak_mb)}


def run_mlissues(*args: str) -> Run:
    """`python -m mlissues -q ARGS` in a child process; fails loudly when the command fails.

    os.wait4 gives the resource usage of exactly this child (RUSAGE_CHILDREN would mix in every
    child run before), so each command's peak is its own.
    """
    command = [sys.executable, "-m", "mlissues", "-q", *args]
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, command)
    return Run(seconds, usage.ru_maxrss / 1024)  # Linux reports kilobytes


def load_average() -> float:
    """The 1-minute load average: timings on a shared machine mean little without it."""
    return round(os.getloadavg()[0], 2)


def machine() -> str:
    return f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPUs"


def write_result(result: dict, out: Path, text: str) -> None:
    """Write `result` as JSON to `out` and print `text` (its table) and where it went."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(text)
    print(f"written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


def aligned(rows: list[tuple[str, object]]) -> str:
    """(name, value) rows as a two-column plain-text table, names left-aligned."""
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)
