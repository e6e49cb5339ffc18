"""What `mlissues export` pays in imports before it writes a byte, each measured in a fresh
process (median of --repeat runs):

- jsonschema, as Frictionless imports it to check the descriptor: with the optional
  rfc3987-syntax plugin that jupyter installs (it compiles grammars for the "iri" format at
  import), and as `analysis.export` imports it, with that plugin hidden;
- the statistics (`analysis.stats`: scipy.stats, lifelines, pymannkendall, scikit-posthocs),
  which the export imported before it stopped needing them;
- `analysis.export` itself, as the command imports it now.

Writes reports/benchmarks/import_costs.json.

    .venv/bin/python benchmarks/import_costs.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.measure import ROOT, aligned, load_average, machine, write_result

TIMED = "import time\nstarted = time.perf_counter()\n{code}\nprint(time.perf_counter() - started)"
CASES = {
    "jsonschema with the IRI plugin": "import jsonschema",
    "jsonschema, IRI plugin hidden (what export does)": (
        "from analysis.export import _import_jsonschema_without_iri_grammars as load\nload()"
    ),
    "analysis.stats (the export no longer imports it)": "import analysis.stats",
    "analysis.export": "import analysis.export",
}


def seconds(code: str) -> float:
    """Seconds `code` takes in a fresh interpreter (numpy and pandas loaded first, as any
    command has them: the cost measured is the case's own)."""
    script = "import numpy, pandas\n" + TIMED.format(code=code)
    if "analysis.export import _import" in code:
        # The helper's module pulls in pandas, sqlalchemy and frictionless: load them before
        # the clock starts, so that only the jsonschema import is timed.
        script = "import analysis.export\n" + script
    ran = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(ran.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    load = load_average()
    medians = {
        name: statistics.median(seconds(code) for _ in range(args.repeat))
        for name, code in CASES.items()
    }
    result = {
        "seconds": {name: round(value, 2) for name, value in medians.items()},
        "repeat": args.repeat,
        "load_before": load,
        "machine": machine(),
    }
    rows = [(name, f"{value:.2f} s") for name, value in medians.items()]
    rows += [("load average before", load), ("machine", machine())]
    write_result(result, ROOT / "reports" / "benchmarks" / "import_costs.json", aligned(rows))


if __name__ == "__main__":
    main()
