"""Engine benchmark (issue 9, ratio 1): ``recommend`` with its explanations against validation only, in the same
process over the same patients. Target: the engine within 5x the validation time.

* baseline: ``parse_patient`` of every raw JSON-ready dict (the contract's strict validation, nothing else);
* engine: ``recommend`` of every validated patient; explanations are part of every answer (criteria met / not
  met / unknown with the facts used, gate reasons, trial fit per cited trial, rationale);
* engine + bytes: ``recommend`` then the wire bytes (what the API sends and the CLI prints).

Patients: the answered vignettes (tests/cases) and seeded random patients (tests/strategies.py). Validation and
engine runs alternate round by round after a warm-up (KB load and the compiled plan are not timed); the ratio is
the median round's.

    .venv/bin/python bench/bench_engine.py [-n 3000] [--seed 1] [--repeat 3] [--profile] [--quick]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

TARGET = 5.0


def _best(fn: Callable[[], None], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _vignettes() -> list[dict[str, Any]]:
    out = []
    for path in sorted((ROOT / "tests" / "cases").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not doc["expect"].get("reject"):
            out.append(doc["patient"])
    return out


def measure(raws: list[dict[str, Any]], repeat: int) -> dict[str, float]:
    """Seconds for validation only, the engine, and engine + wire bytes over ``raws``."""
    from mbcpath.domain.validation import parse_patient
    from mbcpath.domain.wire import recommendation_bytes
    from mbcpath.engine.core import recommend
    from mbcpath.kb import load_kb

    kb = load_kb()
    patients = [parse_patient(r) for r in raws]
    for p in patients[:50]:
        recommend(p, kb)
    # Validation and engine alternate round by round (the machine is shared: a load that comes and goes hits
    # both sides of each round's ratio); the ratio is the median of the rounds'.
    rounds = []
    for _ in range(max(repeat, 3)):
        tv = _best(lambda: [parse_patient(r) for r in raws], 1)
        te = _best(lambda: [recommend(p, kb) for p in patients], 1)
        rounds.append((te / tv, tv, te))
    rounds.sort()
    _ratio, tv, te = rounds[len(rounds) // 2]
    return {
        "validate": tv,
        "engine": te,
        "engine_bytes": _best(lambda: [recommendation_bytes(recommend(p, kb)) for p in patients], repeat),
    }


def _profile(raws: list[dict[str, Any]]) -> None:
    from mbcpath.domain.validation import parse_patient
    from mbcpath.engine.core import recommend
    from mbcpath.kb import load_kb

    kb = load_kb()
    patients = [parse_patient(r) for r in raws]
    prof = cProfile.Profile()
    prof.enable()
    for p in patients:
        recommend(p, kb)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("tottime").print_stats(20)
    print(buf.getvalue()[:6000])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=3000, help="random patients (default 3000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="500 random patients")
    ap.add_argument("--profile", action="store_true", help="cProfile the engine, print the top hotspots")
    args = ap.parse_args(argv)
    from strategies import random_patients

    sets = {"vignettes": _vignettes() * 20, "random": random_patients(500 if args.quick else args.n, seed=args.seed)}
    ratios = []
    for name, raws in sets.items():
        t = measure(raws, args.repeat)
        n = len(raws)
        ratio = t["engine"] / t["validate"]
        ratios.append(ratio)
        print(f"  {name:<9} n={n:>5}: validate {n / t['validate']:8.0f}/s, recommend {n / t['engine']:7.0f}/s, "
              f"recommend + bytes {n / t['engine_bytes']:7.0f}/s; engine = {ratio:.1f}x validation, "
              f"with bytes {t['engine_bytes'] / t['validate']:.1f}x")
    worst = max(ratios)
    print(f"RATIO (1) engine with explanations / validation only: {worst:.1f}x (worst of vignettes and random "
          f"patients; target <= {TARGET:g}x): {'met' if worst <= TARGET else 'NOT met'}")
    if args.profile:
        _profile(sets["vignettes"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
