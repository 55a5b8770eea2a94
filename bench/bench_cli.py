"""Cold start of `mbcpath recommend` against `python -c pass`, measured in the same run.

Prints the median wall time of each (several runs, fresh processes) and their ratio.
Target: `mbcpath recommend` under 1 s wall on the 2-core development machine.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATIENT = ROOT / "examples" / "patients" / "seed-01-first-line.json"
RUNS = 7


def _time(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - t0


def main() -> None:
    base = [sys.executable, "-c", "pass"]
    cli = [sys.executable, "-m", "mbcpath.cli.main", "recommend", str(PATIENT), "--format", "json"]
    _time(cli)  # warm the OS file cache once
    baseline = statistics.median(_time(base) for _ in range(RUNS))
    cold = statistics.median(_time(cli) for _ in range(RUNS))
    print(f"cli cold start: `python -c pass` median {baseline * 1000:.0f} ms; "
          f"`mbcpath recommend --format json` median {cold * 1000:.0f} ms; ratio {cold / baseline:.1f}x; "
          f"target < 1000 ms: {'met' if cold < 1.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
