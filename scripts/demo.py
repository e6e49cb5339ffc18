"""The main job end to end on a throw-away database under data/demo/ (run by `make demo`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEMO_DB = Path("data/demo/issues.db")


def mlissues(*args: str) -> None:
    print(f"$ mlissues {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", "mlissues", *args], check=True)


def main() -> None:
    DEMO_DB.parent.mkdir(parents=True, exist_ok=True)
    mlissues("init-db", "--db", str(DEMO_DB))
    mlissues("status", "--db", str(DEMO_DB))
    print(f"\ndatabase: {DEMO_DB}")


if __name__ == "__main__":
    main()
