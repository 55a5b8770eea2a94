"""Run every benchmark in bench/ (each prints ratios against a baseline measured in the same run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = 0
    for script in sorted([*HERE.glob("bench_*.py"), HERE / "cds_hooks.py"]):
        print(f"== {script.name}", flush=True)
        res = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, check=False)
        failed += res.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
