"""Cohort benchmark (issue 14): the ``duckdb`` engine against a bare DuckDB scan of the same Parquet, the
per-patient ``python`` engine on a sample, and Spark local mode, each with wall time and peak memory.

* bare scan: DuckDB reads every row of the cohort Parquet (``count(*)`` and the length of every patient's JSON);
* duckdb engine: ``run_cohort(..., engine="duckdb")`` on the same file (parse, derive facts, the plan's SQL,
  write the answers);
* python engine: the same on a sample (the per-patient reference), reported per patient;
* spark engine: local mode on its own sample.

Each measurement runs in a fresh child process that reports its own peak RSS. Targets (issue 14): the duckdb
engine on 1,000,000 patients in at most 10 s on this 2-core machine and within 10x of the bare scan; a 10x
larger input must not need 10x the memory (the duckdb engine is also run on a tenth of the cohort).
``--quick`` uses sizes 10x smaller.

    .venv/bin/python bench/bench_cohort.py [--quick] [--seed 1] [--no-spark]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, resource, sys, time
kind, src, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
t = time.perf_counter()
if kind == "scan":
    import duckdb
    rows = duckdb.connect().execute("SELECT count(*), sum(length(patient)) FROM read_parquet(?)", [src]).fetchone()
    count = rows[0]
else:
    from mbcpath.analytics.runner import run_cohort
    from mbcpath.kb import load_kb
    kb = load_kb()
    t = time.perf_counter()  # the KB load and plan compilation are start-up, not per cohort
    count = run_cohort(src, out, engine=kind, kb=kb, batch_size=50_000 if kind != "python" else 5_000).answered
wall = time.perf_counter() - t
print(json.dumps({"kind": kind, "n": count, "wall_s": wall,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _measure(kind: str, src: Path, out: Path, n: int) -> dict:
    res = subprocess.run([sys.executable, "-c", _CHILD, kind, str(src), str(out), str(n)], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"{kind} failed: {res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _synth(n: int, seed: int, path: Path) -> float:
    from mbcpath.analytics.records import write_parquet
    from mbcpath.analytics.synth import synth_records

    t = time.perf_counter()
    write_parquet(synth_records(n, seed), path)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-spark", action="store_true")
    args = ap.parse_args()
    scale = 10 if args.quick else 1
    n_duck, n_py, n_spark = 1_000_000 // scale, 50_000 // scale, 100_000 // scale
    with tempfile.TemporaryDirectory(prefix="bench-cohort-") as tmp:
        d = Path(tmp)
        big, tenth, py_s, sp_s = d / "big.parquet", d / "tenth.parquet", d / "py.parquet", d / "spark.parquet"
        print(f"synthesising {n_duck} patients: {_synth(n_duck, args.seed, big):.1f} s", flush=True)
        _synth(n_duck // 10, args.seed, tenth)
        _synth(n_py, args.seed, py_s)
        scan = _measure("scan", big, d / "x", n_duck)
        duck = _measure("duckdb", big, d / "a.parquet", n_duck)
        duck10 = _measure("duckdb", tenth, d / "b.parquet", n_duck // 10)
        py = _measure("python", py_s, d / "c.parquet", n_py)
        results = [scan, duck, duck10, py]
        if not args.no_spark:
            _synth(n_spark, args.seed, sp_s)
            results.append(_measure("spark", sp_s, d / "e.parquet", n_spark))
    for r in results:
        print(f"{r['kind']:>7} n={r['n']:>9,} wall {r['wall_s']:8.2f} s  {r['n'] / r['wall_s']:>10,.0f} patients/s  "
              f"peak RSS {r['peak_rss_mib']:7.0f} MiB")
    ratio_scan = duck["wall_s"] / scan["wall_s"]
    per_py, per_duck = py["wall_s"] / py["n"], duck["wall_s"] / duck["n"]
    mem = duck["peak_rss_mib"] / duck10["peak_rss_mib"]
    met = "met" if ratio_scan <= 10 else "NOT met"
    print(f"RATIO cohort duckdb/bare-scan {ratio_scan:.1f}x (target <= 10x: {met})")
    print(f"RATIO cohort duckdb wall {duck['wall_s']:.1f} s for {duck['n']:,} (target <= 10 s for 1,000,000: "
          f"{'met' if duck['wall_s'] <= 10 and duck['n'] >= 1_000_000 else 'NOT met'})")
    print(f"RATIO cohort python/duckdb per patient {per_py / per_duck:.1f}x")
    print(f"RATIO cohort memory 10x input / 1x input {mem:.2f}x (target < 10x: {'met' if mem < 10 else 'NOT met'})")
    if not args.no_spark:
        sp = results[-1]
        print(f"RATIO cohort spark/duckdb per patient {(sp['wall_s'] / sp['n']) / per_duck:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
