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

TIMED = "\n".join(
    [
        "{setup}",
        "import time",
        "start = time.perf_counter()",
        "{code}",
        "print(time.perf_counter() - start)",
    ]
)
# Each case: (what is loaded before the clock starts, what is timed). numpy and pandas come first
# in every case, as any command has them: the cost measured is the case's own.
LOADED = "import numpy, pandas"
CASES = {
    "jsonschema with the IRI plugin": (LOADED, "import jsonschema"),
    "jsonschema, IRI plugin hidden (what export does)": (
        # The helper's module brings sqlalchemy and frictionless, but not jsonschema.
        LOADED + "\nfrom analysis.export import _import_jsonschema_without_iri_grammars as load",
        "load()",
    ),
    "analysis.stats (the export no longer imports it)": (LOADED, "import analysis.stats"),
    "analysis.export": (LOADED, "import analysis.export"),
}


def seconds(setup: str, code: str) -> float:
    """Seconds `code` takes in a fresh interpreter after `setup`."""
    script = TIMED.format(setup=setup, code=code)
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
        name: statistics.median(seconds(*case) for _ in range(args.repeat))
        for name, case in CASES.items()
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
