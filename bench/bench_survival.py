"""Survival benchmarks: sequence Monte Carlo throughput and Guyot reconstruction time.

Prints plain lines. Throughput is compared with a plain NumPy baseline measured in the same
run (drawing the same number of Weibull variates by inversion), as a ratio, because absolute
times on shared machines mean little.

    python bench/bench_survival.py [--patients 1000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_sequence(n: int, repeats: int) -> None:
    from mbcpath.survival.distributions import Weibull
    from mbcpath.survival.fitting import FitResult
    from mbcpath.survival.sequence import Line, simulate_sequence

    dists = [Weibull(1.3, 20.0), Weibull(1.1, 9.0), Weibull(0.9, 5.0)]
    plan = [Line(f"line {i + 1}", FitResult(d, "weibull", d.theta, cov=np.diag([0.004, 0.002])))
            for i, d in enumerate(dists)]
    shapes = np.array([d.shape for d in dists])
    scales = np.array([d.scale for d in dists])

    def baseline() -> None:
        u = np.random.default_rng(1).random((n, 3))
        _ = scales * (-np.log(u)) ** (1.0 / shapes)

    t_base = _best(baseline, repeats)
    t_seq = _best(lambda: simulate_sequence(plan, n, seed=1, n_batches=100), repeats)
    t_point = _best(lambda: simulate_sequence(plan, n, seed=1, parameter_uncertainty=False), repeats)
    print(f"sequence: {n} patients x 3 lines, 100 parameter draws: {n / t_seq:,.0f} patients/s "
          f"({t_seq * 1e3:.1f} ms)")
    print(f"sequence: point estimates only: {n / t_point:,.0f} patients/s ({t_point * 1e3:.1f} ms)")
    print(f"baseline: plain numpy, {3 * n} Weibull variates: {n / t_base:,.0f} patients/s ({t_base * 1e3:.1f} ms)")
    print(f"ratio sequence/baseline time: {t_seq / t_base:.2f} (with parameter draws), {t_point / t_base:.2f} "
          "(point estimates)")


def bench_reconstruction(repeats: int) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "survival"))
    from survival_digitise import digitise, numbers_at_risk  # type: ignore[import-not-found]

    from mbcpath.survival.ipd import load_kmdata
    from mbcpath.survival.reconstruct import read_curve_csv, read_nar_csv, reconstruct

    data = ROOT / "tests" / "data" / "survival"
    t, s = read_curve_csv(data / "survhe_curve.csv")
    tr, nr = read_nar_csv(data / "survhe_nar.csv")
    ms = _best(lambda: reconstruct(t, s, tr, nr), repeats) * 1e3
    print(f"reconstruction: survHE example (31 clicks, 5 NAR intervals): {ms:.2f} ms per arm")
    for file, arm in (("cleopatra_2a.csv", "control"), ("cleopatra_3a.csv", "pertuzumab")):
        tt, ee = load_kmdata(file, arm)
        tr, nr = numbers_at_risk(tt, 6.0)
        for clicks in (50, 400):
            ct, cs = digitise(tt, ee, n_clicks=clicks, sd_t=0.003, sd_s=0.004, rng=np.random.default_rng(0))
            ms = _best(lambda ct=ct, cs=cs, tr=tr, nr=nr: reconstruct(ct, cs, tr, nr), repeats) * 1e3
            print(f"reconstruction: {file} {arm} ({ct.size} clicks, {tr.size} NAR intervals): {ms:.2f} ms per arm")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    bench_sequence(args.patients, args.repeats)
    bench_reconstruction(args.repeats)


if __name__ == "__main__":
    main()
