"""Run every benchmark in bench/ (each prints ratios against a baseline measured in the same run), then the three
ratios of issue 9 together with their targets. ``--quick`` passes ``--quick`` to the benches that take it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK = {"bench_engine.py", "bench_http.py", "bench_cli.py", "bench_cohort.py"}


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    failed, ratios = 0, []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"== {script.name}", flush=True)
        cmd = [sys.executable, str(script)] + (["--quick"] if quick and script.name in QUICK else [])
        res = subprocess.run(cmd, cwd=HERE.parent, check=False, capture_output=True, text=True)
        sys.stdout.write(res.stdout)
        sys.stderr.write(res.stderr[-3000:])
        ratios += [line for line in res.stdout.splitlines() if line.startswith("RATIO")]
        failed += res.returncode != 0
    print("== issue 9 ratios (each against its baseline in this run)")
    print("\n".join(sorted(ratios)) or "(none printed)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
