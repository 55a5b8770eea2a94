"""CLI start-up (issue 9, ratio 3): ``mbcpath recommend FILE --format json`` against the bare import of its
dependencies (``python -c "import typer, rich, pydantic, yaml"``), fresh processes, same run. Target <= 1.5x.

Also printed, for reference: ``python -c pass``; the same imports plus ``from pydantic import BaseModel`` (a bare
``import pydantic`` is lazy and loads none of the model machinery that any pydantic model, and typer's own
parameter parsing, needs); and a cold run without the KB snapshot (``MBCPATH_KB_SNAPSHOT=0``:
parse and validate the YAML), so the snapshot's share is visible. Median of ``--runs`` runs, alternating the
commands so that machine noise hits each alike.

    python bench/bench_cli.py [--runs 9] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATIENT = ROOT / "examples" / "patients" / "seed-01-first-line.json"
TARGET = 1.5


def _time(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--quick", action="store_true", help="5 runs")
    args = ap.parse_args()
    runs = 5 if args.quick else max(3, args.runs)
    exe = Path(sys.executable).with_name("mbcpath")
    cmds = {
        "python -c pass": ([sys.executable, "-c", "pass"], None),
        "import typer, rich, pydantic, yaml (baseline)": ([sys.executable, "-c", "import typer, rich, pydantic, yaml"],
                                                           None),
        "  same + from pydantic import BaseModel": ([sys.executable, "-c", "import typer, rich, pydantic, yaml; "
                                                     "from pydantic import BaseModel"], None),
        "mbcpath recommend --format json": ([str(exe), "recommend", str(PATIENT), "--format", "json"], None),
        "  same, KB snapshot off": ([str(exe), "recommend", str(PATIENT), "--format", "json"],
                                    dict(os.environ, MBCPATH_KB_SNAPSHOT="0")),
    }
    for cmd, env in cmds.values():  # warm the OS file cache and write the KB snapshot
        _time(cmd, env)
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(runs):
        for name, (cmd, env) in cmds.items():
            times[name].append(_time(cmd, env))
    med = {k: statistics.median(v) for k, v in times.items()}
    for name, t in med.items():
        print(f"  {name:<48} median {t * 1000:6.0f} ms")
    ratio = med["mbcpath recommend --format json"] / med["import typer, rich, pydantic, yaml (baseline)"]
    loaded = med["mbcpath recommend --format json"] / med["  same + from pydantic import BaseModel"]
    print(f"RATIO (3) `mbcpath recommend` start-up / bare import of typer, rich, pydantic, yaml: {ratio:.2f}x "
          f"(target <= {TARGET:g}x): {'met' if ratio <= TARGET else 'NOT met'}; against the import with pydantic's "
          f"BaseModel loaded (`import pydantic` alone is lazy): {loaded:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
